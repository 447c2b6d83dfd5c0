"""Rewrite a function body into the small core the derivative passes work on.

Two steps. ``desugar`` is purely syntactic: augmented assignment, chained and tuple assignment and
annotated assignment become plain assignments, and constructs outside the supported language are
refused with the user's file and line. ``to_anf`` then splits every *active* expression so that
each assignment performs one differentiable operation on names (A-normal form); expressions that
carry no derivative (shapes, comparisons, loop bounds) are left as the user wrote them.
"""
import importlib
import logging

import gast
import numpy as np

from ..errors import NoDerivativeRule
from ..runtime import copy_of, field, scattered
from .analyze import assigned_names, index_trick, mutated_names, nodes_in
from . import contexts
from .closures import Lifting
from .build import (as_load, assign, call, clone, constant, load, located, replace_in_blocks,
                    store, subscript)
from .aliasing import AliasingChecks, generated_tape
from .desugar_loops import LoopDesugaring, has_comprehension
from .anf_calls import CallsToANF
from .parse import dotted_name
from .scope import resolve
from .mode import appended_list, popped_list, replace

OPERATOR_WORDS = {gast.Add: "plus", gast.Sub: "minus", gast.Mult: "times", gast.Div: "over",
                  gast.Pow: "pow", gast.MatMult: "at", gast.USub: "neg", gast.UAdd: "pos"}


def _origin(stmt, parsed):
    """The user's line and text a statement came from, for comments in generated code."""
    return (stmt.lineno, parsed.line_text(stmt.lineno))


