"""Loop-level batching: products added up over the steps of a loop become one product after it."""
import gast
import numpy as np

from .analyze import nodes_in
from .build import call, clone, load, rewrite_for_loops, store


# A dot of vectors longer than this costs more than the call: copying them into one stack
# then costs more than the calls it saves (the Euler ODE at n=2x10^4 ran 2x slower batched).
SMALL_VECTOR = 256
# A product of larger operands per step is efficient on its own, and the stacks would hold
# a second copy of every step's operands (the RNN at batch 64, hidden 256: 4x the memory).
SMALL_STEP = 4096


def batch_accumulations(function_def, specializer):
    """In a ``for`` loop, ``d += a.T @ g`` (``np.outer(a, g)``, ``np.dot(a, g)`` of vectors)
    where nothing else in the loop touches ``d`` -> the loop appends ``a`` and ``g`` to lists
    and after it ``d += np.concatenate(a_steps).T @ np.concatenate(g_steps)``: one matrix
    product (one BLAS call over all steps) instead of one per step.

    Only where what a list holds cannot change before the loop ends: nothing in the loop
    writes into ``a``, ``g`` or the arrays they index (no element writes at all, no ``+=`` into
    them, no other name for them), and the shapes are known. A loop that may run zero times
    gets the product under ``if a_steps:``. Dots of vectors are batched only where they are
    short (``SMALL_VECTOR``), where the call costs more than the arithmetic, and products only
    where each step's operands are small (``SMALL_STEP`` elements), where the stacks cost little
    memory. A list becomes its stack under its own name (``h_steps = np.concatenate(h_steps)``),
    so the steps' arrays are freed as soon as they are stacked.
    """
    shapes = specializer.shape_reader(specializer.final_shapes)

    def batch(block, index):
        loop = block[index]
        before, after = _batch(loop, specializer, shapes) if not loop.orelse else ([], [])
        block[index:index + 1] = before + [loop] + after
        return len(before), len(after)

    rewrite_for_loops(function_def.body, batch)
    return function_def


def _batch(loop, specializer, shapes):
    body = loop.body
    if any(isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store)
           for s in body for n in nodes_in(s)):
        return [], []  # element writes (restoring the primal's arrays): views may change
    written = set()  # names updated in place in the loop
    aliases = set()  # names the loop binds to another name's array
    for s in body:
        for n in nodes_in(s):
            if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
                written.add(n.target.id)
            elif isinstance(n, gast.Assign) and isinstance(n.value, gast.Name):
                aliases |= {n.value.id} | {t.id for t in n.targets if isinstance(t, gast.Name)}
            elif isinstance(n, (gast.For, gast.While, gast.If, gast.FunctionDef, gast.Lambda)):
                return [], []
    target_names = {n.id for n in nodes_in(loop.target) if isinstance(n, gast.Name)}
    candidates = {}
    for position, stmt in enumerate(body):
        product = _accumulated_product(stmt, specializer, shapes)
        if product is not None:
            candidates[position] = product
    found = []
    for position, (accumulator, kind, left, right, op) in candidates.items():
        others = [s for at, s in enumerate(body) if at not in candidates or
                  candidates[at][0] != accumulator]  # several products into d are fine
        if any(_touches(s, accumulator) for s in others) or accumulator in target_names or \
                any(not _stays(e, written | aliases | {accumulator}) for e in (left, right)):
            continue
        found.append((position, accumulator, kind, left, right, op))
    if not found:
        return [], []
    lists = {}  # expression text -> list name
    before, after, appends = [], [], {}
    stacked = {}
    for position, accumulator, kind, left, right, op in found:
        for operand in (left, right):
            text = _text(operand)
            if text not in lists:
                lists[text] = specializer.names.fresh(_label(operand) + "_steps")
                before.append(_assign(lists[text], gast.List(elts=[], ctx=gast.Load())))
                appends.setdefault(position, []).append(gast.Expr(value=call(
                    gast.Attribute(value=load(lists[text]), attr="append", ctx=gast.Load()),
                    clone(operand))))
    for position, accumulator, kind, left, right, op in found:
        joined = []
        for operand in (left, right):
            name = lists[_text(operand)]
            if name not in stacked:
                stacked[name] = name  # the list's arrays go once stacked
                joiner = "stack" if kind == "outer" else "concatenate"
                after.append(_assign(stacked[name], call(specializer.np_function(joiner),
                                                         load(name))))
            joined.append(load(stacked[name]))
        if kind == "dot":
            total = call(specializer.np_function("dot"), *joined)
        else:
            total = gast.BinOp(left=gast.Attribute(value=joined[0], attr="T", ctx=gast.Load()),
                               op=gast.MatMult(), right=joined[1])
        after.append(gast.AugAssign(target=store(accumulator), op=type(op)(), value=total))
    for position in sorted({p for p, *_ in found}, reverse=True):
        body[position:position + 1] = appends.get(position, [])
    for stmt in before + after:
        gast.copy_location(stmt, loop)
    count = _runs(loop, shapes)
    for position, accumulator, kind, left, right, _ in found if count else ():  # start_dense
        for operand in (left, right):
            shape = shapes.of(operand)
            specializer.final_shapes[stacked[lists[_text(operand)]]] = \
                (count,) + shape if kind == "outer" else (count * shape[0],) + shape[1:]
    if not count:
        first = lists[_text(found[0][3])]
        guard = gast.If(test=load(first), body=after, orelse=[])
        after = [gast.copy_location(guard, loop)]
    return before, after


