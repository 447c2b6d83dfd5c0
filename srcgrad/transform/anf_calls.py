"""Calls in A-normal form: a primitive with a rule, a function of the user's, a method, or a
call resolved only when the code runs; each argument that carries a derivative becomes a name.
"""
import ast
import functools
import inspect

import gast
import numpy as np

from ..checkpoint import Checkpointed, checkpoint
from ..errors import qualified_name
from ..rules import is_non_differentiable, rule_for
from ..rules.registry import (PACKED_ARGUMENTS, has_variants, missing_rule_advice,
                              variant_for)
from ..rules.shape import astype, item_of
from ..runtime import copy_of, expect_array
from .build import assign, call, load, located
from .parse import DynamicCallee, dotted_name, is_user_function
from .scope import resolve

# Array methods and the NumPy function each one means; True: takes a shape as separate numbers.
ARRAY_METHODS = {
    "sum": (np.sum, False), "mean": (np.mean, False), "max": (np.max, False),
    "min": (np.min, False), "prod": (np.prod, False), "dot": (np.dot, False),
    "clip": (np.clip, False), "ravel": (np.ravel, False), "flatten": (np.ravel, False),
    "squeeze": (np.squeeze, False), "copy": (copy_of, False), "swapaxes": (np.swapaxes, False),
    "reshape": (np.reshape, True), "transpose": (np.transpose, True), "astype": (astype, False),
    "var": (np.var, False), "std": (np.std, False), "cumsum": (np.cumsum, False),
    "cumprod": (np.cumprod, False), "diagonal": (np.diagonal, False), "trace": (np.trace, False),
    "repeat": (np.repeat, False), "take": (np.take, False), "conj": (np.conj, False),
    "conjugate": (np.conjugate, False), "argmax": (np.argmax, False),
    "argmin": (np.argmin, False), "argsort": (np.argsort, False), "nonzero": (np.nonzero, False),
    "any": (np.any, False), "all": (np.all, False), "round": (np.round, False),
    "item": (item_of, False),
}

# Python's builtins that people call on lists of differentiated values: what to write instead.
_BUILTIN_ADVICE = {
    sorted: "sort an array with np.sort (differentiated): np.sort(np.stack(values))",
    reversed: "index the list backwards (values[::-1]) or loop over reversed(range(len(values)))",
    zip: "index the lists in a for loop over range(len(...)) (zip(...) is accepted as the "
         "iterable of a for loop)",
    map: "write a list comprehension: [f(v) for v in values]",
    filter: "write a list comprehension with a condition: [v for v in values if ...]",
    tuple: "use a list, or np.stack the values",
    list: "write the list literal, or a list comprehension",
}

# Parameters of rules that take a sequence of arrays as it is (np.stack's arrays, sum's iterable).
SEQUENCE_PARAMETERS = {"arrays", "tup", "iterable", "object", "operands", "condlist",
                       "choicelist", "a_list"}


