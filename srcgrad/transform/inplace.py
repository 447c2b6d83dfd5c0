"""In-place scaling: numbers times an array nothing reads afterwards scale that array."""
import gast
import numpy as np

from .analyze import nodes_in
from .build import constant, load, store
from .optimize import Simplify, name_uses

# Ufuncs whose result is a new floating-point array whatever the input's dtype: an array they
# made may be scaled in place by a real number.
_FLOATING = {np.exp, np.expm1, np.log, np.log1p, np.log2, np.log10, np.sqrt, np.tanh, np.sinh,
             np.cosh, np.sin, np.cos, np.tan, np.arctan, np.arcsin, np.arccos, np.arcsinh}

# Functions that read an array without keeping a view of it.
_READERS = {np.sum, np.max, np.min, np.amax, np.amin, np.mean, np.dot} | _FLOATING


def scale_in_place(function_def, specializer):
    """``d = 1.0 / np.sum(e) * e`` (or ``return ...``), where ``e`` is an array this function
    made with an ufunc such as ``np.exp`` and nothing reads afterwards, and the other factors are
    numbers -> ``e *= 1.0 / np.sum(e)`` and ``d = e``: no new array (at 10^6 elements, 8 MB less to
    allocate and fault in). ``e *= k`` is NumPy's in-place multiply, CuPy's too; on Dask, which
    has no in-place arithmetic, Python runs it as ``e = e * k``.

    Only at the top of the function (not in a loop), where every read of ``e`` is arithmetic
    or a reduction (never a view, a save on the stack, a container or the returned value); not
    in code that is differentiated again (``specializer.differentiable``).
    """
    if specializer.differentiable:
        # code differentiated again: d = e, then writes into d, is a write into e's array
        return function_def
    body = function_def.body
    shapes = specializer.shape_reader(specializer.final_shapes)
    stores, loads, fixed = name_uses(function_def)
    made = {}  # name -> index of the statement that made it with a floating ufunc
    for index, stmt in enumerate(body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and \
                isinstance(stmt.value, gast.Call) and specializer.called(stmt.value) in _FLOATING:
            made[stmt.targets[0].id] = index
    plain = _plainly_read(function_def, specializer)
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
        if divisors and scale is None and any(_is_one(f) for f, d in factors if not d):
            # 1.0 / s * e: the reciprocal as computed, then a multiply (3x a divide's speed)
            scale = gast.BinOp(left=constant(1.0), op=gast.Div(), right=_product(divisors))
        elif divisors and scale is None:
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


def _plainly_read(function_def, specializer):
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
            reader = specializer.called(node) in _READERS
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


# An array of at least this many elements is computed into a temporary rather than made new:
# a fresh array this large is fresh memory to fault in (NumPy elides temporaries from this size
# on too); smaller ones come from the allocator's cache, and out= only costs its keyword.
LARGE = 1 << 15

# Functions whose result has the dtype of their argument where that is floating, complex or
# object (zeros_like) or a floating one (reductions, products of floating arrays).
_SAME_KIND = {np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.dot, np.matmul, np.outer,
              np.zeros_like, np.ones_like, np.transpose, np.negative}


def ufunc_in_place(function_def, specializer, floating_params):
    """``v = np.tanh(x * w + b)`` where the shapes know the array is large (``LARGE``) ->
    ``v = x * w + b`` and ``np.tanh(v, out=v)``: the temporary the arithmetic made holds the
    result, and no second array is made (at 10^6 elements, 8 MB less to fault in). Also
    ``v = np.exp(s)`` at the top of the function, where ``s`` is such a temporary made by an
    earlier statement and nothing reads it afterwards: ``s`` is made under the name ``v`` and
    exponentiated in place.

    The result must have the temporary's dtype, which holds for the floating ufuncs
    (``_FLOATING``: exp of a float32 array is float32, of a complex one complex) wherever the
    argument is not an integer or boolean array (exp of an int array is float64, which
    ``out=`` refuses): the argument must be arithmetic that reads a floating value
    (``floating_params``: the arguments differentiated, float by the Derivative's checks; the
    results of floating ufuncs; a true division). CuPy has ``out=``; Dask's ufuncs take it too
    (they rebind the array).
    """
    shapes = specializer.shape_reader(specializer.final_shapes)
    floating = _floating_names(function_def, specializer, floating_params)

    def large(expr):
        shape = shapes.of(expr)
        return isinstance(shape, tuple) and shape and None not in shape and \
            int(np.prod(shape)) >= LARGE

    def rewrite(block, top):
        index = 0
        while index < len(block):
            stmt = block[index]
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    rewrite(inner, False)
            call = getattr(stmt, "value", None)
            if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and
                    isinstance(stmt.targets[0], gast.Name) and isinstance(call, gast.Call) and
                    len(call.args) == 1 and not call.keywords and
                    _floating_ufunc(call, specializer) and large(call) and
                    shapes.of(call.args[0]) == shapes.of(call)):
                index += 1
                continue
            name, argument = stmt.targets[0].id, call.args[0]
            if _fresh(argument) and _is_floating(argument, floating, specializer):
                block[index:index + 1] = _computed_in(name, argument, call, stmt)
                index += 2
                continue
            made = _made_before(block, index, argument, specializer) if top else None
            if made is not None and _is_floating(block[made].value, floating, specializer):
                made_stmt = block[made]
                block[made] = gast.copy_location(gast.Assign(
                    targets=[store(name)], value=made_stmt.value, type_comment=None), made_stmt)
                for between in block[made + 1:index]:
                    _rename_loads(between, argument.id, name)
                block[index:index + 1] = [_applied(name, call, stmt)]
            index += 1

    rewrite(function_def.body, True)
    return function_def