class Desugar(AliasingChecks, LoopDesugaring):
    """Plain assignments only, with every statement tagged by the user line it came from."""

    def __init__(self, parsed, names):
        self.parsed = parsed
        self.names = names
        self.element_writes = []  # (array name, statement) of every y[...] = value
        self.lifting = Lifting(parsed)
        # (first line, last line, context expressions) of each with block (contexts.py)
        self.contexts = []

    def function(self, tree):
        body = list(tree.body)
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]  # the docstring
        for node in nodes_in(gast.Module(body=body, type_ignores=[])):
            if isinstance(node, gast.Return) and node.value is None:
                raise self.parsed.unsupported(node, f"a return without a value in {tree.name}",
                                              "return the value to differentiate")
        if not body:
            raise self.parsed.unsupported(tree, f"{tree.name}, which returns no value",
                                          "end the function with `return <value>`")
        body = self.ufunc_at_as_updates(body)
        self.check_in_place_updates(body)
        self.tape = generated_tape(body, self.parsed)
        body = self.block(body, top=True)
        params = [a.id for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs]
        body = self.lifting.lift(body, set(params) | assigned_names(body))
        self.check_element_writes(body, params)
        return body

    def ufunc_at_as_updates(self, stmts):
        """``np.add.at(a, i, v)`` -> ``a += scattered(a, i, v)`` (``np.subtract.at``: ``-=``):
        the same change of ``a``, repeated indices included, as an update the in-place checks
        see and the derivative reads as ``a = a + ...``."""
        return replace_in_blocks(stmts, self._ufunc_at_as_update)

    def _ufunc_at_as_update(self, stmt):
        value = getattr(stmt, "value", None)
        function = resolve(value.func, self.parsed.namespace, set()) \
            if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) else None
        op = {np.add.at: gast.Add, np.subtract.at: gast.Sub}.get(function) \
            if callable(function) and getattr(function, "__name__", None) == "at" else None
        if op is None:
            return [stmt]
        if len(value.args) != 3 or value.keywords or not isinstance(value.args[0], gast.Name):
            raise self.parsed.unsupported(stmt, f"{dotted_name(value.func)}(...) without an "
                                          "array name and two arguments",
                                          "write np.add.at(a, indices, values)")
        into = value.args[0].id
        update = gast.AugAssign(target=store(into), op=op(), value=call(
            self.runtime_name("scattered", scattered, stmt), load(into), value.args[1],
            value.args[2]))
        return [located(update, stmt)]

    def block(self, stmts, top=False):
        out = []
        for stmt in stmts:
            stmt.sg_origin = getattr(stmt, "sg_origin", None) or _origin(stmt, self.parsed)
            out.extend(self.statement(stmt, top))
        return out

    def statement(self, stmt, top):
        if _own_named_expressions(stmt):
            return self.block(self.without_named_expressions(stmt))
        if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Return, gast.Expr)) \
                and getattr(stmt, "value", None) is not None and has_comprehension(stmt.value):
            loops = []
            stmt.value = self.hoist_comprehensions(stmt.value, loops, stmt)
            return [s for loop in loops for s in self.block(loop)] + self.statement(stmt, top)
        if isinstance(stmt, (gast.Import, gast.ImportFrom)):
            self.import_now(stmt)
            return []
        if isinstance(stmt, (gast.Return, gast.Break, gast.Continue, gast.Raise, gast.Assert)):
            return [stmt]  # a raise or an assert runs in the primal; it has no derivative
        if isinstance(stmt, gast.FunctionDef) or (
                isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Lambda) and
                len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)):
            self.lifting.take(stmt)
            return []
        if isinstance(stmt, gast.Pass):
            return []
        if isinstance(stmt, gast.With):  # np.errstate, warnings.catch_warnings (the fence)
            self.contexts.append((stmt.lineno, getattr(stmt, "end_lineno", None) or stmt.lineno,
                                  [clone(item.context_expr) for item in stmt.items],
                                  [clone(s) for s in contexts.filters(self.parsed, stmt.body)]))
            return self.block(stmt.body)
        if isinstance(stmt, gast.Expr):
            if isinstance(stmt.value, (gast.Yield, gast.YieldFrom, gast.Await)):
                raise self.parsed.unsupported(stmt, "a generator (yield)",
                                              "return a value or a list instead")
            if isinstance(stmt.value, gast.Constant):
                return []
            if popped_list(stmt.value) is not None:  # the adjoint puts the value back
                name = self.names.fresh(popped_list(stmt.value) + "_last")
                return [located(assign(name, stmt.value), stmt)]
            return [stmt]
        if isinstance(stmt, gast.AugAssign):
            self._check_target(stmt.target, stmt, element=True)
            if isinstance(stmt.target, gast.Subscript):  # y[i] += v  ->  y[i] = y[i] + v
                read = gast.Subscript(value=as_load(stmt.target.value), slice=stmt.target.slice,
                                      ctx=gast.Load())
                value = gast.BinOp(left=read, op=stmt.op, right=stmt.value)
                target = gast.Subscript(value=stmt.target.value, slice=stmt.target.slice,
                                        ctx=gast.Store())
                before = self.index_before_write(stmt, target, read)
                return before + [located(gast.Assign(targets=[target], value=value,
                                                     type_comment=None), stmt)]
            value = gast.BinOp(left=as_load(stmt.target), op=stmt.op, right=stmt.value)
            guard = [self.in_place_guard(stmt)] if hasattr(stmt, "sg_shared_with") else []
            return guard + [located(assign(stmt.target.id, value), stmt)]
        if isinstance(stmt, gast.AnnAssign):
            if stmt.value is None:
                return []
            self._check_target(stmt.target, stmt)
            return [located(assign(stmt.target.id, stmt.value), stmt)]
        if isinstance(stmt, gast.Assign):
            return self.assignment(stmt)
        if isinstance(stmt, gast.If):
            stmt.body = self.block(stmt.body)
            stmt.orelse = self.block(stmt.orelse)
            return [stmt]
        if isinstance(stmt, (gast.For, gast.While)):
            if stmt.orelse:
                raise self.parsed.unsupported(stmt, "an else clause on a loop",
                                              "set a flag in the loop and test it afterwards")
            prefix = []
            if isinstance(stmt, gast.For):
                prefix = self.block(self.dict_loop(stmt))
            if isinstance(stmt, gast.For) and not isinstance(stmt.target, gast.Name):
                prefix += self.block(self.unpacking_loop(stmt))
            stmt.body = self.block(stmt.body)
            return prefix + [stmt]
        raise self.parsed.unsupported(stmt, f"the statement {type(stmt).__name__}")

    def without_named_expressions(self, stmt):
        """``if (s := f(x)) > 0:`` -> ``s = f(x)`` then ``if s > 0:``, in evaluation order.

        A ``while`` test is evaluated before every iteration, so ``while (s := f(x)) > 0:``
        becomes ``while True:`` whose body starts with ``s = f(x)`` and ``if not s > 0: break``.
        """
        if isinstance(stmt, gast.While):
            exit_test = located(gast.If(test=gast.UnaryOp(op=gast.Not(), operand=stmt.test),
                                        body=[located(gast.Break(), stmt)], orelse=[]), stmt)
            return [replace(stmt, test=constant(True), body=[exit_test] + stmt.body)]
        hoist = _HoistNamedExpressions(self.parsed, stmt)
        for field in _EXPRESSION_FIELDS.get(type(stmt), ()):
            value = getattr(stmt, field)
            if isinstance(value, list):
                setattr(stmt, field, [hoist.visit(v) for v in value])
            elif value is not None:
                setattr(stmt, field, hoist.visit(value))
        return hoist.hoisted + [stmt]

    def import_now(self, stmt):
        """``import math`` inside the function: imported once, here, and read as a global."""
        namespace = self.parsed.namespace
        package = namespace.get("__package__") or None
        try:
            for alias in stmt.names:
                if isinstance(stmt, gast.Import):
                    module = importlib.import_module(alias.name)
                    if alias.asname:
                        namespace[alias.asname] = module
                    else:
                        top = alias.name.split(".")[0]
                        namespace[top] = importlib.import_module(top)
                    continue
                if alias.name == "*":
                    raise self.parsed.unsupported(stmt, "from ... import * inside the function",
                                                  "import the names you use by name")
                origin = "." * (stmt.level or 0) + (stmt.module or "")
                module = importlib.import_module(origin, package)
                value = getattr(module, alias.name, None)
                if value is None:
                    value = importlib.import_module(f"{module.__name__}.{alias.name}")
                namespace[alias.asname or alias.name] = value
        except ImportError as error:
            raise self.parsed.unsupported(stmt, f"an import that fails ({error})",
                                          "fix the import; it runs when srcgrad reads the "
                                          "function") from None

    def _check_target(self, target, stmt, element=False):
        if isinstance(target, gast.Name):
            return
        if isinstance(target, gast.Subscript) and element:
            if not isinstance(target.value, gast.Name):
                raise self.parsed.unsupported(
                    stmt, "assignment into an element of an element (y[i][j] = ...)",
                    "index once: y[i, j] = ...")
            self.element_writes.append((target.value.id, stmt))
            return
        if isinstance(target, gast.Subscript):
            raise self.parsed.unsupported(
                stmt, "assignment into an element inside a tuple assignment",
                "assign each element on its own line")
        raise self.parsed.unsupported(stmt, f"assignment to {type(target).__name__.lower()}",
                                      "assign to a plain local name")

    def assignment(self, stmt):
        value = stmt.value
        out = []
        if len(stmt.targets) > 1:  # a = b = value
            first, *rest = stmt.targets
            self._check_target(first, stmt) if not isinstance(first, gast.Tuple) else None
            out.extend(self.assignment(located(gast.Assign(targets=[first], value=value,
                                                           type_comment=None), stmt)))
            for target in rest:
                out.extend(self.assignment(located(gast.Assign(
                    targets=[target], value=as_load(first), type_comment=None), stmt)))
            return out
        target = stmt.targets[0]
        if isinstance(target, (gast.Tuple, gast.List)) and \
                any(isinstance(e, gast.Subscript) for e in target.elts) and \
                isinstance(value, (gast.Tuple, gast.List)) and \
                len(value.elts) == len(target.elts) and \
                all(isinstance(e, (gast.Name, gast.Subscript)) for e in target.elts):
            # c[0], d[0] = u, v: every right-hand side evaluated first, then each target
            # assigned in order, as Python does.
            written = {e.value.id for e in target.elts
                       if isinstance(e, gast.Subscript) and isinstance(e.value, gast.Name)}
            if any(isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name) and
                   n.value.id in written for part in value.elts for n in gast.walk(part)):
                names = ", ".join(sorted(written))
                raise self.parsed.unsupported(
                    stmt, f"a tuple assignment into elements of {names} that reads elements of "
                    f"{names} (a swap: an element read may be a view, which the first write "
                    "changes before the second reads it)",
                    "swap with one fancy-indexed write, which copies what it reads: "
                    "y[[i, j]] = y[[j, i]]")
            temps = []
            for element, part in zip(target.elts, value.elts):
                if isinstance(part, gast.Constant):
                    temps.append(part)
                    continue
                owner = element.value if isinstance(element, gast.Subscript) else element
                temp = self.names.fresh((owner.id if isinstance(owner, gast.Name) else "item")
                                        + "_new")
                out.append(located(assign(temp, part), stmt))
                temps.append(load(temp))
            for element, temp in zip(target.elts, temps):
                out.extend(self.assignment(located(gast.Assign(
                    targets=[element], value=temp, type_comment=None), stmt)))
            return out
        if isinstance(target, (gast.Tuple, gast.List)):
            for element in target.elts:
                self._check_target(element, stmt)
            if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts):
                # a, b = b, a: evaluate every right-hand side before binding any name.
                bound = {element.id for element in target.elts}
                temps = []
                for element, part in zip(target.elts, value.elts):
                    if _names(part) & bound:  # it reads a name this statement rebinds
                        temp = self.names.fresh(element.id + "_new")
                        out.append(located(assign(temp, part), stmt))
                        temps.append(load(temp))
                    else:
                        temps.append(part)
                out.extend(located(assign(e.id, t), stmt) for e, t in zip(target.elts, temps))
                return out
            return [stmt]  # unpacking a value: split by to_anf if it is active
        self._check_target(target, stmt, element=True)
        return self.index_before_write(stmt, target) + [stmt]

    def index_before_write(self, stmt, target, *reads):
        """``y[y < 0] = v`` -> ``y_where = y < 0`` then ``y[y_where] = v``: an index that
        reads the array written is computed once, before the write, so the derivative (which
        puts the overwritten elements back after the write) uses the same elements; ``reads``
        are other subscripts of the same index (``y[i] = y[i] + v``) rewritten alike. Returns
        the statements to run before ``stmt``."""
        base = target.value.id if isinstance(target, gast.Subscript) and \
            isinstance(target.value, gast.Name) else None
        before = []

        def fixed(part):
            if part is None or not any(isinstance(n, gast.Name) and n.id == base
                                       for n in nodes_in(part)):
                return part
            name = self.names.fresh(base + "_where")
            before.append(located(assign(name, part), stmt))
            return load(name)

        def fixed_slice(index):
            if isinstance(index, gast.Tuple):
                return gast.Tuple(elts=[fixed_slice(e) for e in index.elts], ctx=gast.Load())
            if isinstance(index, gast.Slice):
                return gast.Slice(lower=fixed(index.lower), upper=fixed(index.upper),
                                  step=fixed(index.step))
            return fixed(index)

        if base is not None:
            index = fixed_slice(target.slice)
            if before:
                for subscript_node in (target,) + reads:
                    subscript_node.slice = clone(index)
        return before


