"""In-place scaling: numbers times an array nothing reads afterwards scale that array."""
import gast
import numpy as np

from .analyze import nodes_in
from .build import load, store
from .optimize import Simplify, name_uses

# Ufuncs whose result is a new floating-point array whatever the input's dtype: an array they
# made may be scaled in place by a real number.
_FLOATING = {np.exp, np.expm1, np.log, np.log1p, np.log2, np.log10, np.sqrt, np.tanh, np.sinh,
             np.cosh, np.sin, np.cos, np.tan, np.arctan, np.arcsin, np.arccos, np.arcsinh}

# Functions that read an array without keeping a view of it.
_READERS = {np.sum, np.max, np.min, np.amax, np.amin, np.mean, np.dot} | _FLOATING


def scale_in_place(function_def, engine):
    """``d = 1.0 / np.sum(e) * e`` (or ``return ...``), where ``e`` is an array this function
    made with an ufunc such as ``np.exp`` and nothing reads afterwards, and the other factors are
    numbers -> ``e /= np.sum(e)`` and ``d = e``: no new array (at 10^6 elements, 8 MB less to
    allocate and fault in). ``e *= k`` is NumPy's in-place multiply, CuPy's too; on Dask, which
    has no in-place arithmetic, Python runs it as ``e = e * k``.

    Only at the top of the function (not in a loop), where every read of ``e`` is arithmetic
    or a reduction (never a view, a save on the stack, a container or the returned value); not
    in code that is differentiated again (``engine.differentiable``).
    """
    if getattr(engine, "differentiable", False):
        # code differentiated again: d = e, then writes into d, is a write into e's array
        return function_def
    body = function_def.body
    shapes = engine.shape_reader(engine.final_shapes)
    stores, loads, fixed = name_uses(function_def)
    made = {}  # name -> index of the statement that made it with a floating ufunc
    for index, stmt in enumerate(body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and \
                isinstance(stmt.value, gast.Call) and engine.called(stmt.value) in _FLOATING:
            made[stmt.targets[0].id] = index
    plain = _plainly_read(function_def, engine)
    index = 0
    while index < len(body):
        stmt = body[index]
        value = getattr(stmt, "value", None)
        if not (isinstance(stmt, gast.Return) or (
                isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name))) or \
                not (isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Mult, gast.Div))):
            index += 1
            continue
        factors = _factors(value, False)
        shape = shapes.of(value)
        arrays = [f for f, _ in factors if shapes.of(f) != ()]
        if not (isinstance(shape, tuple) and shape and None not in shape) or len(arrays) != 1 or \
                any(not isinstance(shapes.of(f), tuple) for f, _ in factors):
            index += 1
            continue
        array = arrays[0]
        name = getattr(array, "id", None)
        if not (isinstance(array, gast.Name) and name in made and made[name] < index and
                stores.get(name) == 1 and name not in fixed and name in plain and
                shapes.of(array) == shape and
                not any(d for f, d in factors if f is array) and
                not any(_reads(later, name) for later in body[index + 1:])):
            index += 1
            continue
        multipliers = [f for f, d in factors if f is not array and not d and not _is_one(f)]
        divisors = [f for f, d in factors if d]
        scale, op = _product(multipliers), gast.Mult()
        if divisors and scale is None:
            scale, op = _product(divisors), gast.Div()
        elif divisors:
            for divisor in divisors:
                scale = gast.BinOp(left=scale, op=gast.Div(), right=divisor)
        if scale is None:
            index += 1
            continue
        update = gast.AugAssign(target=store(name), op=op, value=Simplify().visit(scale))
        if isinstance(stmt, gast.Return):
            rest = gast.Return(value=load(name))
        else:
            rest = gast.Assign(targets=stmt.targets, value=load(name), type_comment=None)
        body[index:index + 1] = [gast.copy_location(update, stmt), gast.copy_location(rest, stmt)]
        index += 2
    return function_def


def _factors(expr, divided):
    """The factors of a product or quotient: (expression, whether it divides)."""
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Mult):
        return _factors(expr.left, divided) + _factors(expr.right, divided)
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Div):
        return _factors(expr.left, divided) + _factors(expr.right, not divided)
    return [(expr, divided)]


def _product(factors):
    total = None
    for factor in factors:
        total = factor if total is None else gast.BinOp(left=total, op=gast.Mult(), right=factor)
    return total


def _is_one(expr):
    return isinstance(expr, gast.Constant) and type(expr.value) in (int, float) and \
        expr.value == 1


def _reads(tree, name):
    return any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)
               for n in nodes_in(tree))


def _plainly_read(function_def, engine):
    """Names every read of which is an operand of arithmetic or a comparison, or an argument of
    a function that keeps no view of it (``_READERS``)."""
    plain, other = set(), set()
    for node in nodes_in(function_def):
        children = []
        if isinstance(node, gast.BinOp):
            children = [(node.left, True), (node.right, True)]
        elif isinstance(node, gast.UnaryOp):
            children = [(node.operand, True)]
        elif isinstance(node, gast.Compare):
            children = [(node.left, True)] + [(c, True) for c in node.comparators]
        elif isinstance(node, gast.Call):
            reader = engine.called(node) in _READERS
            children = [(a, reader) for a in node.args] + \
                [(k.value, False) for k in node.keywords]
        else:
            children = [(child, False) for _, child in gast.iter_fields(node)
                        if isinstance(child, gast.Name)]
            children += [(item, False) for _, child in gast.iter_fields(node)
                         if isinstance(child, list) for item in child
                         if isinstance(item, gast.Name)]
        for child, fine in children:
            if isinstance(child, gast.Name) and isinstance(child.ctx, gast.Load):
                (plain if fine else other).add(child.id)
    return plain - other
