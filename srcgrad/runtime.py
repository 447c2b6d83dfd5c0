"""The few helpers that generated code and derivative rules call at run time.

Every helper uses only NumPy functions that dispatch on their arguments, so CuPy and other
array libraries that implement ``__array_ufunc__``/``__array_function__`` pass through unchanged.
Where a library lacks one of them (Dask has no ``ufunc.at``, no ``np.copy``, no ``order=`` in
``np.reshape``), the helper takes another road for that library, found with ``array_library``,
which looks at the array's type and never imports CuPy or Dask itself.
"""
import sys

import numpy as np

from .errors import NonScalarOutput


def shape_of(x):
    """The shape of an array, or () for a Python or NumPy scalar."""
    return getattr(x, "shape", ())


def unbroadcast(g, x):
    """Sum the adjoint ``g`` down to the shape of ``x``, undoing NumPy broadcasting."""
    g_shape = shape_of(g)
    x_shape = shape_of(x)
    if g_shape == x_shape:
        return g
    if g_shape == ():  # a uniform adjoint (a zero standing in for "nothing yet"): stretch it
        return broadcast_like(g, x)
    extra = len(g_shape) - len(x_shape)
    # Axes that broadcasting added in front, then axes of length 1 that it stretched.
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(x_shape) if n == 1 and g_shape[extra + i] != 1
    )
    if axes:
        g = np.sum(g, axis=axes, keepdims=False)
    if len(shape_of(g)) != len(x_shape):
        g = np.reshape(g, x_shape)
    return g


def broadcast_like(term, ans):
    """A tangent term stretched to the shape of ``ans``, as broadcasting stretched its argument.

    A term that already has that shape comes back unchanged; a smaller array comes back as a
    read-only broadcast view; a number becomes an array of ans's kind (adding it to zeros keeps
    NumPy's type promotion, so a float32 ``ans`` keeps a float32 tangent).
    """
    if shape_of(term) == shape_of(ans):
        return term
    if shape_of(term) == ():
        return np.zeros_like(ans) + term
    return np.broadcast_to(term, shape_of(ans))


def expand_reduced(g, x, axis, keepdims):
    """Broadcast the adjoint of a reduction over ``axis`` back to the shape of ``x``."""
    if not hasattr(g, "shape"):  # a Python number: make it an array of x's kind and dtype
        return np.full_like(x, g)
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape_of(x))


def scalar_seed(out, function_name):
    """The seed 1.0 for the adjoint sweep; refuses a non-scalar output with advice."""
    if len(shape_of(out)) != 0:
        raise NonScalarOutput(
            f"grad needs {function_name} to return a scalar, but it returned an array of shape "
            f"{shape_of(out)}; use srcgrad.vjp for array-valued functions, or reduce the output "
            f"(for example with np.sum) before returning it"
        )
    # A seed of the output's own dtype keeps float32 computations in float32; a NumPy scalar
    # gets a NumPy scalar (which, unlike a 0-d array, is as quick as a float and immutable).
    if isinstance(out, np.generic):
        return out.dtype.type(1)
    return np.ones_like(out) if hasattr(out, "dtype") else 1.0


def array_library(x):
    """The top-level module of ``x``'s type: "numpy", "cupy", "dask", "builtins" for numbers...

    It reads ``type(x).__module__`` and imports nothing, so code that never touches CuPy or Dask
    never loads them.
    """
    return type(x).__module__.partition(".")[0]


def copy_of(x):
    """A copy of ``x`` made by ``x``'s own library; a Python number, which cannot change, as it is.

    np.copy dispatches, but Dask does not implement it: it computes the whole array and returns
    a NumPy copy. Every array type has a ``copy`` method instead.
    """
    return x.copy() if hasattr(x, "copy") else x


def own_copies(stack, *values):
    """Copies of ``values`` (arrays and lists a pullback changes in place) and of ``stack`` with
    every saved array and list copied too, so a pullback called again starts from the state the
    primal left. One object saved several times (or also in ``values``) stays one copy: what
    the adjoint restores into still shares memory with what it later reads."""
    copies = {}

    def own(value):
        if not (isinstance(value, list) or hasattr(value, "shape")):
            return value  # numbers and other values the adjoint never changes
        if id(value) not in copies:
            copies[id(value)] = (value, copy_of(value))  # the original is kept alive with it
        return copies[id(value)][1]

    stack = [own(entry) for entry in stack] if stack is not None else None
    return (stack, *(own(value) for value in values))


