"""Dtypes of the values of generated code specialized to its arguments' dtypes.

A *kind* is what is known of a value's dtype: an ``np.dtype`` for a NumPy array or scalar, the
Python type ``bool``, ``int``, ``float`` or ``complex`` for a Python number (NumPy treats those
as weak: a Python float times a float32 array is float32), or None where it is not known.

The kind of an operation is found by doing it on samples of its operands' kinds (a one-element
array of the dtype, or the Python number 1), so NumPy's own promotion rules decide, never a table
of ours. ``infer_kinds`` finds the kind of each name of a function: one kind for all of its
bindings, else None. The in-place passes (reuse.py) read it: ``a *= b`` is the value ``a * b``
only where that has ``a``'s dtype (a float32 ``a`` times a float64 ``b`` would be cast down
silently; a complex ``b`` would raise).
"""
import collections
import operator

import gast
import numpy as np

from .build import nodes_in

_OPERATORS = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
              gast.Div: operator.truediv, gast.FloorDiv: operator.floordiv,
              gast.Mod: operator.mod, gast.Pow: operator.pow, gast.MatMult: operator.matmul}
_UNARY = {gast.USub: operator.neg, gast.UAdd: operator.pos}

# Functions whose result's dtype is that of the same function of one-element samples of their
# positional arguments, whatever ``axis`` or ``keepdims`` say.
_SAMPLED = {np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.dot, np.matmul, np.outer,
            np.zeros_like, np.ones_like, np.transpose, np.where, np.square, np.abs, np.absolute,
            np.negative, np.maximum, np.minimum}
_SHAPE_KEYWORDS = {"axis", "keepdims"}
# Methods of an array whose result has its dtype.
_SAME_DTYPE_METHODS = {"reshape", "ravel", "copy", "flatten", "transpose"}

_BOTTOM = object()  # no binding seen yet (while inferring)


# The keyword entry of a signature (api.argument_signature) that records the arguments' dtypes:
# (a key per positional argument, (name, key) per keyword argument), a key being ``dtype.str``
# for a NumPy array or scalar, the type's name for a Python number, else None.
ARGUMENT_DTYPES = "<dtypes of the arguments>"
_PYTHON_NUMBERS = {t.__name__: t for t in (bool, int, float, complex)}


def parameter_kinds(tree, signature):
    """parameter name -> kind, for a call with this signature, where the signature says."""
    positional, keywords = signature
    entry = dict((k, v) for k, v in keywords if k == ARGUMENT_DTYPES).get(ARGUMENT_DTYPES)
    if entry is None or len(entry[0]) != len(positional):
        return {}
    args = tree.args
    names = [a.id for a in args.posonlyargs + args.args]
    keys = list(zip(names, entry[0])) + list(entry[1])
    return {name: _PYTHON_NUMBERS[key] if key in _PYTHON_NUMBERS else np.dtype(key)
            for name, key in keys if key is not None}


def _sample(kind):
    if isinstance(kind, np.dtype):
        return np.ones(1, kind)
    return kind(1)


