"""Array shapes of a function's values, inferred from the shapes of the arguments it is called with.

Generated code is specialized to the shapes of the first call's arguments (one version per
argument signature, see api.py): where the shapes say that broadcasting did nothing, the adjoint
needs no ``unbroadcast``, its operands need not be kept for their shape, and the adjoint of a
number can be a number. Inference is conservative: a shape is a tuple of ints only where it is
certain; ``None`` stands for a length that is not known, ``UNKNOWN`` for a value that is not an
array or number srcgrad understands (a list, a user object, the result of an unknown call).

It is flow-insensitive, which keeps it simple and sound for loops: a name's shape is what every
assignment to it agrees on, found by iterating to a fixed point; where assignments disagree (a
loop that grows an array), the name is UNKNOWN.
"""
import builtins
import operator
import dataclasses
from dataclasses import dataclass

import gast
import numpy as np

from .. import runtime
from ..runtime import copy_of

UNKNOWN = "unknown"
DIMS = "dims"  # the value of ``x.shape``: a tuple of ints, whose items are numbers

_REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.std, np.var,
               np.all, np.any, np.nansum, np.nanmean}
_SAME_SHAPE = {np.zeros_like, runtime.zeros_like, runtime.zeros_like_each, np.ones_like,
               np.empty_like, np.copy, copy_of, np.negative,
               np.positive, np.real, np.imag, np.conj, abs, np.asarray}
_NUMBERS = {float, int, len, bool, complex, runtime.size_of, runtime.ndim_of}
# Runtime helpers whose result has the shape of one of their arguments (by position).
_SHAPE_OF_ARGUMENT = {runtime.unbroadcast: 1, runtime.broadcast_like: 1, runtime.expand_reduced: 1,
                      runtime.broadcast_back: 1,
                      runtime.matmul_adjoint_left: 1, runtime.matmul_adjoint_right: 2,
                      runtime.dot_adjoint_left: 1, runtime.dot_adjoint_right: 2,
                      runtime.cast_like: 0, runtime.copy_of: 0, runtime.norm_adjoint: 2}
_BINARY = {gast.Add, gast.Sub, gast.Mult, gast.Div, gast.FloorDiv, gast.Mod, gast.Pow}


@dataclass(frozen=True)
class Tree:
    """The shape of a container (a list, tuple or dict): the shape of each element, by position
    or key. Its derivative is a container of its elements' derivatives (runtime.zeros_like_each)."""

    keys: tuple
    children: tuple

    def child(self, key):
        """The shape of element ``key``; for an index not known here (a loop counter), the
        shape all elements share, else UNKNOWN."""
        if key is not _ANY_KEY:
            return dict(zip(self.keys, self.children)).get(key, UNKNOWN)
        return self.children[0] if self.children and len(set(self.children)) == 1 else UNKNOWN


_ANY_KEY = object()
MAX_TREE_SIZE = 10_000  # elements read for a container's shape; larger ones are UNKNOWN


def argument_shape(value, depth=0):
    """The shape key of one argument: () for numbers, the shape of an array, a Tree for a list,
    tuple or dict of such values, else UNKNOWN."""
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return ()
    if isinstance(value, range):  # a sequence of ints (a segment of sg.checkpoint_range)
        return (None,)
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and depth < 32:
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple, dict)) and depth < 32 and len(value) <= MAX_TREE_SIZE:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        try:
            keys, children = zip(*((k, argument_shape(v, depth + 1)) for k, v in items)) \
                if len(value) else ((), ())
            tree = Tree(tuple(keys), tuple(children))
            hash(tree)
        except TypeError:  # a key that is not hashable
            return UNKNOWN
        return tree
    shape = getattr(value, "shape", None)
    if type(shape) is tuple and not isinstance(value, np.matrix) and hasattr(value, "dtype"):
        return tuple(n if type(n) is int else None for n in shape)  # Dask: nan for unknown
    return UNKNOWN


# A keyword entry of a signature (api.argument_signature) saying that some argument is an array
# of another library than NumPy (CuPy, Dask, a duck array): the code for it keeps to NumPy's
# dispatching functions (np.sum(x)), where code for NumPy arrays may call their methods.
FOREIGN_ARRAYS = ("<arrays other than numpy's>", ())