def refuse_in_place(value, filename, lineno, construct, advice):
    """Raise where ``v += ...`` would change an array (or list) that another name shares: the
    derivative reads the update as ``v = v + ...``, which is exact only for numbers."""
    if hasattr(type(value), "__iadd__"):
        from .errors import UnsupportedSyntax
        raise UnsupportedSyntax(construct, filename, lineno, advice)


def reshape_to(a, shape, order="C"):
    """``np.reshape(a, shape, order=order)``, naming ``order`` only when it is not "C".

    Dask's reshape takes no ``order``; "C" is every library's default.
    """
    if order == "C":
        return np.reshape(a, shape)
    return np.reshape(a, shape, order=order)


def ravel_in(a, order="C"):
    """``np.ravel(a, order=order)``, naming ``order`` only when it is not "C" (see reshape_to)."""
    if order == "C":
        return np.ravel(a)
    return np.ravel(a, order=order)


def add_at(dx, index, g):
    """Add ``g`` into ``dx[index]`` in place; repeated fancy indices accumulate.

    np.add.at for NumPy; CuPy's own add.at (np.add.at reaches it only from CuPy 12.1), or
    cupyx.scatter_add before CuPy 12; Dask has no ufunc.at and gets the sum from item assignment.
    """
    library = array_library(dx)
    if library == "dask":
        _add_at_by_assignment(dx, index, g)
    elif library == "cupy":
        cupy = sys.modules["cupy"]  # dx is a CuPy array: CuPy is imported already
        if hasattr(cupy.add, "at"):
            cupy.add.at(dx, index, g)
        else:
            import cupyx
            cupyx.scatter_add(dx, index, g)
    else:
        np.add.at(dx, index, g)


def _add_at_by_assignment(dx, index, g):
    """``np.add.at(dx, index, g)`` for an array that has item assignment but no ``ufunc.at``.

    ``dx[index] += g`` is the same sum when no element is picked twice. Index arrays are first
    turned into one flat index along one axis (Dask assigns through at most one index array),
    then the values of ``g`` picked for the same element are summed before the assignment.
    Index arrays that are themselves lazy are computed: their values say where to write.
    """
    parts = tuple(_concrete_index(part) for part in
                  (index if isinstance(index, tuple) else (index,)))
    if not any(isinstance(part, np.ndarray) for part in parts):  # basic indexing, no repeats
        dx[parts] += g
        return
    parts = _expand_index(parts, ndim_of(dx))
    fancy = [axis for axis, part in enumerate(parts) if isinstance(part, np.ndarray)]
    arrays = np.broadcast_arrays(*(parts[axis] for axis in fancy))
    for array, axis in zip(arrays, fancy):
        if array.size and (array.min() < -dx.shape[axis] or array.max() >= dx.shape[axis]):
            raise IndexError(f"index out of bounds for axis {axis} with size {dx.shape[axis]}")
    flat = np.ravel_multi_index([np.ravel(a % dx.shape[axis]) for a, axis in zip(arrays, fancy)],
                                [dx.shape[axis] for axis in fancy])
    if flat.size == 0:  # nothing picked, nothing to add (Dask refuses empty assignments)
        return
    basic = [part for part in parts if not isinstance(part, np.ndarray)]
    # The axes g has where the index arrays go: NumPy puts them in place when the arrays are
    # adjacent, in front when basic indices separate them.
    together = fancy == list(range(fancy[0], fancy[0] + len(fancy)))
    place = fancy[0] if together else 0
    picked_shape = tuple(len(range(*s.indices(dx.shape[axis])))
                         for axis, s in enumerate(parts) if not isinstance(s, np.ndarray))
    g_shape = picked_shape[:place] + arrays[0].shape + picked_shape[place:]
    if shape_of(g) != g_shape:
        g = np.broadcast_to(g, g_shape)
    g = np.reshape(g, g_shape[:place] + (flat.size,) + g_shape[place + arrays[0].ndim:])
    if len(fancy) == 1:  # one index array: assign through it where it stands
        target, axis = dx, fancy[0]
    else:  # several: move their axes to the front of dx, as one axis
        moved = np.moveaxis(dx, fancy, range(len(fancy)))
        target = np.reshape(moved, (-1,) + shape_of(moved)[len(fancy):])
        g, axis = np.moveaxis(g, place, 0), 0
    elements, g = _sum_repeats(flat, g, axis)
    position = basic[:axis] + [elements] + basic[axis:]
    target[tuple(position)] += g
    if target is not dx:
        dx[...] = np.moveaxis(np.reshape(target, shape_of(moved)), range(len(fancy)), fancy)