def _own_named_expressions(stmt):
    """The ``name := value`` expressions ``stmt`` evaluates itself."""
    found = []
    for field in _EXPRESSION_FIELDS.get(type(stmt), ()):
        value = getattr(stmt, field)
        for root in value if isinstance(value, list) else [value]:
            if root is not None and any(type(n) is gast.NamedExpr for n in nodes_in(root)):
                found += [n for n in gast.walk(root) if isinstance(n, gast.NamedExpr)]
    return found


class _HoistNamedExpressions(gast.NodeTransformer):
    """Moves each ``name := value`` that always runs out in front of its statement."""

    def __init__(self, parsed, stmt):
        self.parsed, self.stmt, self.hoisted = parsed, stmt, []
        for named in _own_named_expressions(stmt):
            position = (named.lineno, named.col_offset)
            for field in _EXPRESSION_FIELDS[type(stmt)]:
                value = getattr(stmt, field)
                for root in value if isinstance(value, list) else [value]:
                    for node in gast.walk(root) if root is not None else ():
                        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and \
                                node.id == named.target.id and \
                                (node.lineno, node.col_offset) < position:
                            raise parsed.unsupported(
                                stmt, f"{named.target.id} read before the := that binds it "
                                f"in the same statement", "bind it on a line of its own first")

    def visit_NamedExpr(self, node):
        self.generic_visit(node)  # an inner := runs first
        self.hoisted.append(located(assign(node.target.id, node.value), self.stmt))
        return load(node.target.id)

    def refuse_inside(self, node, where):
        if any(isinstance(n, gast.NamedExpr) for n in nodes_in(node)):
            raise self.parsed.unsupported(
                self.stmt, f"an assignment expression (:=) {where}",
                "bind the value on a line of its own, inside an if statement if it is conditional")
        return node

    def visit_BoolOp(self, node):
        node.values = [self.visit(node.values[0])] + [
            self.refuse_inside(v, "that and/or may skip") for v in node.values[1:]]
        return node

    def visit_IfExp(self, node):
        node.test = self.visit(node.test)
        self.refuse_inside(node.body, "in a branch of a conditional expression")
        self.refuse_inside(node.orelse, "in a branch of a conditional expression")
        return node

    def visit_ListComp(self, node):
        return self.refuse_inside(node, "inside a comprehension")

    visit_GeneratorExp = visit_SetComp = visit_DictComp = visit_Lambda = visit_ListComp