def has_foreign_arrays(value, depth=0):
    """Is ``value``, or an element of it (lists, tuples, dicts, dataclasses), an array that is
    not a NumPy ndarray (or subclass)?"""
    if isinstance(value, np.ndarray) or isinstance(value, (bool, int, float, complex, np.generic)):
        return False
    if depth >= 32:
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple, dict)):
        items = value.values() if isinstance(value, dict) else value
        return len(value) > MAX_TREE_SIZE or any(has_foreign_arrays(v, depth + 1) for v in items)
    return type(getattr(value, "shape", None)) is tuple and hasattr(value, "dtype")


def is_known(shape):
    """A shape whose every length is known (equality of two such shapes is certain)."""
    return isinstance(shape, tuple) and None not in shape


def broadcast(*shapes):
    """NumPy's broadcast of the shapes, UNKNOWN if any is, or if they cannot broadcast."""
    if any(not isinstance(s, tuple) for s in shapes):
        return UNKNOWN
    result = []
    for lengths in zip(*(((1,) * (max(map(len, shapes)) - len(s)) + s) for s in shapes)):
        stretched = {n for n in lengths if n != 1}
        if not stretched:
            result.append(1)
        elif len(stretched) == 1:
            result.append(stretched.pop())
        elif None in stretched and len(stretched) == 2:
            result.append((stretched - {None}).pop())  # a valid program has them agree
        else:
            return UNKNOWN
    return tuple(result)


def matmul_shape(a, b):
    if not (isinstance(a, tuple) and isinstance(b, tuple)) or not a or not b:
        return UNKNOWN
    if len(a) == 1 and len(b) == 1:
        return ()
    if len(b) == 1:
        return a[:-1]
    if len(a) == 1:
        return b[:-2] + b[-1:]
    batch = broadcast(a[:-2], b[:-2])
    return UNKNOWN if batch == UNKNOWN else batch + (a[-2], b[-1])


def reduced_shape(shape, axis, keepdims):
    if axis is None and not keepdims:
        return ()  # whatever it reduces
    if not isinstance(shape, tuple):
        return UNKNOWN
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not all(type(a) is int and -len(shape) <= a < len(shape) for a in axes):
        return UNKNOWN
    axes = {a % len(shape) for a in axes}
    return tuple(1 if i in axes else n for i, n in enumerate(shape)
                 if keepdims or i not in axes)


def indexed_shape(shape, index, shape_of):
    """The shape of ``x[index]`` for basic indexing (integers, slices, None, ...)."""
    if isinstance(shape, Tree):  # an element of a container
        if isinstance(index, gast.Constant):
            return shape.child(index.value)
        if isinstance(index, gast.UnaryOp) and isinstance(index.op, gast.USub) and \
                isinstance(index.operand, gast.Constant) and shape.keys:
            return shape.child(len(shape.keys) - index.operand.value)
        return shape.child(_ANY_KEY) if shape_of(index) == () else UNKNOWN
    if shape == DIMS:
        return () if shape_of(index) == () else UNKNOWN
    if not isinstance(shape, tuple):
        return UNKNOWN
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    consumed = sum(1 for p in parts if not _is_constant(p, None) and not _is_constant(p, ...))
    if consumed > len(shape) or sum(_is_constant(p, ...) for p in parts) > 1:
        return UNKNOWN
    result, axis = [], 0
    for part in parts:
        if _is_constant(part, None):
            result.append(1)
        elif _is_constant(part, ...):
            skipped = len(shape) - consumed
            result.extend(shape[axis:axis + skipped])
            axis += skipped
        elif isinstance(part, gast.Slice):
            result.append(_sliced_length(shape[axis], part))
            axis += 1
        elif shape_of(part) == () and not _is_constant_of_type(part, (float, bool)):
            axis += 1  # an integer picks one element along the axis
        else:
            return _fancy_indexed_shape(shape, parts, shape_of)
    return tuple(result) + shape[axis:]


def _fancy_indexed_shape(shape, parts, shape_of):
    """``x[i, j]`` with 1-D index arrays (and integers) only: one axis of unknown length (a
    boolean mask picks as many elements as it has True values), then the axes not indexed."""
    part_shapes = [shape_of(p) for p in parts]
    if not all(isinstance(s, tuple) and len(s) <= 1 for s in part_shapes) or \
            any(isinstance(p, gast.Slice) or _is_constant(p, None) or _is_constant(p, ...)
                for p in parts):
        return UNKNOWN
    return (None,) + shape[len(parts):]


def _sliced_length(length, part):
    bounds = [part.lower, part.upper, part.step]
    if all(b is None for b in bounds):
        return length
    if length is None or not all(b is None or _is_constant_of_type(b, (int,)) or
                                 _negative_int(b) is not None for b in bounds):
        return None
    values = [None if b is None else _int_value(b) for b in bounds]
    return len(range(length)[slice(*values)])


