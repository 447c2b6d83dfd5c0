"""Lift nested functions and lambdas out of the function being differentiated.

``def inner(v): return v * w`` inside ``f`` becomes a function of its own that takes the outer
variables it reads as keyword arguments (``inner(v, *, w)``), and every call ``inner(a)`` becomes
``inner(a, w=w)``. A closure sees the outer variables' values at call time, and so does this.
The lifted function is then differentiated like any helper of the user's, with a generated
derivative of its own.
"""
import ast
import builtins

import gast
import numpy as np

from .analyze import assigned_names, loaded_names, parameter_names
from .build import clone
from .parse import ParsedFunction, register_parsed


class Lifting:
    """Collects the nested functions of one function body and lifts them."""

    def __init__(self, parsed):
        self.parsed = parsed
        self.nested = {}  # name -> FunctionDef

    def take(self, stmt):
        """Remember a nested def (or ``name = lambda ...``); it leaves the body."""
        if isinstance(stmt, gast.Assign):
            lam = stmt.value
            stmt = gast.FunctionDef(name=stmt.targets[0].id, args=lam.args,
                                    body=[gast.copy_location(gast.Return(value=lam.body), stmt)],
                                    decorator_list=[], returns=None, type_comment=None,
                                    type_params=[])
            gast.copy_location(stmt, lam)
        if stmt.decorator_list:
            raise self.parsed.unsupported(stmt, "a decorated nested function",
                                          "define the decorated function at module level")
        self.nested[stmt.name] = stmt

    def lift(self, body, outer_locals):
        """Rewrite calls in ``body`` and make each nested function a real one; returns body."""
        if not self.nested:
            return body
        captured = {}
        for name, tree in self.nested.items():
            own = set(parameter_names(tree)) | assigned_names(tree.body)
            reads = set().union(*(loaded_names(s) for s in tree.body))
            captured[name] = sorted(((reads - own) & (outer_locals - set(self.nested))) |
                                    self.data_globals(reads - own - outer_locals))
        scope = dict(self.parsed.namespace)
        for name, tree in self.nested.items():
            lifted = clone(tree)
            for variable in captured[name]:
                lifted.args.kwonlyargs.append(gast.Name(id=variable, ctx=gast.Param(),
                                                        annotation=None, type_comment=None))
                lifted.args.kw_defaults.append(None)
            lifted.body = [self.rewrite_calls(s, captured) for s in lifted.body]
            module = gast.gast_to_ast(gast.Module(body=[clone(lifted)], type_ignores=[]))
            exec(compile(ast.fix_missing_locations(module), self.parsed.filename, "exec"), scope)
            function = scope[name]
            register_parsed(function, ParsedFunction(function, lifted, self.parsed.filename,
                                                     self.parsed.source_lines, scope))
            self.parsed.namespace[name] = function
        return [self.rewrite_calls(s, captured) for s in body]

    def data_globals(self, names):
        """The module globals (and the outer function's own closure variables) among ``names``
        that hold numbers or arrays. The lifted function runs in a copy of the module's
        namespace, which would keep the values they had when it was lifted: it takes them as
        arguments instead, read where it is called, as the outer function reads its globals
        (``SCALE = 3.0`` rebound between calls is seen)."""
        found = set()
        for name in names - set(self.nested):
            value = self.parsed.namespace.get(name)
            if name not in vars(builtins) and isinstance(value, (int, float, complex, np.ndarray,
                                                                 np.generic)):
                found.add(name)
        return found

    @staticmethod
    def rewrite_calls(stmt, captured):
        """``inner(a)`` -> ``inner(a, w=w)`` for the outer variables ``inner`` reads."""
        for node in gast.walk(stmt):
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
                    node.func.id in captured:
                present = {k.arg for k in node.keywords}
                for variable in captured[node.func.id]:
                    if variable not in present:
                        node.keywords.append(gast.keyword(
                            arg=variable, value=gast.Name(id=variable, ctx=gast.Load(),
                                                          annotation=None, type_comment=None)))
        return stmt