# The expressions a statement evaluates itself (not those of the statements it contains).
_EXPRESSION_FIELDS = {
    gast.Assign: ("value", "targets"), gast.AugAssign: ("value", "target"),
    gast.AnnAssign: ("value",), gast.Return: ("value",), gast.Expr: ("value",),
    gast.If: ("test",), gast.For: ("iter",), gast.While: ("test",),
    gast.Raise: ("exc", "cause"), gast.Assert: ("test", "msg"),
}


def _names(node):
    return {n.id for n in nodes_in(node) if isinstance(n, gast.Name)}


class ToANF(CallsToANF):
    """One differentiable operation per assignment, operands reduced to names and constants."""

    def __init__(self, parsed, names, activity, local_names, binder):
        self.parsed = parsed
        self.binder = binder
        self.names = names
        self.activity = activity
        self.locals = local_names
        self.loop = None  # the innermost loop being normalized: views are shared only inside it
        self.view_names = {}
        self.written = None  # arrays the function writes into element by element
        self.list_literals = set()  # names bound to a list the function builds

    def block(self, stmts):
        if self.written is None:
            nodes = list(nodes_in(gast.Module(body=stmts, type_ignores=[])))
            self.written = {node.targets[0].value.id for node in nodes
                            if isinstance(node, gast.Assign) and
                            isinstance(node.targets[0], gast.Subscript)}
            self.list_literals = {node.targets[0].id for node in nodes
                                  if isinstance(node, gast.Assign) and
                                  isinstance(node.targets[0], gast.Name) and
                                  isinstance(node.value, gast.List)}
            # rows = [f(v) for v in xs] is rows = items, items a list built by a loop
            copies = [(node.targets[0].id, node.value.id) for node in nodes
                      if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name)
                      and isinstance(node.value, gast.Name)]
            grown = True
            while grown:
                more = {target for target, source in copies if source in self.list_literals}
                grown = not more <= self.list_literals
                self.list_literals |= more
        out = []
        for stmt in stmts:
            out.extend(self.statement(stmt))
        return out

    def statement(self, stmt):
        self.current = stmt
        self.views_of_statement = set()
        value = getattr(stmt, "value", None)
        if isinstance(value, gast.AST) and self.activity.is_varied(value) and any(
                isinstance(n, gast.Constant) and isinstance(n.value, complex)
                for n in nodes_in(value)):
            raise self.unsupported(stmt, "a complex number in a differentiated computation "
                                   "(srcgrad differentiates real functions)",
                                   "compute with the real and imaginary parts as real arrays")
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Subscript) and popped_list(stmt.value):
                # y[i] = items.pop(): the pop gets a line of its own, whose adjoint puts the
                # item back (code that restores elements, differentiated again)
                item = self.names.fresh(popped_list(stmt.value) + "_last")
                popped = located(assign(item, stmt.value), stmt)
                stmt.value = load(item)
                return [popped, stmt]
            if not self.activity.is_varied(stmt.value):
                return [stmt]

            if isinstance(target, gast.Subscript):  # y[i] = value: the value becomes a name
                if self.activity.is_varied(target.slice):
                    raise self.unsupported(stmt, "an index computed from a differentiated value",
                                           "compute integer indices from shapes or int(...)")
                out = []
                stmt.value = self.atom(stmt.value, out, target.value.id + "_part")
                return out + [stmt]
            if isinstance(target, gast.Name):
                out = []
                value = self.operation(stmt.value, out, target.id)
                out.append(located(assign(target.id, value), stmt))
                return out
            out = []
            if isinstance(stmt.value, gast.Call):  # p, q = helper(x): the call returns both
                value = self.operation(stmt.value, out, "_".join(e.id for e in target.elts))
                if getattr(value, "sg_user_function", None) is not None:
                    out.append(located(gast.Assign(targets=[target], value=value,
                                                   type_comment=None), stmt))
                    return out
                name = self.names.fresh("_".join(e.id for e in target.elts))
                out.append(located(assign(name, value), stmt))
                whole = load(name)
            else:  # a, b = active value: index it
                whole = self.atom(stmt.value, out, "_".join(e.id for e in target.elts))
            for position, element in enumerate(target.elts):
                out.append(located(assign(element.id, subscript(whole, constant(position))), stmt))
            return out
        appended = appended_list(stmt)
        if appended is not None and self.activity.is_varied(appended[1]):
            out = []
            stmt.value.args = [self.atom(appended[1], out, appended[0] + "_item")]
            return out + [stmt]
        if isinstance(stmt, gast.Expr) and appended is None and isinstance(stmt.value, gast.Call) \
                and self.activity.is_varied(stmt.value):
            function = resolve(stmt.value.func, self.parsed.namespace, self.locals)
            if not _only_reports(function):  # its only effect would be on its arguments: unseen
                raise self.unsupported(
                    stmt, f"the call {dotted_name(stmt.value.func)}(...) whose result is discarded",
                    "srcgrad differentiates values, not changes made in place: assign the "
                    "result, e.g. y = f(x)")
        if isinstance(stmt, gast.If):
            stmt.body, stmt.orelse = self.block(stmt.body), self.block(stmt.orelse)
            return [stmt]
        if isinstance(stmt, gast.While):
            stmt.body = self.loop_block(stmt)
            return [stmt]
        if isinstance(stmt, gast.For):
            out = []
            if isinstance(stmt.target, gast.Name) and not self.activity.is_varied(stmt.iter) \
                    and stmt.target.id in assigned_names(stmt.body):
                # for e in X: e = e - a  ->  for e_value in X: e = e_value; e = e - a. Each
                # iteration binds e afresh to a constant: its adjoint must not carry over from
                # the iteration after (a silent doubling), which the assignment makes explicit.
                value = self.names.fresh(stmt.target.id + "_value")
                stmt.body = [located(assign(stmt.target.id, load(value)), stmt)] + stmt.body
                stmt.target = store(value)
            if self.activity.is_varied(stmt.iter):
                if isinstance(stmt.iter, gast.Call) and len(stmt.iter.args) == 1 and \
                        not stmt.iter.keywords and resolve(
                            stmt.iter.func, self.parsed.namespace, self.locals) is reversed:
                    # for row in reversed(X): the rows of X[::-1] (a sequence's reversed
                    # iterator yields the same), which indexing differentiates
                    stmt.iter = gast.Subscript(value=stmt.iter.args[0], slice=gast.Slice(
                        lower=None, upper=None, step=constant(-1)), ctx=gast.Load())
                # for row in X  ->  for row_index in range(len(X)): row = X[row_index]
                rows = self.atom(stmt.iter, out, stmt.target.id + "_rows")
                if isinstance(rows, gast.Name) and rows.id in assigned_names(stmt.body):
                    # The loop runs over the array it started with, whatever the body rebinds.
                    original = self.names.fresh(stmt.target.id + "_rows")
                    out.append(located(assign(original, rows), stmt))
                    rows = load(original)
                index = self.names.fresh(stmt.target.id + "_index")
                first = located(assign(stmt.target.id, subscript(rows, load(index))), stmt)
                stmt.body = [first] + stmt.body
                stmt.iter = call("range", call("len", rows))
                stmt.target = store(index)
            stmt.body = self.loop_block(stmt)
            out.append(stmt)
            return out
        if isinstance(stmt, gast.Return):
            if isinstance(stmt.value, gast.Tuple) and self.activity.is_varied(stmt.value):
                out = []
                stmt.value = gast.Tuple(elts=[self.atom(e, out, "result") for e in stmt.value.elts],
                                        ctx=gast.Load())
                return out + [stmt]
            if self.activity.is_varied(stmt.value) and not isinstance(stmt.value, gast.Name):
                out = []
                name = self.names.fresh("result")
                out.append(located(assign(name, self.operation(stmt.value, out, name)), stmt))
                stmt.value = load(name)
                out.append(stmt)
                return out
            return [stmt]
        return [stmt]

    def loop_block(self, loop):
        outer, self.loop = self.loop, id(loop)
        body = self.block(loop.body)
        self.loop = outer
        return body

    # -- expressions -------------------------------------------------------------------------
    def atom(self, expr, out, hint):
        """A name or constant holding the value of ``expr``; earlier steps go to ``out``."""
        if isinstance(expr, (gast.Name, gast.Constant)):
            return expr
        if not self.activity.is_varied(expr) and _is_plain(expr):
            return expr
        value = self.operation(expr, out, hint) if self.activity.is_varied(expr) else expr
        if _is_view(value) and value.value.id in self.written:
            # A view of an array the function writes into would change under the reader
            # (the derivative reads it after the write): the value is copied out.
            view = self.names.fresh(_describe(value) or hint + "_part")
            out.append(located(assign(view, value), self.current))
            value = call(load(self.binder.bind("copy_of", copy_of)), load(view))
            value.sg_function = copy_of
            name = self.names.fresh(view + "_copy")
        elif _is_view(value):
            # The same view (err[i]) read in both branches of an if gets one name, so the
            # adjoint can recompute it instead of saving it.
            key = (self.loop, gast.dump(value))
            if key not in self.view_names:
                self.view_names[key] = self.names.fresh(_describe(value) or hint + "_part")
            name = self.view_names[key]
            if key in self.views_of_statement:  # x[i] * x[i]: one read serves both
                return load(name)
            self.views_of_statement.add(key)
        else:
            name = self.names.fresh(_describe(value) or hint + "_term")
        out.append(located(assign(name, value), self.current))
        return load(name)

    def operation(self, expr, out, hint):
        """``expr`` with its operands made atoms: one operation, ready to be assigned."""
        if not self.activity.is_varied(expr):
            return expr
        if isinstance(expr, gast.Name):
            return expr
        if isinstance(expr, gast.BinOp):
            return gast.BinOp(left=self.atom(expr.left, out, hint), op=expr.op,
                              right=self.atom(expr.right, out, hint))
        if isinstance(expr, gast.UnaryOp):
            return gast.UnaryOp(op=expr.op, operand=self.atom(expr.operand, out, hint))
        if isinstance(expr, gast.Subscript):
            joiner = index_trick(expr.value, self.parsed.namespace, self.locals)
            if joiner is not None and self.activity.is_varied(expr.slice):
                return self.index_trick_call(expr, joiner, out, hint)
            if self.activity.is_varied(expr.slice):
                raise self.varied_index(expr)
            return subscript(self.atom(expr.value, out, hint), expr.slice)
        if isinstance(expr, gast.Attribute):
            if expr.attr == "T":
                return gast.Attribute(value=self.atom(expr.value, out, hint), attr="T",
                                      ctx=gast.Load())
            # p.W of a named tuple or dataclass of arrays: a field read with an adjoint
            read = call(load(self.binder.bind("field", field)), self.atom(expr.value, out, hint),
                        constant(expr.attr))
            read.sg_function = field
            return read
        if isinstance(expr, gast.Call):
            if popped_list(expr) is not None:  # items.pop(): one list operation already
                return expr
            return self.call(expr, out, hint)
        if isinstance(expr, gast.IfExp):  # a if c else b  ->  an if statement
            name = self.names.fresh(hint + "_choice")
            branches, views = [], self.views_of_statement
            for branch in (expr.body, expr.orelse):
                self.views_of_statement = set(views)  # each branch reads its own views
                steps = []
                steps.append(located(assign(name, self.atom(branch, steps, hint)), self.current))
                branches.append(steps)
            self.views_of_statement = views
            out.append(located(gast.If(test=expr.test, body=branches[0], orelse=branches[1]),
                               self.current))
            return load(name)
        if isinstance(expr, (gast.ListComp, gast.GeneratorExp, gast.SetComp, gast.DictComp)):
            raise self.unsupported(expr, "a comprehension over differentiated values",
                                   "build the result with a for loop and np.stack")
        if isinstance(expr, gast.List):
            return gast.List(elts=self.elements(expr.elts, out, hint), ctx=gast.Load())
        if isinstance(expr, gast.Dict):  # {"W": w, "b": b}: a dict whose adjoint is a dict
            if not all(isinstance(k, gast.Constant) for k in expr.keys):
                raise self.unsupported(expr, "a dict of differentiated values with keys that are "
                                       "not constants (or with **)", "write each key out")
            return gast.Dict(keys=expr.keys, values=self.elements(expr.values, out, hint))
        if isinstance(expr, gast.Tuple) and self.in_container:
            # [(W1, b1), (W2, b2)]: a tuple inside a list or dict, which code reads by unpacking
            # and indexing, held as a list (the adjoint of a container is a list)
            return gast.List(elts=[self.atom(e, out, hint) for e in expr.elts], ctx=gast.Load())
        if isinstance(expr, gast.Tuple):
            raise self.unsupported(expr, "a tuple of differentiated values",
                                   "use a list, or pass it straight to np.stack / np.concatenate")
        raise self.unsupported(expr, f"the expression {type(expr).__name__}")

    in_container = False  # while the elements of a list or dict literal are turned into atoms

    def elements(self, elts, out, hint):
        outer, self.in_container = self.in_container, True
        try:
            return [self.atom(e, out, hint) for e in elts]
        finally:
            self.in_container = outer

    def varied_index(self, expr):
        return self.unsupported(expr, "an index computed from a differentiated value",
                                "compute integer indices from shapes or int(...); to loop over "
                                "a dict's entries, write for k, v in d.items() or for k in "
                                "d.keys()")


    def unsupported(self, node, construct, advice=""):
        node = node if hasattr(node, "lineno") else self.current
        return self.parsed.unsupported(node, construct, advice)

    def no_rule(self, node, construct, advice=""):
        node = node if hasattr(node, "lineno") else self.current
        return NoDerivativeRule(construct, *self.parsed.location(node), advice)