def _is_constant(node, value):
    return isinstance(node, gast.Constant) and node.value is value


def _is_constant_of_type(node, types):
    return isinstance(node, gast.Constant) and type(node.value) in types


def _negative_int(node):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) and \
            _is_constant_of_type(node.operand, (int,)):
        return -node.operand.value
    return None


def _int_value(node):
    return node.value if isinstance(node, gast.Constant) else _negative_int(node)


def constant_value(node):
    """The Python value of a constant expression (ints, tuples of ints, None, True), or raise."""
    if isinstance(node, gast.Constant):
        return node.value
    if _negative_int(node) is not None:
        return _negative_int(node)
    if isinstance(node, gast.Tuple):
        return tuple(constant_value(e) for e in node.elts)
    raise ValueError("not a constant")


class Shapes:
    """The shapes of expressions, given the shapes of names (``lookup``) and a way to find the
    object a called expression names (``resolve``)."""

    def __init__(self, lookup, resolve, user_call=None):
        self.lookup = lookup
        self.resolve = resolve
        self.user_call = user_call  # (function, signature) -> shape of what it returns

    def of(self, expr):
        """The shape of ``expr``, UNKNOWN, or None where a name it reads has no shape yet."""
        try:
            return self._shape(expr)
        except _NotYet:
            return None

    def _shape(self, expr):
        if isinstance(expr, gast.Constant):
            return () if type(expr.value) in (int, float, bool, complex) else UNKNOWN
        if isinstance(expr, (gast.Tuple, gast.List)) and isinstance(expr.ctx, gast.Load) and \
                not any(isinstance(e, gast.Starred) for e in expr.elts):
            return Tree(tuple(range(len(expr.elts))), tuple(self._shape(e) for e in expr.elts))
        if isinstance(expr, gast.Dict) and all(isinstance(k, gast.Constant) for k in expr.keys):
            return Tree(tuple(k.value for k in expr.keys), tuple(self._shape(v)
                                                                 for v in expr.values))
        if isinstance(expr, gast.Name):
            shape = self.lookup(expr.id)
            if shape is None:
                raise _NotYet
            return shape
        if isinstance(expr, gast.BinOp):
            left, right = self._shape(expr.left), self._shape(expr.right)
            if isinstance(expr.op, gast.MatMult):
                return matmul_shape(left, right)
            return broadcast(left, right) if type(expr.op) in _BINARY else UNKNOWN
        if isinstance(expr, gast.UnaryOp):
            operand = self._shape(expr.operand)
            return operand if isinstance(expr.op, (gast.USub, gast.UAdd)) else UNKNOWN
        if isinstance(expr, gast.Compare) and len(expr.comparators) == 1:
            return broadcast(self._shape(expr.left), self._shape(expr.comparators[0]))
        if isinstance(expr, gast.Attribute):
            value = self._shape(expr.value)
            if expr.attr == "T":
                return value[::-1] if isinstance(value, tuple) else UNKNOWN
            if expr.attr == "shape" and isinstance(value, tuple):
                return DIMS
            if expr.attr in ("size", "ndim") and isinstance(value, tuple):
                return ()
            return UNKNOWN
        if isinstance(expr, gast.Subscript):
            return indexed_shape(self._shape(expr.value), expr.slice, self._shape)
        if isinstance(expr, gast.Call):
            return self._call(expr)
        return UNKNOWN

    def _call(self, expr):
        user_function = getattr(expr, "sg_user_function", None)
        if user_function is not None:
            if self.user_call is None or any(isinstance(a, gast.Starred) for a in expr.args):
                return UNKNOWN
            signature = (tuple(self._shape(a) for a in expr.args),
                         tuple(sorted((k.arg, self._shape(k.value)) for k in expr.keywords)))
            return self.user_call(user_function, signature)
        function = getattr(expr, "sg_function", None) or self.resolve(expr.func)
        if function is None or expr.args and isinstance(expr.args[-1], gast.Starred):
            return UNKNOWN
        try:
            if function in _SHAPE_OF_ARGUMENT and len(expr.args) > _SHAPE_OF_ARGUMENT[function]:
                return self._shape(expr.args[_SHAPE_OF_ARGUMENT[function]])
        except TypeError:  # an unhashable callable
            return UNKNOWN
        args = [self._shape(a) for a in expr.args]
        keywords = {k.arg: k.value for k in expr.keywords}
        try:
            if isinstance(function, np.ufunc) and len(args) == function.nin and \
                    not keywords.keys() - {"dtype"}:
                return broadcast(*args)
            if function in _SAME_SHAPE and len(args) == 1 and not keywords.keys() - {"dtype"}:
                return args[0]
            if function in _NUMBERS:
                return ()
            if function in _REDUCTIONS and len(args) >= 1:
                axis = constant_value(keywords["axis"]) if "axis" in keywords else \
                    constant_value(expr.args[1]) if len(expr.args) > 1 else None
                keepdims = constant_value(keywords["keepdims"]) if "keepdims" in keywords \
                    else False
                if len(expr.args) > 2 or keywords.keys() - {"axis", "keepdims"}:
                    return UNKNOWN
                return reduced_shape(args[0], axis, bool(keepdims))
            if function in (np.matmul, operator.matmul) and len(args) == 2:
                return matmul_shape(*args)
            if function is np.dot and len(args) == 2 and all(
                    isinstance(a, tuple) and len(a) <= 2 for a in args):
                return broadcast(*args) if () in args else matmul_shape(*args)
            if function is np.where and len(args) == 3 or function is np.clip and \
                    len(args) == 3:
                return broadcast(*args)
            if function is np.transpose and len(args) == 1 and not keywords:
                return args[0][::-1] if isinstance(args[0], tuple) else UNKNOWN
            if function in (builtins.max, builtins.min) and args and \
                    all(a == () for a in args) and not keywords:
                return ()
        except (ValueError, KeyError):
            return UNKNOWN
        return UNKNOWN


