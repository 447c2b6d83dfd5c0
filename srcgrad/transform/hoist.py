"""Loop-invariant projections hoisted: ``x[t] @ U`` in a loop over ``t``, one product before it."""
import builtins

import gast
import numpy as np

from .analyze import nodes_in
from .batch import _integer, _label, _text
from .build import call, clone, constant, load, rewrite_for_loops, store

# Builtins a loop body may call without changing an array.
_PURE_BUILTINS = {builtins.range, builtins.reversed, builtins.len, builtins.float, builtins.int,
                  builtins.abs, builtins.min, builtins.max, builtins.bool}
# NumPy functions that write into an array they are given.
_WRITERS = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis}


def hoist_projections(function_def, specializer, methods=True):
    """In a ``for t in range(...)`` loop, ``x[t] @ U`` where neither ``x`` nor ``U`` changes in
    the loop -> ``x_at_U = x @ U`` before the loop and ``x_at_U[t]`` in it: one matrix product
    (one BLAS call over all rows) instead of one per step, as an expert writes an RNN's input
    projections. A stack of matrices is multiplied as one matrix of all its rows,
    ``(x.reshape(-1, n) @ U).reshape(...)`` (NumPy's stacked matmul is no single BLAS call).

    Only where the shapes are known (``x`` of two or more dimensions, ``U`` a matrix or a
    vector, so that ``(x @ U)[t]`` is ``x[t] @ U`` for every ``t``), where the loop visits at
    least half of ``x``'s rows (the product of rows never read is the waste), and where nothing
    in the loop can change an array: no element writes, no ``+=``, no call but NumPy's and the
    saving stack's. ``t`` is the loop's own counter, never assigned in it. ``methods``: the
    arrays are NumPy's, which have ``.reshape``; else ``np.reshape``, which dispatches.
    """
    shapes = specializer.shape_reader(specializer.final_shapes)

    def hoist(block, index):
        loop = block[index]
        before, used = _hoist(loop, specializer, shapes, methods)
        block[index:index] = before
        if block is function_def.body:
            _drop_unread(loop, used, block[index + len(before) + 1:])
        return len(before), 0

    rewrite_for_loops(function_def.body, hoist)
    return function_def


def _drop_unread(loop, names, rest):
    """Take the assignments of ``names`` (``x_t = x[t]``, ``U_T = U.T``, which the hoisted
    products read in their stead) out of ``loop``'s body where nothing reads them any more: not
    the loop, and not the statements after it (``rest``) before they assign them again."""
    for name in names:
        reads = sum(1 for stmt in loop.body for n in nodes_in(stmt) if isinstance(n, gast.Name)
                    and n.id == name and isinstance(n.ctx, gast.Load))
        if reads or _first_use(rest, name) == "read":
            continue
        loop.body = [stmt for stmt in loop.body if not (
            isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and
            stmt.targets[0].id == name)]


def _first_use(stmts, name):
    """"read" if running ``stmts`` may read ``name`` before assigning it, "write" if it
    certainly assigns it first, None if it does neither."""
    for stmt in stmts:
        if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Expr,
                             gast.Return)):
            value = stmt.value
            if isinstance(stmt, gast.AugAssign) and _mentions(stmt.target, name) or \
                    value is not None and _mentions(value, name) or \
                    isinstance(stmt, gast.Assign) and any(
                        not isinstance(t, gast.Name) and _mentions(t, name)
                        for t in stmt.targets):
                return "read"
            if isinstance(stmt, gast.Assign) and any(
                    isinstance(t, gast.Name) and t.id == name for t in stmt.targets):
                return "write"
            if isinstance(stmt, gast.Return):
                return None
        elif isinstance(stmt, gast.If):
            if _mentions(stmt.test, name):
                return "read"
            uses = {_first_use(stmt.body, name), _first_use(stmt.orelse, name)}
            if "read" in uses:
                return "read"
            if uses == {"write"}:
                return "write"
        elif isinstance(stmt, (gast.For, gast.While)):
            if _mentions(getattr(stmt, "iter", None) or stmt.test, name) or \
                    _first_use(stmt.body, name) == "read" or \
                    _first_use(stmt.orelse, name) == "read":
                return "read"
        elif isinstance(stmt, (gast.Pass, gast.Break, gast.Continue)):
            continue
        elif _mentions(stmt, name):
            return "read"
    return None


def _mentions(tree, name):
    return any(isinstance(n, gast.Name) and n.id == name for n in nodes_in(tree))