def _concrete_index(part):
    """One part of an index, with lists and lazy arrays (which get computed) as NumPy arrays."""
    if isinstance(part, (slice, int, np.integer, type(None), type(Ellipsis))):
        return part
    if hasattr(part, "compute"):  # a Dask array of positions or a mask
        part = part.compute()
    return np.asarray(part)


def _expand_index(parts, ndim):
    """One part per axis of the indexed array: booleans become their positions, integers 0-d
    arrays (they broadcast with the index arrays), the Ellipsis and the axes after become ``:``."""
    expanded = []
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype == bool:
            expanded.extend(np.nonzero(part))
        elif isinstance(part, (int, np.integer)):
            expanded.append(np.asarray(part))
        elif part is None:
            raise NotImplementedError("srcgrad cannot add into an array indexed with both "
                                      "np.newaxis and an index array unless it has ufunc.at; "
                                      "index first, then add the axis with np.expand_dims")
        else:
            expanded.append(part)
    for at, part in enumerate(expanded):
        if part is Ellipsis:
            expanded[at:at + 1] = [slice(None)] * (ndim - len(expanded) + 1)
            break
    return expanded + [slice(None)] * (ndim - len(expanded))


def _sum_repeats(flat, g, axis):
    """The distinct elements of ``flat``, and ``g`` summed along ``axis`` over repeats of each."""
    elements = np.unique(flat)
    if elements.size == flat.size:
        return flat, g
    order = np.argsort(flat, kind="stable")
    starts = np.flatnonzero(np.diff(flat[order], prepend=-1))  # where each run begins
    g = np.take(g, order, axis=axis)
    if not hasattr(g, "map_blocks"):  # an array in memory: NumPy sums the runs at once
        return elements, np.add.reduceat(g, starts, axis=axis)
    # Dask: cut the chunks only where runs begin, then sum each chunk's runs on its own.
    own_cuts = np.cumsum(g.chunks[axis])[:-1]
    cuts = sorted(set(starts[np.searchsorted(starts, own_cuts, side="right") - 1].tolist()))
    edges = sorted(set([0] + cuts)) + [flat.size]
    g = g.rechunk({axis: tuple(int(b - a) for a, b in zip(edges[:-1], edges[1:]))})
    local_starts = [starts[(starts >= a) & (starts < b)] - a for a, b in zip(edges[:-1], edges[1:])]

    def sum_runs(block, block_id=None):
        return np.add.reduceat(block, local_starts[block_id[axis]], axis=axis)

    chunks = list(g.chunks)
    chunks[axis] = tuple(len(s) for s in local_starts)
    return elements, g.map_blocks(sum_runs, chunks=tuple(chunks), dtype=g.dtype)


def ndim_of(x):
    """The number of axes of an array, or 0 for a Python or NumPy scalar."""
    return len(shape_of(x))


def size_of(x):
    """The number of elements of an array, or 1 for a Python or NumPy scalar."""
    size = getattr(x, "size", 1)
    # An eager Tensor's size is PyTorch's method size(); its count of elements is numel().
    return x.numel() if callable(size) else size


def as_array_like(g, x):
    """``g`` itself if it is an array, else a 0-d array of the same kind as ``x`` holding it.

    np.expand_dims and friends would turn a Python number into a NumPy array, which a CuPy ``x``
    then refuses to meet; np.zeros_like dispatches on ``x`` instead, and adding ``g`` keeps
    NumPy's type promotion (an integer ``x`` and a float ``g`` give a float).
    """
    if hasattr(g, "shape"):
        return g
    return np.zeros_like(x, shape=()) + g


# --- reductions --------------------------------------------------------------------------------

def product_of_others(x, axis):
    """For each element of ``x``, the product of the other elements of its slice along ``axis``.

    This is the derivative of ``np.prod(x, axis)``. Dividing the whole product by the element
    fails at zeros, so zeros are counted: with none the quotient is exact, with one zero only the
    zero's position gets the product of the rest, and with two or more every derivative is zero.
    """
    is_zero = x == 0
    zeros = np.sum(is_zero, axis=axis, keepdims=True)
    product_of_nonzeros = np.prod(np.where(is_zero, 1, x), axis=axis, keepdims=True)
    quotient = product_of_nonzeros / np.where(is_zero, 1, x)
    return np.where(zeros == 0, quotient, np.where((zeros == 1) & is_zero, product_of_nonzeros, 0))