def _kind_of_value(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype
    kind = type(value)
    return kind if kind in (bool, int, float, complex) else None


_APPLIED = {}  # (function, kinds with their types) -> kind


def _applied(function, kinds):
    """The kind of ``function`` applied to values of ``kinds``, None where that fails."""
    # Keyed with each kind's type: a dtype equals Python types (float64's dtype == float).
    key = (function, kinds, tuple(map(type, kinds)))
    try:
        return _APPLIED[key]
    except KeyError:
        pass
    try:
        with np.errstate(all="ignore"):
            found = _kind_of_value(function(*(_sample(k) for k in kinds)))
    except Exception:  # noqa: BLE001 -- any failure: not known
        found = None
    if len(_APPLIED) < 4096:
        _APPLIED[key] = found
    return found


def _same(a, b):
    return a is b or type(a) is type(b) and a == b


def _join(a, b):
    if a is _BOTTOM:
        return b
    if b is _BOTTOM or _same(a, b):
        return a
    return None


class _Parameter:
    """The binding of a parameter to the argument, of a kind known from the call or None."""

    def __init__(self, kind):
        self.kind = kind


class Kinds:
    """The kinds of expressions, given the kinds of names (``names``: name -> kind)."""

    def __init__(self, names, called, pops=None):
        self.names = names
        self.called = called  # the object a call calls, or None
        self.pops = pops or {}  # list name -> the kind of what it holds
        self.resolved = {}  # (name, attribute) -> the object a call of name.attribute calls

    def of(self, expr):
        kind = type(expr)
        if kind is gast.Name:
            return self.names.get(expr.id)
        if kind is gast.Constant:
            value = expr.value
            return type(value) if type(value) in (bool, int, float, complex) else None
        if kind is gast.BinOp:  # (the common case, without _apply's generality)
            left, right = self.of(expr.left), self.of(expr.right)
            if left is _BOTTOM or right is _BOTTOM:
                return _BOTTOM
            function = _OPERATORS.get(type(expr.op))
            if left is None or right is None or function is None:
                return None
            return _applied(function, (left, right))
        if kind is gast.UnaryOp:
            return self._apply(_UNARY.get(type(expr.op)), (expr.operand,))
        if kind is gast.IfExp:
            return _join(self.of(expr.body), self.of(expr.orelse))
        if kind is gast.Subscript or kind is gast.Attribute and expr.attr == "T":
            inner = self.of(expr.value)
            return inner if isinstance(inner, np.dtype) else None
        if kind is gast.Call:
            return self._call(expr)
        return None

    def function(self, call):
        """``self.called(call)``, remembered for ``np.<name>`` (one function's names)."""
        func = call.func
        if type(func) is gast.Attribute and type(func.value) is gast.Name:
            key = (func.value.id, func.attr)
            if key not in self.resolved:
                self.resolved[key] = self.called(call)
            return self.resolved[key]
        return self.called(call)

    def _apply(self, function, operands):
        if function is None:
            return None
        kinds = tuple(self.of(o) for o in operands)
        if any(k is _BOTTOM for k in kinds):
            return _BOTTOM
        if any(k is None for k in kinds):  # (not ``in``: a dtype equals None, float64's)
            return None
        return _applied(function, kinds)

    def _call(self, expr):
        func = expr.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) and \
                func.value.id in self.pops and func.attr == "pop" and not expr.args:
            return self.pops[func.value.id]
        if isinstance(func, gast.Attribute) and func.attr in _SAME_DTYPE_METHODS:
            inner = self.of(func.value)
            return inner if isinstance(inner, np.dtype) else None
        try:
            function = self.function(expr)
            sampled = function in _SAMPLED or isinstance(function, np.ufunc)
        except TypeError:  # an unhashable callable
            return None
        if not sampled or any(k.arg not in _SHAPE_KEYWORDS for k in expr.keywords) or \
                any(isinstance(a, gast.Starred) for a in expr.args):
            return None
        if function in _SAMPLED and not isinstance(function, np.ufunc) and \
                function not in (np.dot, np.matmul, np.outer, np.where, np.maximum, np.minimum):
            operands = expr.args[:1]  # np.sum(x, 0): the axis is no operand
        else:
            operands = expr.args
        return self._apply(function, tuple(operands))