def _computed_in(name, argument, call, stmt):
    return [gast.copy_location(gast.Assign(targets=[store(name)], value=argument,
                                           type_comment=None), stmt),
            _applied(name, call, stmt)]


def _applied(name, call, stmt):
    applied = gast.Call(func=call.func, args=[load(name)],
                        keywords=[gast.keyword(arg="out", value=load(name))])
    return gast.copy_location(gast.Expr(value=applied), stmt)


def _fresh(expr):
    """Arithmetic that certainly makes a new array (never a view of its operands)."""
    return isinstance(expr, gast.BinOp) or \
        isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub)


def _floating_ufunc(call, specializer):
    try:
        return specializer.called(call) in _FLOATING
    except TypeError:  # an unhashable callable
        return False


def _made_before(block, index, argument, specializer):
    """The position of ``s = <arithmetic>`` earlier in ``block``, where ``s`` (``argument``) is
    bound nowhere else, read by nothing after ``block[index]`` and, between, only as an operand
    of arithmetic or a reduction (no view of it, no save); else None."""
    if not isinstance(argument, gast.Name):
        return None
    name = argument.id
    made = [at for at, stmt in enumerate(block[:index]) if isinstance(stmt, gast.Assign) and
            any(isinstance(n, gast.Name) and n.id == name for t in stmt.targets
                for n in nodes_in(t))]
    if len(made) != 1:
        return None
    at = made[0]
    stmt = block[at]
    if not (len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name) and
            _fresh(stmt.value)):
        return None
    target = block[index].targets[0].id
    for other in block[:at] + block[index + 1:]:
        if any(isinstance(n, gast.Name) and n.id == name for n in nodes_in(other)):
            return None
    for other in block[at:index + 1]:
        if any(isinstance(n, gast.Name) and n.id == target and
               (other is not block[index] or isinstance(n.ctx, gast.Load))
               for n in nodes_in(other)):
            return None
    for other in block[at + 1:index]:
        if not _only_plainly_read(other, name, specializer):
            return None
    return at


def _only_plainly_read(stmt, name, specializer):
    """Every read of ``name`` in ``stmt`` is an operand of arithmetic, a comparison or a
    reduction (``_READERS``), and ``stmt`` is an assignment to names or an expression."""
    if not isinstance(stmt, (gast.Assign, gast.Expr)) or isinstance(stmt, gast.Assign) and \
            not all(isinstance(t, gast.Name) for t in stmt.targets):
        return False
    for node in nodes_in(stmt):
        if isinstance(node, (gast.BinOp, gast.UnaryOp, gast.Compare)):
            continue
        children = [c for _, c in gast.iter_fields(node)]
        children = [item for c in children for item in (c if isinstance(c, list) else [c])]
        if isinstance(node, gast.Call) and _reader(node, specializer):
            children = [k.value for k in node.keywords]
        if any(isinstance(c, gast.Name) and c.id == name for c in children):
            return False
    return True


def _reader(call, specializer):
    try:
        return specializer.called(call) in _READERS
    except TypeError:
        return False


def _rename_loads(tree, old, new):
    for node in nodes_in(tree):
        if isinstance(node, gast.Name) and node.id == old:
            node.id = new


def _floating_names(function_def, specializer, floating_params):
    """Names every binding of which is a floating (or complex) value: see ufunc_in_place."""
    values = {}  # name -> the expressions bound to it, None for a binding of unknown kind
    for node in nodes_in(function_def):
        if isinstance(node, gast.Assign):
            for target in node.targets:
                for name in nodes_in(target):
                    if isinstance(name, gast.Name):
                        values.setdefault(name.id, []).append(
                            node.value if target is name else None)
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            values.setdefault(node.target.id, []).append(node.target)  # keeps its dtype
        elif isinstance(node, (gast.For, gast.comprehension, gast.NamedExpr)):
            for name in nodes_in(node.target):
                if isinstance(name, gast.Name):
                    values.setdefault(name.id, []).append(None)
        elif isinstance(node, gast.arguments):
            for arg in node.args + node.kwonlyargs + [node.vararg, node.kwarg]:
                if isinstance(arg, gast.Name) and arg.id not in floating_params:
                    values.setdefault(arg.id, []).append(None)
    floating = {n for n in values if None not in values[n]} | set(floating_params)
    while True:  # the largest set consistent with every binding
        kept = {n for n in floating
                if all(_is_floating(v, floating, specializer) for v in values.get(n, []))}
        if kept == floating:
            return floating
        floating = kept


def _is_floating(expr, floating, specializer):
    if isinstance(expr, gast.Name):
        return expr.id in floating
    if isinstance(expr, gast.Constant):
        return type(expr.value) in (float, complex)
    if isinstance(expr, gast.BinOp):
        if isinstance(expr.op, gast.Div):
            return True
        return isinstance(expr.op, (gast.Add, gast.Sub, gast.Mult, gast.Pow, gast.MatMult,
                                    gast.FloorDiv, gast.Mod)) and \
            (_is_floating(expr.left, floating, specializer) or
             _is_floating(expr.right, floating, specializer))
    if isinstance(expr, gast.UnaryOp):
        return isinstance(expr.op, (gast.USub, gast.UAdd)) and \
            _is_floating(expr.operand, floating, specializer)
    if isinstance(expr, gast.Subscript):
        return _is_floating(expr.value, floating, specializer)
    if isinstance(expr, gast.Attribute) and expr.attr == "T":
        return _is_floating(expr.value, floating, specializer)
    if isinstance(expr, gast.Call):
        try:
            function = specializer.called(expr)
            if function in _FLOATING:
                return True
            return function in _SAME_KIND and bool(expr.args) and \
                _is_floating(expr.args[0], floating, specializer)
        except TypeError:
            return False
    return False