# --- shape ---------------------------------------------------------------------------------------

def inverse_permutation(axes):
    """The ``axes`` argument of np.transpose that undoes ``np.transpose(x, axes)``."""
    if axes is None:
        return None  # reversing the axes is its own inverse
    ndim = len(axes)
    inverse = [0] * ndim
    for position, axis in enumerate(axes):
        inverse[axis % ndim] = position
    return tuple(inverse)


def split_like(g, arrays, axis):
    """Cut the adjoint of ``np.concatenate(arrays, axis)`` into one adjoint per array.

    Slices rather than np.split, which Dask does not implement.
    """
    if axis is None:  # concatenate flattened every array first
        flat = np.reshape(g, (-1,))
        return [np.reshape(flat[start:end], shape_of(x))
                for (start, end), x in zip(_spans([size_of(x) for x in arrays]), arrays)]
    axis = axis % ndim_of(g)
    before = (slice(None),) * axis
    return [g[before + (slice(start, end),)]
            for start, end in _spans([shape_of(x)[axis] for x in arrays])]


def _spans(lengths):
    """The (start, end) of consecutive pieces of the given lengths."""
    spans, end = [], 0
    for length in lengths:
        spans.append((end, end + length))
        end += length
    return spans


def unstack(g, axis):
    """Cut the adjoint of ``np.stack(arrays, axis)`` into one adjoint per array."""
    return list(np.moveaxis(g, axis, 0))


# --- products ------------------------------------------------------------------------------------

def matmul_adjoint_left(g, a, b):
    """The adjoint of ``a`` in ``a @ b``: ``g @ b.T`` for matrices.

    A 1-D ``a`` acts as a row and a 1-D ``b`` as a column, whose axes ``a @ b`` then drops from the
    result; ``g`` gets those axes back first. Batch axes that broadcasting stretched are summed.
    """
    g = as_array_like(g, b)
    a_ndim, b_ndim = ndim_of(a), ndim_of(b)
    if b_ndim == 1:
        b = np.expand_dims(b, -1)
        g = np.expand_dims(g, -1)
    if a_ndim == 1:
        g = np.expand_dims(g, -2)
    da = g @ np.swapaxes(b, -1, -2)
    if a_ndim == 1:
        da = np.squeeze(da, -2)
    return unbroadcast(da, a)


def matmul_adjoint_right(g, a, b):
    """The adjoint of ``b`` in ``a @ b``: ``a.T @ g`` for matrices (see matmul_adjoint_left)."""
    g = as_array_like(g, a)
    a_ndim, b_ndim = ndim_of(a), ndim_of(b)
    if b_ndim == 1:
        g = np.expand_dims(g, -1)
    if a_ndim == 1:
        a = np.expand_dims(a, -2)
        g = np.expand_dims(g, -2)
    db = np.swapaxes(a, -1, -2) @ g
    if b_ndim == 1:
        db = np.squeeze(db, -1)
    return unbroadcast(db, b)


def dot_adjoint_left(g, a, b):
    """The adjoint of ``a`` in ``np.dot(a, b)``, which contracts a's last axis with b's second
    to last (its only axis when 1-D); a scalar operand makes it a plain product."""
    a_ndim, b_ndim = ndim_of(a), ndim_of(b)
    if a_ndim == 0 or b_ndim == 0:
        return unbroadcast(g * b, a)
    # g holds a's free axes, then b's free axes: contract the latter with b.
    b_contracted = max(b_ndim - 2, 0)
    b_free = [axis for axis in range(b_ndim) if axis != b_contracted]
    g_axes_from_b = list(range(a_ndim - 1, a_ndim - 1 + len(b_free)))
    return np.tensordot(g, b, axes=(g_axes_from_b, b_free))


def dot_adjoint_right(g, a, b):
    """The adjoint of ``b`` in ``np.dot(a, b)`` (see dot_adjoint_left)."""
    a_ndim, b_ndim = ndim_of(a), ndim_of(b)
    if a_ndim == 0 or b_ndim == 0:
        return unbroadcast(g * a, b)
    a_free = list(range(a_ndim - 1))
    db = np.tensordot(a, g, axes=(a_free, a_free))  # the contracted axis comes out first
    if b_ndim >= 2:
        db = np.moveaxis(db, 0, -2)
    return db