def _only_reports(function):
    """print, logging and warnings: calls that show values and change none."""
    if function is print or isinstance(getattr(function, "__self__", None), logging.Logger):
        return True
    return getattr(function, "__module__", None) in ("logging", "warnings", "_warnings")


def _is_plain(expr):
    """Cheap, side-effect free, and safe to evaluate again: can stay inline as an operand."""
    for node in gast.walk(expr):
        if isinstance(node, (gast.Call, gast.Lambda, gast.ListComp, gast.GeneratorExp,
                             gast.DictComp, gast.SetComp, gast.Await, gast.Yield, gast.NamedExpr)):
            return False
    return True


def _is_view(expr):
    """Indexing or transposing a name: cheap to recompute, and no operand is overwritten."""
    if isinstance(expr, gast.Attribute):
        return expr.attr == "T" and isinstance(expr.value, gast.Name)
    return isinstance(expr, gast.Subscript) and isinstance(expr.value, gast.Name)


def _short(expr):
    if isinstance(expr, gast.Name):
        return expr.id
    if isinstance(expr, gast.Constant) and isinstance(expr.value, int):
        return str(expr.value)
    return None


def _describe(expr):
    """A name for a temporary from what it computes: ``x_at_w``, ``tanh_z``, ``err_i``."""
    if isinstance(expr, gast.BinOp):
        left, right = _short(expr.left), _short(expr.right)
        word = OPERATOR_WORDS.get(type(expr.op))
        if left and word:
            name = f"{left}_{word}_{right}" if right else f"{left}_{word}"
            return name if len(name) <= 24 else None
    if isinstance(expr, gast.UnaryOp) and _short(expr.operand):
        return f"{OPERATOR_WORDS.get(type(expr.op), 'op')}_{_short(expr.operand)}"
    if isinstance(expr, gast.Subscript) and _short(expr.value):
        index = _short(expr.slice)
        return f"{_short(expr.value)}_{index}" if index else f"{_short(expr.value)}_part"
    if isinstance(expr, gast.Attribute) and expr.attr == "T" and _short(expr.value):
        return f"{_short(expr.value)}_T"
    if isinstance(expr, gast.Call) and expr.args:
        function = expr.func.attr if isinstance(expr.func, gast.Attribute) else _short(expr.func)
        first = _short(expr.args[0])
        if function and first:
            return f"{function}_{first}"
    return None


def version_reassignments(body, params, names):
    """Give each top-level re-assignment its own name: ``s = x; s = s + y`` -> ``s_2 = s + y``.

    Straight-line code then never overwrites a value the adjoint needs, so nothing is saved for
    it. Names that loops or branches also assign keep one name (the stack serves those).
    """
    in_compound = set()
    for stmt in body:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            in_compound |= {n.id for n in nodes_in(stmt)
                            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
            in_compound |= mutated_names(stmt)
    current, defined = {}, set(params)
    for stmt in body:
        for node in nodes_in(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in current:
                node.id = current[node.id]
        if isinstance(stmt, gast.Assign):
            for node in nodes_in(stmt.targets[0]):
                if not (isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store)):
                    continue
                if node.id in in_compound:
                    continue
                if node.id in defined:
                    version = names.fresh(node.id)
                    current[node.id] = version
                    node.id = version
                else:
                    defined.add(node.id)
        else:
            defined |= {n.id for n in nodes_in(stmt)
                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    return body