class _NotYet(Exception):
    """A name read before the fixed point has given it a shape."""


def infer_shapes(body, param_shapes, resolve, local_names, user_call=None, fixed=frozenset()):
    """Map each name of ``body`` (normalized statements) to its shape, or UNKNOWN.

    ``param_shapes`` gives the parameters' shapes; ``resolve`` the object a name or call names;
    ``local_names`` the function's own variables (any other name is a global, which may change
    between calls: only its numbers count as known). ``fixed``: names of ``param_shapes`` whose
    shapes are known already (worked out elsewhere), which the assignments in ``body`` leave
    as they are.
    """
    found = dict(param_shapes)

    def lookup(name):
        if name in local_names:
            return found.get(name)
        value = resolve(gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None))
        return () if type(value) in (int, float, bool) else UNKNOWN

    shapes = Shapes(lookup, resolve, user_call)
    bindings = list(_bindings(body))

    def join(name, shape):
        if shape is None or name in fixed:
            return False
        old = found.get(name)
        new = shape if old is None or old == shape else UNKNOWN
        if new != old:
            found[name] = new
            return True
        return False

    changed = True
    while changed:
        changed = False
        for name, kind, node in bindings:
            if kind == "value":
                changed |= join(name, shapes.of(node))
            elif kind == "element":  # for name in node: one element of it
                if _is_range(node, resolve):
                    changed |= join(name, ())
                else:
                    container = shapes.of(node)
                    if container is not None:
                        changed |= join(name, container[1:] if isinstance(container, tuple)
                                        and container else UNKNOWN)
            else:
                changed |= join(name, UNKNOWN)
    return found


def _bindings(body):
    """(name, kind, node) for every binding: kind "value" (name = node), "element" (a loop
    target over node) or "other" (something this pass does not follow)."""
    for node in gast.walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Assign):
            for target in node.targets:
                if isinstance(target, gast.Name):
                    yield target.id, "value", node.value
                else:
                    for child in gast.walk(target):
                        if isinstance(child, gast.Name) and isinstance(child.ctx, gast.Store) \
                                and not isinstance(target, gast.Subscript):
                            yield child.id, "other", None
        elif isinstance(node, gast.For):
            if isinstance(node.target, gast.Name):
                yield node.target.id, "element", node.iter
            else:
                for child in gast.walk(node.target):
                    if isinstance(child, gast.Name):
                        yield child.id, "other", None
        elif isinstance(node, (gast.AugAssign, gast.AnnAssign, gast.With, gast.NamedExpr)):
            for child in gast.walk(node):
                if isinstance(child, gast.Name) and isinstance(child.ctx, gast.Store):
                    yield child.id, "other", None


def _is_range(expr, resolve):
    """``range(...)`` or ``reversed(range(...))``: the loop target is an int."""
    if not isinstance(expr, gast.Call):
        return False
    function = resolve(expr.func)
    if function is reversed and len(expr.args) == 1:
        return _is_range(expr.args[0], resolve)
    return function is range