def norm_adjoint(g, ans, x, ord, axis, keepdims):
    """The adjoint of ``x`` in ``np.linalg.norm(x, ord, axis, keepdims)`` (see norm_derivative)."""
    g = as_array_like(g, x)
    if not keepdims:
        g = np.expand_dims(g, _normed_axes(x, axis))
    return g * norm_derivative(ans, x, ord, axis, keepdims)


def norm_tangent(dx, ans, x, ord, axis, keepdims):
    """The tangent of ``np.linalg.norm(x, ord, axis, keepdims)`` along ``dx``: the derivative's
    inner product with ``dx`` over the normed axes (see norm_derivative)."""
    return np.sum(dx * norm_derivative(ans, x, ord, axis, keepdims),
                  axis=_normed_axes(x, axis), keepdims=keepdims)


def norm_derivative(ans, x, ord, axis, keepdims):
    """The derivative of ``ans = np.linalg.norm(x, ord, axis, keepdims)`` with respect to each
    element of ``x``, an array of x's shape.

    Vector norms (one axis): ord None/2, 1, inf, -inf, 0 and any other p. Matrix norms (two axes,
    or axis None on a 2-D array): None/'fro', 'nuc', 2, -2, 1, -1, inf, -inf. Where the norm has
    a kink the derivative is a subgradient: zero at the zero vector, split evenly between ties.
    """
    axes = _normed_axes(x, axis)
    if not keepdims:
        ans = np.expand_dims(ans, axes)
    if ord is None or (ord in ("fro", "f") and len(axes) == 2) or (ord == 2 and len(axes) == 1):
        # x / ans, except that the zero vector (ans == 0, x == 0) gets the subgradient 0.
        return x / np.where(ans == 0, 1, ans)
    if len(axes) == 1:
        return _vector_norm_derivative(x, ans, ord, axes)
    return _matrix_norm_derivative(x, ord, axes)


def _normed_axes(x, axis):
    """The axes np.linalg.norm reduces, as a tuple of non-negative ints."""
    ndim = ndim_of(x)
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        return tuple(a % ndim for a in axis)
    return (axis % ndim,)


def _vector_norm_derivative(x, ans, ord, axes):
    if ord == 0:  # the count of nonzeros is piecewise constant
        return np.zeros_like(x)
    if ord == 1:
        return np.sign(x)
    if ord in (np.inf, -np.inf):
        is_extreme = np.abs(x) == ans
        return np.sign(x) * is_extreme / np.sum(is_extreme, axis=axes, keepdims=True)
    # At the zero vector (ans == 0) this gives the subgradient 0 for p > 1.
    return np.sign(x) * (np.abs(x) / np.where(ans == 0, 1, ans)) ** (ord - 1)


def _matrix_norm_derivative(x, ord, axes):
    if ord in ("nuc", 2, -2):
        u, _, vh = np.linalg.svd(np.moveaxis(x, axes, (-2, -1)), full_matrices=False)
        if ord == "nuc":
            derivative = u @ vh
        elif ord == 2:  # singular values come sorted, largest first
            derivative = u[..., :, :1] @ vh[..., :1, :]
        else:
            derivative = u[..., :, -1:] @ vh[..., -1:, :]
        return np.moveaxis(derivative, (-2, -1), axes)
    if ord in (1, -1, np.inf, -np.inf):
        # ord 1 is the largest column sum of |x| (summed over the row axis), inf the largest
        # row sum.
        summed_axis, compared_axis = axes if ord in (1, -1) else axes[::-1]
        sums = np.sum(np.abs(x), axis=summed_axis, keepdims=True)
        extreme = np.max if ord > 0 else np.min
        is_extreme = sums == extreme(sums, axis=compared_axis, keepdims=True)
        return np.sign(x) * is_extreme / np.sum(is_extreme, axis=compared_axis, keepdims=True)
    raise ValueError(f"np.linalg.norm has no derivative rule for ord={ord!r} over two axes")


def cast_like(g, x):
    """``g`` in the dtype of ``x``: the adjoint of a cast goes back to the input's type."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or not hasattr(g, "astype"):
        return g
    return g.astype(dtype, copy=False)


def zeros_like_each(items):
    """The zero adjoint of a list: one zero array per element."""
    return [np.zeros_like(item) for item in items]


def add_each(left, right):
    """Two list adjoints added element by element."""
    return [a + b for a, b in zip(left, right)]


def array_adjoint(g, obj):
    """The adjoint of ``np.array(obj)``: split back into a list when ``obj`` was one."""
    if isinstance(obj, (list, tuple)):
        return [array_adjoint(part, item) for part, item in zip(unstack(g, 0), obj)]
    return g