def _accumulated_product(stmt, specializer, shapes):
    """(d, kind, a, g, + or -) of ``d += a.T @ g``, ``d += np.outer(a, g)``,
    ``d += np.dot(a, g)``, or the same with ``-=``."""
    if not (isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, (gast.Add, gast.Sub)) and
            isinstance(stmt.target, gast.Name)):
        return None
    value, accumulator = stmt.value, stmt.target.id
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.MatMult) and \
            isinstance(value.left, gast.Attribute) and value.left.attr == "T":
        left, right = value.left.value, value.right
        if _matrix(shapes.of(left)) and _matrix(shapes.of(right)) and \
                shapes.of(left)[0] == shapes.of(right)[0] and \
                max(_size(shapes.of(left)), _size(shapes.of(right))) <= SMALL_STEP:
            return accumulator, "matmul", left, right, stmt.op
        return None
    if isinstance(value, gast.Call) and len(value.args) == 2 and not value.keywords:
        function = specializer.called(value)
        left, right = value.args
        vectors = _vector(shapes.of(left)) and _vector(shapes.of(right))
        if function is np.outer and vectors and \
                max(shapes.of(left)[0], shapes.of(right)[0]) <= SMALL_STEP:
            return accumulator, "outer", left, right, stmt.op
        if function is np.dot and vectors and shapes.of(left) == shapes.of(right) and \
                shapes.of(left)[0] <= SMALL_VECTOR:
            return accumulator, "dot", left, right, stmt.op
    return None


def _size(shape):
    return shape[0] * shape[1]


def _matrix(shape):
    return isinstance(shape, tuple) and len(shape) == 2 and None not in shape


def _vector(shape):
    return isinstance(shape, tuple) and len(shape) == 1 and None not in shape


def _stays(expr, changing):
    """Is ``expr`` a name or an index of a name whose array the loop never changes?"""
    if isinstance(expr, gast.Name):
        return expr.id not in changing
    if isinstance(expr, gast.Subscript) and isinstance(expr.value, gast.Name):
        return expr.value.id not in changing and not any(
            isinstance(n, gast.Call) for n in nodes_in(expr.slice))
    return False


def _touches(stmt, name):
    return any(isinstance(n, gast.Name) and n.id == name for n in nodes_in(stmt))


def _runs(loop, shapes):
    """How often the loop runs where that is known (``range`` of known bounds), else 0."""
    iterable = loop.iter
    if isinstance(iterable, gast.Call) and isinstance(iterable.func, gast.Name) and \
            iterable.func.id == "reversed" and len(iterable.args) == 1:
        iterable = iterable.args[0]
    if not (isinstance(iterable, gast.Call) and isinstance(iterable.func, gast.Name) and
            iterable.func.id == "range" and 1 <= len(iterable.args) <= 3):
        return False
    bounds = [_integer(a, shapes) for a in iterable.args]
    return 0 if None in bounds else len(range(*bounds))


def _integer(expr, shapes):
    """The value of an int constant or of ``x.shape[k]`` with x's shape known, else None."""
    if isinstance(expr, gast.Constant) and type(expr.value) is int:
        return expr.value
    if isinstance(expr, gast.Subscript) and isinstance(expr.value, gast.Attribute) and \
            expr.value.attr == "shape" and isinstance(expr.slice, gast.Constant) and \
            type(expr.slice.value) is int:
        shape = shapes.of(expr.value.value)
        if isinstance(shape, tuple) and -len(shape) <= expr.slice.value < len(shape):
            return shape[expr.slice.value]
    return None


def _label(expr):
    """A name for the values of ``expr``: ``h``, ``x_t`` for ``x[t]``."""
    parts = [n.id for n in nodes_in(expr) if isinstance(n, gast.Name)]
    ordered = sorted(set(parts), key=lambda p: _text(expr).index(p))
    return "_".join(ordered) or "value"


def _text(expr):
    import ast
    return ast.unparse(gast.gast_to_ast(clone(expr)))


def _assign(name, value):
    return gast.Assign(targets=[store(name)], value=value, type_comment=None)