def _hoist(loop, specializer, shapes, methods):
    if not isinstance(loop.target, gast.Name) or loop.orelse:
        return [], set()
    counter = loop.target.id
    bounds = _range_bounds(loop.iter, shapes)
    if bounds is None:
        return [], set()
    assigned = set()
    for stmt in loop.body:
        for node in nodes_in(stmt):
            if isinstance(node, (gast.AugAssign, gast.For, gast.While, gast.FunctionDef,
                                 gast.Lambda, gast.Global, gast.Nonlocal)):
                return [], set()
            if isinstance(node, (gast.Subscript, gast.Attribute, gast.Starred)) and \
                    isinstance(node.ctx, gast.Store):
                return [], set()
            if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
                assigned.add(node.id)
            if isinstance(node, gast.Call) and not _pure_call(node, specializer):
                return [], set()
    if counter in assigned:
        return [], set()
    # x_t = x[t] and U_T = U.T, made in the loop for the adjoint to read: a product of them is
    # one of what they name
    stores = [n.id for stmt in loop.body for n in nodes_in(stmt)
              if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
    named = {}  # name -> its value, for the statements after its assignment
    hoisted = {}  # text of x[t] @ U -> name of the product of all rows
    before, used = [], set()  # the names of x[t] and U.T read by the products hoisted
    for stmt in loop.body:
        for node in nodes_in(stmt):
            for field, child in gast.iter_fields(node):
                children = child if isinstance(child, list) else [child]
                for position, item in enumerate(children):
                    parts = _projection(item, counter, shapes, named)
                    if parts is None:
                        continue
                    rows, matrix = parts
                    used |= {n.id for n in (item.left, item.right) if isinstance(n, gast.Name)}
                    if {rows.id, _base(matrix)} & assigned or \
                            not _covers(bounds, shapes.of(rows)[0]):
                        continue
                    text = _text(gast.BinOp(left=rows, op=gast.MatMult(), right=matrix))
                    if text not in hoisted:
                        hoisted[text] = specializer.names.fresh(
                            f"{rows.id}_at_{_label(matrix)}" +
                            ("_T" if isinstance(matrix, gast.Attribute) else ""))
                        product = _product_of_rows(rows, matrix, shapes, methods, specializer)
                        specializer.final_shapes[hoisted[text]] = shapes.of(product)
                        before.append(gast.copy_location(gast.Assign(
                            targets=[store(hoisted[text])], value=product, type_comment=None),
                            loop))
                    replaced = gast.Subscript(value=load(hoisted[text]), slice=load(counter),
                                              ctx=gast.Load())
                    if isinstance(child, list):
                        child[position] = replaced
                    else:
                        setattr(node, field, replaced)
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], gast.Name) and stores.count(stmt.targets[0].id) == 1:
            named[stmt.targets[0].id] = stmt.value
    return before, used


def _projection(node, counter, shapes, named):
    """(x, U) of ``x[t] @ U`` (``U`` a name or ``name.T``) with known shapes, else None.
    ``named``: the value of each name the loop assigns once, at the top of its body."""
    if not (isinstance(node, gast.BinOp) and isinstance(node.op, gast.MatMult)):
        return None
    left, matrix = (named.get(n.id, n) if isinstance(n, gast.Name) else n
                    for n in (node.left, node.right))
    if not (isinstance(left, gast.Subscript) and isinstance(left.value, gast.Name) and
            isinstance(left.slice, gast.Name) and left.slice.id == counter):
        return None
    rows = left.value
    if _base(matrix) is None:
        return None
    row_shape, matrix_shape = shapes.of(rows), shapes.of(matrix)
    if not (_known(row_shape) and len(row_shape) >= 2 and _known(matrix_shape) and
            1 <= len(matrix_shape) <= 2 and row_shape[-1] == matrix_shape[0]):
        return None
    return rows, matrix


def _base(expr):
    if isinstance(expr, gast.Name):
        return expr.id
    if isinstance(expr, gast.Attribute) and expr.attr == "T" and isinstance(expr.value, gast.Name):
        return expr.value.id
    return None


def _product_of_rows(rows, matrix, shapes, methods, specializer):
    """``x @ U``, as one matrix product of all rows where ``x`` is a stack of matrices."""
    row_shape, matrix_shape = shapes.of(rows), shapes.of(matrix)
    if len(row_shape) == 2:
        return gast.BinOp(left=clone(rows), op=gast.MatMult(), right=clone(matrix))

    def reshaped(value, lengths):
        if methods:
            return call(gast.Attribute(value=value, attr="reshape", ctx=gast.Load()),
                        *[constant(n) for n in lengths])
        return call(specializer.np_function("reshape"), value,
                    gast.Tuple(elts=[constant(n) for n in lengths], ctx=gast.Load()))

    product = gast.BinOp(left=reshaped(clone(rows), (-1, row_shape[-1])), op=gast.MatMult(),
                         right=clone(matrix))
    return reshaped(product, row_shape[:-1] + matrix_shape[1:])


def _known(shape):
    return isinstance(shape, tuple) and None not in shape


def _range_bounds(iterable, shapes):
    if isinstance(iterable, gast.Call) and isinstance(iterable.func, gast.Name) and \
            iterable.func.id == "reversed" and len(iterable.args) == 1:
        iterable = iterable.args[0]
    if not (isinstance(iterable, gast.Call) and isinstance(iterable.func, gast.Name) and
            iterable.func.id == "range" and 1 <= len(iterable.args) <= 3 and
            not iterable.keywords):
        return None
    bounds = [_integer(a, shapes) for a in iterable.args]
    return None if None in bounds else range(*bounds)


def _covers(steps, rows):
    """Does the loop read at least half of the ``rows`` rows, each a valid index?"""
    if not rows or len(steps) > 1_000_000 or not all(-rows <= t < rows for t in steps):
        return False
    return 2 * len({t % rows for t in steps}) >= rows


def _pure_call(node, specializer):
    """A call that changes no array: a NumPy function (without ``out=``), a builtin that reads,
    or ``append``/``pop`` of a list (the saving stack, the batched steps)."""
    if isinstance(node.func, gast.Attribute) and node.func.attr in ("append", "pop") and \
            isinstance(node.func.value, gast.Name):
        return True
    if any(k.arg == "out" for k in node.keywords):
        return False
    try:
        function = specializer.called(node)
        if function in _PURE_BUILTINS:
            return True
        if function in _WRITERS:
            return False
    except TypeError:  # an unhashable callable
        return False
    return isinstance(function, np.ufunc) or callable(function) and \
        (getattr(function, "__module__", None) or "").startswith("numpy")
