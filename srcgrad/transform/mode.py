"""The base of both derivative generators: the function they work on, its names, and how a
call binds (a primitive's operation to its rule, a call of the user's function to its
parameters)."""
import copy
import inspect
import operator

import gast
import numpy as np

from ..rules import returns_sequence
from ..rules.shape import transpose_attribute
from ..runtime import field
from .analyze import nodes_in
from .build import call, clone, load
from .inline import literal
from .parse import DynamicCallee
from .scope import resolve


class Mode:
    """A normalized function being differentiated, and the names its derivative introduces.

    ``derivative(x)`` is the variable that carries x's derivative (``dx``: an adjoint in reverse
    mode, a tangent in forward mode), named once and never clashing with anything.
    """

    def __init__(self, parsed, body, params, activity, local_names, names, binder):
        self.parsed = parsed
        self.body = body
        self.params = params
        self.activity = activity
        self.varied = activity.varied
        self.locals = local_names
        self.names = names
        self.binder = binder
        self.derivative_names = {}
        self.primal_of = {}
        self.callees = []  # generated derivatives of the user's functions this one calls
        # (callee, wrt, mode) -> what generated code calls for that derivative: handed in by
        # the caller of the transformer (the API), which owns derivatives
        self.link = None
        # Lists the function builds, appends to or pops from: their derivatives are lists too
        # (a helper's result may be one: in generated code differentiated again, a list
        # adjoint); and containers whose fields are read (p.a of a named tuple or dataclass).
        self.list_names = set()
        for node in nodes_in(gast.Module(body=body, type_ignores=[])):
            if isinstance(node, gast.Assign):
                if isinstance(node.targets[0], gast.Name) and (
                        isinstance(node.value, (gast.List, gast.Dict)) or
                        self.returns_sequence(node.value)):
                    self.list_names.add(node.targets[0].id)
                if popped_list(node.value):
                    self.list_names.add(popped_list(node.value))
            elif isinstance(node, gast.Expr) and appended_list(node):
                self.list_names.add(appended_list(node)[0])
            elif isinstance(node, gast.Call) and node.args and \
                    isinstance(node.args[0], gast.Name) and self.reads_field(node):
                self.list_names.add(node.args[0].id)
        # rows = items (a comprehension's list, named): a list too, whose adjoint contributions
        # are added element by element (`+` would concatenate them)
        copies = [(node.targets[0].id, node.value.id)
                  for node in nodes_in(gast.Module(body=body, type_ignores=[]))
                  if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name)
                  and isinstance(node.value, gast.Name)]
        # W_b = layers[k] of layers = [[W1, b1], [W2, b2]]: an element that is a list itself
        nested = {node.targets[0].id for node in nodes_in(gast.Module(body=body, type_ignores=[]))
                  if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name)
                  and isinstance(node.value, gast.List)
                  and any(isinstance(e, (gast.List, gast.Dict)) or
                          (isinstance(e, gast.Name) and e.id in self.list_names)
                          for e in node.value.elts)}
        elements = [(node.targets[0].id, node.value.value.id)
                    for node in nodes_in(gast.Module(body=body, type_ignores=[]))
                    if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name)
                    and isinstance(node.value, gast.Subscript)
                    and isinstance(node.value.value, gast.Name)]
        grown = True
        while grown:
            more = {target for target, source in copies if source in self.list_names}
            more |= {target for target, source in elements if source in nested}
            nested |= {target for target, source in copies if source in nested}
            grown = not more <= self.list_names
            self.list_names |= more

    def reads_field(self, call):
        """Is ``call`` runtime.field(x, name), the read of a container's field?"""
        function = getattr(call, "sg_function", None) or resolve(
            call.func, self.parsed.namespace, self.locals)
        return function is field

    def returns_sequence(self, value):
        """Is ``value`` a call of a primitive whose result is a list of arrays (np.linalg.eigh)?"""
        if not isinstance(value, gast.Call):
            return False
        function = getattr(value, "sg_function", None) or resolve(
            value.func, self.parsed.namespace, self.locals)
        return returns_sequence(function)

    def derivative(self, name):
        """The derivative variable of a primal name: ``dx`` for ``x``, ``d_W`` for ``W``."""
        if name not in self.derivative_names:
            derived = self.names.fresh("d" + name if name[:1].islower() or name[:1] == "_"
                                       else "d_" + name)
            self.derivative_names[name] = derived
            self.primal_of[derived] = name
        return self.derivative_names[name]

    def np_function(self, attribute):
        """``np.<attribute>``, under whatever name NumPy has in the generated code."""
        return gast.Attribute(value=load(self.binder.bind("np", np)), attr=attribute,
                              ctx=gast.Load())

    def runtime(self, name):
        """A helper of srcgrad.runtime, by the name generated code calls it."""
        from .. import runtime
        return load(self.binder.bind(name, getattr(runtime, name)))

    def zeros_like(self, expr):
        """Zeros shaped like ``expr``: ``np.zeros_like`` where ``expr`` is a name known to hold an
        array, else srcgrad's ``zeros_like``, which keeps a number a number (``np.zeros_like(0.0)``
        is a NumPy 0-d array, which a CuPy array refuses to meet)."""
        shapes = getattr(self, "shapes", None)
        shape = shapes.get(expr.id) if shapes is not None and isinstance(expr, gast.Name) else None
        array = isinstance(shape, tuple) and len(shape) > 0
        return call(self.np_function("zeros_like") if array else self.runtime("zeros_like"), expr)

    def reset_names(self, taken):
        """Forget names handed out since ``taken`` except those already in use for good."""
        self.names.taken = taken | set(self.derivative_names.values()) | set(self.binder.bound)