def infer_kinds(function_def, parameter_kinds, called, nodes=None):
    """name -> kind for every name of ``function_def`` (see the module docstring).

    ``parameter_kinds``: the kinds of the parameters known from the call (others are None);
    ``called(call)``: the object a call calls. A name every binding of which has the same kind
    has that kind; one with a binding of another kind, or of a kind not known (a loop target, a
    tuple unpacked from a call, a pop from a list holding values of different kinds), has None.
    A list bound only to ``[]`` and appended to gives its pops the kind of what is appended.
    ``nodes``: ``list(nodes_in(function_def))``, where the caller has it.
    """
    if nodes is None:
        nodes = list(nodes_in(function_def))
    bindings = []  # (name, expression of the value bound; None: not known)
    appends = {}  # name -> the expressions appended to it
    lists = {}  # name -> whether every binding is []
    handled = set()
    # (nodes lists each node before its children: a binding's target, the list a .pop() or
    # .append() is called on, are marked handled before they are met)
    for node in nodes:
        kind = type(node)
        if kind is gast.Name:
            if id(node) in handled:
                continue
            if type(node.ctx) is gast.Store:
                bindings.append((node.id, None))  # a loop target, a with's name...
            lists[node.id] = False  # (a list read otherwise than to append or pop)
        elif kind is gast.Attribute:
            if type(node.value) is gast.Name and node.attr in ("append", "pop"):
                handled.add(id(node.value))
        elif kind is gast.Global or kind is gast.Nonlocal:
            bindings.extend((name, None) for name in node.names)
        elif kind is gast.Assign:
            for target in node.targets:
                if type(target) is gast.Name:
                    bindings.append((target.id, node.value))
                    lists[target.id] = lists.get(target.id, True) and \
                        type(node.value) is gast.List and not node.value.elts
                    handled.add(id(target))
                elif type(target) in (gast.Tuple, gast.List) and \
                        type(node.value) in (gast.Tuple, gast.List) and \
                        len(target.elts) == len(node.value.elts):
                    for element, value in zip(target.elts, node.value.elts):
                        if type(element) is gast.Name:
                            bindings.append((element.id, value))
                            lists[element.id] = False
                            handled.add(id(element))
        elif kind is gast.AugAssign and type(node.target) is gast.Name:
            bindings.append((node.target.id, gast.BinOp(left=gast.Name(
                id=node.target.id, ctx=gast.Load(), annotation=None, type_comment=None),
                op=node.op, right=node.value)))
            lists[node.target.id] = False
            handled.add(id(node.target))
        elif kind is gast.Call and type(node.func) is gast.Attribute and \
                type(node.func.value) is gast.Name and node.func.attr == "append" and \
                len(node.args) == 1 and not node.keywords:
            appends.setdefault(node.func.value.id, []).append(node.args[0])
        elif kind is gast.arguments:
            for arg in node.posonlyargs + node.args + node.kwonlyargs + \
                    [node.vararg, node.kwarg]:
                if isinstance(arg, gast.Name):
                    handled.add(id(arg))
                    bindings.append((arg.id, _Parameter(parameter_kinds.get(arg.id))))
                    lists[arg.id] = False
    pop_lists = {name for name, only_empty in lists.items() if only_empty}
    names = {name: _BOTTOM for name, _ in bindings}
    pops = {name: _BOTTOM for name in pop_lists}
    kinds = Kinds(names, called, pops)
    # A worklist: an item (a binding, or a list's pops) is looked at again when a name or a
    # list it reads changes kind. Kinds only rise (not yet seen -> a kind -> not known).
    readers = {}  # name or ("pop", list) -> the items that read it
    items = [("binding", index) for index in range(len(bindings))] + \
        [("pop", name) for name in pop_lists]
    for item in items:
        expressions = [bindings[item[1]][1]] if item[0] == "binding" else appends.get(item[1], [])
        for expression in expressions:
            if not isinstance(expression, gast.AST):
                continue
            for node in nodes_in(expression):
                if type(node) is gast.Name:
                    readers.setdefault(node.id, []).append(item)
                elif type(node) is gast.Attribute and node.attr == "pop" and \
                        type(node.value) is gast.Name and node.value.id in pop_lists:
                    readers.setdefault(("pop", node.value.id), []).append(item)
    queue, queued = collections.deque(items), set(items)
    while queue:
        item = queue.popleft()
        queued.discard(item)
        if item[0] == "binding":
            name, value = bindings[item[1]]
            if value is None:
                found = None
            elif type(value) is _Parameter:
                found = value.kind
            else:
                found = kinds.of(value)
            if found is _BOTTOM:
                continue
            joined, table, key = _join(names[name], found), names, name
        else:
            key, found = item[1], _BOTTOM
            for value in appends.get(key, []):
                value_kind = kinds.of(value)
                found = _join(found, value_kind) if value_kind is not _BOTTOM else found
            joined, table = found, pops
        if _same(joined, table[key]):
            continue
        table[key] = joined
        for reader in readers.get(key if table is names else ("pop", key), []):
            if reader not in queued:
                queued.add(reader)
                queue.append(reader)
    result = {name: (None if kind is _BOTTOM else kind) for name, kind in names.items()}
    return result, {name: (None if kind is _BOTTOM else kind) for name, kind in pops.items()}