class CallsToANF:
    """The methods of ToANF for calls."""

    def call(self, expr, out, hint):
        function = resolve(expr.func, self.parsed.namespace, self.locals)
        source = dotted_name(expr.func)
        if function is None and isinstance(expr.func, gast.Attribute) and \
                self.activity.is_varied(expr.func.value):
            return self.method_call(expr, out, hint)
        if function is None and isinstance(expr.func, gast.Attribute) and \
                expr.func.attr == "dot" and len(expr.args) == 1 and not expr.keywords and \
                self.activity.is_varied(expr.args[0]):
            return self.dot_of_constant(expr, out, hint)
        if PACKED_ARGUMENTS.get(function) is not None and not any(
                isinstance(arg, gast.Starred) for arg in expr.args):
            # np.einsum(s, a, b) -> einsum_of(s, [a, b])
            target, leading = PACKED_ARGUMENTS[function]
            expr = gast.Call(func=load(self.binder.bind(target.__name__, target)),
                             args=expr.args[:leading] + [gast.List(elts=expr.args[leading:],
                                                                   ctx=gast.Load())],
                             keywords=expr.keywords)
            function, source = target, target.__name__
        if function in (min, max) and len(expr.args) > 2 and not expr.keywords and \
                not any(isinstance(a, gast.Starred) for a in expr.args):
            # min(a, b, c) -> smallest = min(a, b); min(smallest, c): the same comparisons,
            # in the same order
            kept = expr.args[0]
            for arg in expr.args[1:-1]:
                name = self.names.fresh("smallest" if function is min else "largest")
                pair = gast.Call(func=expr.func, args=[kept, arg], keywords=[])
                out.append(located(assign(name, self.call(pair, out, hint)), self.current))
                kept = load(name)
            return self.call(gast.Call(func=expr.func, args=[kept, expr.args[-1]],
                                       keywords=[]), out, hint)
        if has_variants(function):
            # np.linalg.svd(a, compute_uv=False) -> svd_values(a): one array, a rule of its own
            expr, function, source = _keyword_variant(expr, function, source, self.binder)
        if hasattr(function, "unbound") and function.unbound()[0] is not function:
            # sg.grad(model.loss) called here: a derivative of a method or a partial, which
            # takes its bound arguments first, differentiated as the callable it is
            return self.user_call(expr, DynamicCallee(source), out, hint)
        function = differentiable_code(function)
        if _is_derivative_call(function):  # a derivative of generated code that calls one
            called = getattr(getattr(function, "function", None), "__name__", "a helper")
            raise self.unsupported(
                expr, f"a second derivative through the call of your function {called} (or of "
                f"a method or layer) on this line", "not supported yet: take second derivatives "
                "of code without calls of your own functions, or give the function a rule with "
                "srcgrad.defvjp and srcgrad.defjvp")
        if function is None and isinstance(expr.func, gast.Call) and \
                resolve(expr.func.func, self.parsed.namespace, self.locals) is checkpoint and \
                len(expr.func.args) == 1 and not expr.func.keywords:  # sg.checkpoint(f)(x)
            inner = resolve(expr.func.args[0], self.parsed.namespace, self.locals)
            function = Checkpointed(inner) if inner is not None else None
        if isinstance(function, Checkpointed):  # its adjoint runs it again (checkpoint.py)
            if not is_user_function(function.function):
                inner_source = dotted_name(expr.func.args[0]) if isinstance(expr.func, gast.Call) \
                    else source
                raise self.unsupported(expr, f"srcgrad.checkpoint of {inner_source}, which is "
                                       "not a Python function of yours", "checkpoint a function "
                                       "of your own, e.g. a step of a loop")
            node = self.user_call(expr, function.function, out, hint)
            node.sg_checkpointed = True
            return node
        if function is None or (rule_for(function) is None and _called_at_run_time(function)):
            # self.helper(x), layer(x), a partial: which function runs is known when it runs
            return self.user_call(expr, DynamicCallee(source), out, hint)
        if rule_for(function) is None and not is_non_differentiable(function):
            if is_user_function(function):
                return self.user_call(expr, function, out, hint)
            if function is functools.partial:
                raise self.unsupported(
                    expr, "functools.partial(...) of differentiated values made in the "
                    "differentiated function", "call the function with all its arguments "
                    "where you would call the partial, or write a lambda or a nested def "
                    "(g = lambda v: np.power(x, v))")
            if function in _BUILTIN_ADVICE or (isinstance(function, type) and
                                               issubclass(function, np.generic)):
                advice = _BUILTIN_ADVICE.get(function, "write float(x), or x.astype(...) for "
                                             "another dtype")
                raise self.unsupported(
                    expr, f"the call {source}(...) on differentiated values (it has no "
                    "derivative rule)", advice)
            if isinstance(function, type) and not \
                    (function.__module__ or "").split(".")[0] in ("numpy", "builtins"):
                raise self.unsupported(
                    expr, f"the call {source}(...) of a class with differentiated values (an "
                    "object made in the differentiated function carries no derivative)",
                    "pass the arrays themselves (or a list, tuple or dict of them) to your "
                    "functions; a named tuple or dataclass of arrays may be an argument of the "
                    "differentiated function instead")
            raise self.no_rule(
                expr, f"a call to {source} ({qualified_name(function, source)}), which has no "
                f"derivative rule", missing_rule_advice(function))
        for keyword in expr.keywords:
            if keyword.arg is None:
                raise self.unsupported(expr, f"**keywords in {source}(...)",
                                       "pass the keyword arguments one by one")
        self.check_options(expr, function, source)
        expr = self.lists_as_arrays(expr, function)
        node = gast.Call(func=expr.func, args=self.arguments(expr, out, hint, source),
                         keywords=self.keyword_atoms(expr.keywords, out, hint))
        node.sg_function = function
        return node

    def keyword_atoms(self, keywords, out, hint):
        """``np.select(c, v, default=x)``: a differentiated keyword argument made an atom (a
        list of them for a sequence parameter); the rule takes it by its parameter's name
        (mode.bind_rule), as it would a positional one."""
        atoms = []
        for keyword in keywords:
            value = keyword.value
            if self.activity.is_varied(value):
                if keyword.arg in SEQUENCE_PARAMETERS and isinstance(value, gast.List):
                    value = gast.List(elts=[self.atom(e, out, hint) for e in value.elts],
                                      ctx=gast.Load())
                else:
                    value = self.atom(value, out, hint)
            atoms.append(gast.keyword(arg=keyword.arg, value=value))
        return atoms

    def lists_as_arrays(self, expr, function):
        """``np.sum([a, b * b])``, ``np.mean(values)`` of a list: NumPy makes an array of the
        list first, and so does the derivative (np.array's rule splits the adjoint back)."""
        rule = rule_for(function)
        if rule is None or (getattr(function, "__module__", None) or "").startswith("srcgrad."):
            return expr  # srcgrad's helpers in generated code (add_each) take lists as lists
        args = list(expr.args)
        for position, arg in enumerate(args):
            if position >= len(rule.params) or rule.params[position] in SEQUENCE_PARAMETERS or \
                    not self.activity.is_varied(arg):
                continue
            if isinstance(arg, (gast.List, gast.Tuple)) or (
                    isinstance(arg, gast.Name) and arg.id in self.list_literals):
                items = gast.List(elts=arg.elts, ctx=gast.Load()) \
                    if isinstance(arg, (gast.List, gast.Tuple)) else arg
                array = call(gast.Attribute(value=load(self.binder.bind("np", np)), attr="array",
                                            ctx=gast.Load()), items)
                args[position] = gast.copy_location(array, arg)
        return gast.copy_location(gast.Call(func=expr.func, args=args, keywords=expr.keywords),
                                  expr)

    def index_trick_call(self, expr, joiner, out, hint):
        """``np.r_[a, b]`` -> ``r_join([a, b])`` (likewise np.c_): items that are arrays or
        numbers only, no slices or directive strings."""
        items = expr.slice.elts if isinstance(expr.slice, gast.Tuple) else [expr.slice]
        if any(isinstance(item, gast.Slice) or (isinstance(item, gast.Constant)
                                                 and isinstance(item.value, str))
               for item in items):
            raise self.unsupported(expr, f"{dotted_name(expr.value)}[...] with slices or a directive "
                                   f"string around differentiated values",
                                   "build the array with np.concatenate or np.stack")
        parts = gast.List(elts=[self.atom(item, out, hint) for item in items], ctx=gast.Load())
        node = gast.Call(func=load(self.binder.bind(joiner.__name__, joiner)), args=[parts],
                         keywords=[])
        node.sg_function = joiner
        return node

    def check_options(self, expr, function, source):
        """A differentiated value passed where the rule has an option (a parameter with a
        default, which gets no derivative) is refused: it would silently get none."""
        rule = rule_for(function)
        if rule is None or rule.accumulates:
            return
        given = list(zip(rule.params, expr.args)) + \
            [(k.arg, k.value) for k in expr.keywords if k.arg is not None]
        for param, arg in given:
            if param not in rule.differentiable and self.activity.is_varied(arg):
                raise self.no_rule(
                    expr, f"{source}(...) with respect to its argument {param!r}, which its "
                    f"derivative rule treats as a constant",
                    "pass a constant there, or register a rule that differentiates it with "
                    "@srcgrad.defvjp and @srcgrad.defjvp")

    def arguments(self, expr, out, hint, source, user_call=False):
        args = []
        for arg in expr.args:
            if isinstance(arg, gast.Starred):
                if user_call and not self.activity.is_varied(arg.value):
                    # constants unpacked into a function of the user's: bound when it runs
                    args.append(gast.Starred(value=self.atom(arg.value, out, hint),
                                             ctx=gast.Load()))
                    continue
                raise self.unsupported(expr, f"*arguments in {source}(...)",
                                       "pass the arguments one by one")
            if isinstance(arg, (gast.List, gast.Tuple)) and self.activity.is_varied(arg):
                parts = [self.atom(e, out, hint) for e in arg.elts]
                args.append(type(arg)(elts=parts, ctx=gast.Load()))
            else:
                args.append(self.atom(arg, out, hint))
        return args

    def user_call(self, expr, function, out, hint):
        """A call into the user's own function: differentiated by a generated function of its own."""
        source = dotted_name(expr.func)
        keywords = []
        for keyword in expr.keywords:
            if keyword.arg is None and self.activity.is_varied(keyword.value):
                raise self.unsupported(expr, f"**keywords in {source}(...) that carry a "
                                       "derivative", "pass the keyword arguments one by one")
            keywords.append(gast.keyword(arg=keyword.arg,
                                         value=self.atom(keyword.value, out, hint)))
        args = []
        for original, arg in zip(expr.args, self.arguments(expr, out, hint, source, True)):
            if isinstance(arg, (gast.List, gast.Tuple)) and self.activity.is_varied(original):
                # A sequence of differentiated values handed to a helper gets a name, so its
                # adjoint is a list whose elements flow back to the values.
                items = self.names.fresh(hint + "_items")
                out.append(located(assign(items, gast.List(elts=arg.elts, ctx=gast.Load())),
                                   self.current))
                arg = load(items)
            args.append(arg)
        node = gast.Call(func=expr.func, args=args, keywords=keywords)
        node.sg_user_function = function
        return node

    def dot_of_constant(self, expr, out, hint):
        """``X.dot(w)`` with ``X`` a constant (data) -> ``np.dot(X, w)``, after a check, when the
        code runs, that ``X`` is an array (whose ``dot`` is np.dot)."""
        receiver = self.atom(expr.func.value, out, hint)
        guard = call(load(self.binder.bind("expect_array", expect_array)), receiver,
                     gast.Constant(value=self.parsed.filename, kind=None),
                     gast.Constant(value=self.current.lineno, kind=None),
                     gast.Constant(value=f"{dotted_name(expr.func)}(...)", kind=None))
        out.append(located(gast.Expr(value=guard), self.current))
        node = gast.Call(func=gast.Attribute(value=load(self.binder.bind("np", np)), attr="dot",
                                             ctx=gast.Load()),
                         args=[receiver, expr.args[0]], keywords=[])
        return self._ruled_call(node, np.dot, out, hint)

    def method_call(self, expr, out, hint):
        """``x.sum(axis=0)`` -> ``np.sum(x, axis=0)``: array methods become the NumPy functions."""
        method = expr.func.attr
        if method == "get" and 1 <= len(expr.args) <= 2 and not expr.keywords:
            # params.get("W", default) -> params["W"] if "W" in params else default
            receiver = self.atom(expr.func.value, out, hint)
            key = expr.args[0]
            default = expr.args[1] if len(expr.args) == 2 else gast.Constant(value=None,
                                                                                kind=None)
            choice = gast.IfExp(test=gast.Compare(left=key, ops=[gast.In()],
                                                  comparators=[receiver]),
                                body=gast.Subscript(value=receiver, slice=key, ctx=gast.Load()),
                                orelse=default)
            return self.operation(choice, out, hint)
        if method not in ARRAY_METHODS:
            advice = f"call a NumPy function instead, e.g. np.{method}(x, ...)" \
                if callable(getattr(np, method, None)) else \
                "write it with NumPy functions of the array (see the README's list)"
            raise self.unsupported(expr, f"the array method .{method}()", advice)
        receiver = self.atom(expr.func.value, out, hint)
        function, shape_like = ARRAY_METHODS[method]
        args = list(expr.args)
        if shape_like and (len(args) > 1 or not args):  # x.reshape(2, 3), x.transpose()
            args = [gast.Tuple(elts=args, ctx=gast.Load())] if args else []
        numpy_name = self.binder.bind("np", np) \
            if function not in (astype, copy_of, item_of) else None
        if function in (astype, copy_of, item_of):
            func = load(self.binder.bind(function.__name__, function))
        else:
            func = gast.Attribute(value=load(numpy_name), attr=function.__name__, ctx=gast.Load())
        call_node = gast.Call(func=func, args=[receiver] + args, keywords=expr.keywords)
        return self._ruled_call(call_node, function, out, hint)

    def _ruled_call(self, node, function, out, hint):
        for keyword in node.keywords:
            if keyword.arg is None and self.activity.is_varied(keyword.value):
                raise self.unsupported(node, "**keywords that carry a derivative",
                                       "pass the keyword arguments one by one")
        self.check_options(node, function, dotted_name(node.func))
        node.args = self.arguments(node, out, hint, dotted_name(node.func))
        node.keywords = self.keyword_atoms(node.keywords, out, hint)
        node.sg_function = function
        return node