def replace(stmt, **fields):
    """A shallow copy of ``stmt`` with some fields replaced."""
    clone = copy.copy(stmt)
    for key, value in fields.items():
        setattr(clone, key, value)
    return clone


def rename_loads(node, old, new):
    """A copy of ``node`` reading ``new`` wherever it read ``old``."""
    node = clone(node)
    for child in nodes_in(node):
        if isinstance(child, gast.Name) and child.id == old and isinstance(child.ctx, gast.Load):
            child.id = new
    return node


def unparse(node):
    import ast
    return ast.unparse(gast.gast_to_ast(clone(node)))


def popped_list(value):
    """The list name of ``items.pop()``, or None."""
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
            value.func.attr == "pop" and isinstance(value.func.value, gast.Name) and \
            not value.args and not value.keywords:
        return value.func.value.id
    return None


def appended_list(stmt):
    """The list name and the value of ``items.append(value)``, or None."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        func = stmt.value.func
        if isinstance(func, gast.Attribute) and func.attr == "append" and \
                isinstance(func.value, gast.Name) and len(stmt.value.args) == 1:
            return func.value.id, stmt.value.args[0]
    return None


BINARY_PRIMITIVES = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
                     gast.Div: operator.truediv, gast.Pow: operator.pow,
                     gast.MatMult: operator.matmul, gast.Mod: operator.mod}
UNARY_PRIMITIVES = {gast.USub: operator.neg, gast.UAdd: operator.pos}


def bind_call(value):
    """(primitive, positional arguments, keywords) of the one operation an ANF value performs."""
    if isinstance(value, gast.BinOp):
        if isinstance(value.op, gast.Mult) and isinstance(value.left, gast.Name) and \
                isinstance(value.right, gast.Name) and value.left.id == value.right.id:
            return np.square, [value.left], []  # x * x: the rule of a square is one product
        return BINARY_PRIMITIVES.get(type(value.op)), [value.left, value.right], []
    if isinstance(value, gast.UnaryOp):
        return UNARY_PRIMITIVES.get(type(value.op)), [value.operand], []
    if isinstance(value, gast.Subscript):
        return operator.getitem, [value.value, value.slice], []
    if isinstance(value, gast.Attribute) and value.attr == "T":
        return transpose_attribute, [value.value], []
    if isinstance(value, gast.Call):
        return getattr(value, "sg_function", None), value.args, value.keywords
    return None, None, None


_RULE_SIGNATURES = {}  # id of a rule -> (the rule, the signature its parameters make)


def bind_rule(rule, value, args, keywords, parsed, stmt, binder):
    """The arguments of the operation ``value`` by the parameter names of its ``rule``, options
    the call leaves out at the rule's defaults; a call the rule cannot take is refused at the
    user's line."""
    known = _RULE_SIGNATURES.get(id(rule))
    if known is not None and known[0] is rule:
        signature = known[1]
    else:  # worked out once per rule (the rule is kept, so its id stays its own)
        signature = inspect.Signature([inspect.Parameter(
            p, inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=rule.defaults.get(p, inspect.Parameter.empty)) for p in rule.params])
        _RULE_SIGNATURES[id(rule)] = (rule, signature)
    try:
        bound = signature.bind(*args, **{k.arg: k.value for k in keywords})
    except TypeError as error:
        raise parsed.unsupported(
            stmt, f"the call {unparse(value)} ({error})",
            f"the derivative rule of {rule.name} takes ({', '.join(rule.params)})") from None
    bindings = dict(bound.arguments)
    for option, default in rule.defaults.items():
        if option not in bindings:
            bindings[option] = literal(default) or load(binder.bind(option, default))
    return bindings


def call_arguments(function, value, stmt, parsed, varied):
    """(parameter, argument) of a call of a user function: by name, or for a callee known only
    at run time (DynamicCallee), by position and keyword as written. A differentiated value
    may not go into the callee's ``*args`` or ``**kwargs`` (read there as constants)."""
    if isinstance(function, DynamicCallee):
        return list(enumerate(value.args)) + [(k.arg, k.value) for k in value.keywords]
    signature = inspect.signature(function)
    args, keywords = value.args, [k for k in value.keywords if k.arg is not None]
    unpacked = [i for i, a in enumerate(args) if isinstance(a, gast.Starred)]
    if unpacked or len(keywords) < len(value.keywords):
        # f(x, *rest, **options) with constants unpacked: the arguments written before them
        # bind by position and name; nothing after them may carry a derivative.
        after = args[unpacked[0]:] if unpacked else []
        if any(is_active(getattr(a, "value", a), varied) for a in after):
            raise parsed.unsupported(stmt, f"a differentiated argument after *arguments in "
                                     f"{unparse(value)}", "pass it before the unpacked ones")
        args = args[:unpacked[0]] if unpacked else args
        signature = signature.replace(parameters=[
            p.replace(default=None) if p.default is p.empty and p.kind not in (
                p.VAR_POSITIONAL, p.VAR_KEYWORD) else p
            for p in signature.parameters.values()])
    try:
        bound = signature.bind(*args, **{k.arg: k.value for k in keywords})
    except TypeError as error:
        raise parsed.unsupported(stmt, f"the call {unparse(value)} ({error})") from None
    for name, argument in list(bound.arguments.items()):
        kind = signature.parameters[name].kind
        packed = argument.values() if kind is inspect.Parameter.VAR_KEYWORD else \
            argument if kind is inspect.Parameter.VAR_POSITIONAL else ()
        if any(is_active(a, varied) for a in packed):
            star = "**" if kind is inspect.Parameter.VAR_KEYWORD else "*"
            raise parsed.unsupported(
                stmt, f"{unparse(value)}, where a differentiated value goes into "
                f"{star}{name} of {function.__name__}",
                f"{star}{name} is read as a constant; give {function.__name__} a named "
                "parameter for it")
    return list(bound.arguments.items())


def is_active(expr, varied):
    """Does ``expr`` (a name, or a list or tuple of them) carry a derivative?"""
    if isinstance(expr, gast.Name):
        return expr.id in varied
    if isinstance(expr, (gast.List, gast.Tuple)):
        return any(is_active(e, varied) for e in expr.elts)
    return False