def _literal(node):
    """The value of a literal option (``False``, ``"r"``, ``(0, 1)``, ``-1``); NotImplemented
    for anything else."""
    try:
        return ast.literal_eval(gast.gast_to_ast(node))
    except Exception:
        return NotImplemented


def _keyword_variant(expr, function, source, binder):
    """The call rewritten to the keyword variant of ``function`` its literal options select
    (registry.keyword_variant), or left as it is."""
    if any(isinstance(arg, gast.Starred) for arg in expr.args) or \
            any(k.arg is None for k in expr.keywords):
        return expr, function, source
    keywords = {k.arg: k.value for k in expr.keywords}
    args = list(expr.args)

    def given(variant):
        if variant.option in keywords:
            return _literal(keywords[variant.option])
        if variant.position is not None and len(args) > variant.position:
            return _literal(args[variant.position])
        return variant.default

    variant = variant_for(function, given)
    if variant is None:
        return expr, function, source
    option = keywords.get(variant.option)
    kept = [k for k in expr.keywords if k.arg != variant.option]
    if variant.position is not None and len(args) > variant.position:
        option = args[variant.position]
        kept += [gast.keyword(arg=name, value=arg) for name, arg in
                 zip(variant.names[variant.position + 1:], args[variant.position + 1:])]
        args = args[:variant.position]
    if variant.keeps_option and option is not None:
        kept.append(gast.keyword(arg=variant.option, value=option))
    target = variant.target
    node = gast.copy_location(gast.Call(func=load(binder.bind(target.__name__, target)),
                                        args=args, keywords=kept), expr)
    return node, target, target.__name__


def differentiable_code(function):
    """For a derivative srcgrad made (a helper's adjoint or jvp in generated code being
    differentiated again, or a grad the user calls), the compiled code it runs, to be
    differentiated as a function of the user's; anything else as it is."""
    mode = getattr(function, "mode", None)
    if hasattr(function, "generated") and mode in ("adjoint", "jvp", "grad", "value_and_grad"):
        return function.differentiable_generated.function
    return function


def _is_derivative_call(function):
    """A call generated code makes into the derivative of a user function (``helper_vjp``,
    ``call_vjp``): differentiating it again is not supported."""
    from ..dynamic import call_jvp, call_vjp
    return function in (call_vjp, call_jvp) or (
        hasattr(function, "generated") and hasattr(function, "mode"))


def _called_at_run_time(function):
    """A bound method, a partial or a callable object: differentiated when the code runs."""
    if inspect.isclass(function) or inspect.isbuiltin(function) or \
            isinstance(function, np.ufunc) or is_user_function(function):
        return False
    if inspect.ismethod(function):
        return is_user_function(function.__func__)
    if isinstance(function, functools.partial):
        return True
    call = getattr(type(function), "__call__", None)
    return inspect.isfunction(call) and is_user_function(call)
