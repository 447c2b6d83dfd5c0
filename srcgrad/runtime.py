"""The few helpers that generated code and derivative rules call at run time.

Every helper uses only NumPy functions that dispatch on their arguments, so CuPy and other
array libraries that implement ``__array_ufunc__``/``__array_function__`` pass through unchanged.
Where a library lacks one of them (Dask has no ``ufunc.at``, no ``np.copy``, no ``order=`` in
``np.reshape``), the helper takes another road for that library, found with ``array_library``,
which looks at the array's type and never imports CuPy or Dask itself.
"""
import dataclasses
import inspect
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


def broadcast_back(grad, value):
    """The adjoint of ``unbroadcast(value, like)``: ``grad`` stretched to ``value``'s shape;
    where ``value`` is a number standing in for an array's zeros (which unbroadcast stretched
    to ``like``), ``grad`` summed down to it."""
    shape = shape_of(value)
    if shape == () and shape_of(grad) != ():
        return unbroadcast(grad, value)
    return np.broadcast_to(grad, shape)


def broadcast_like(term, ans):
    """A tangent term stretched to the shape of ``ans``, as broadcasting stretched its argument.

    A term that already has that shape comes back unchanged; a smaller array comes back as a
    read-only broadcast view; a number becomes an array of ans's kind (adding it to zeros keeps
    NumPy's type promotion, so a float32 ``ans`` keeps a float32 tangent). The tangent of a number
    is a number: np.where and other array functions make 0-d NumPy arrays of numbers, which a
    CuPy array refuses to meet.
    """
    if shape_of(term) == shape_of(ans):
        if type(term) is np.ndarray and term.ndim == 0 and type(ans) is not np.ndarray:
            return term[()]
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


def shaped_like(t, x):
    """``t``, or where ``t`` is a number standing in for the zeros of array ``x`` (a tangent that
    generated code made before ``x`` existed), ``t`` stretched to ``x``'s shape: an array of its
    own that an element write may change and an index may read."""
    shape = getattr(x, "shape", ())
    if shape == () or getattr(t, "shape", ()) == shape:
        return t
    return zeros_like(x) + t


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
            view = _view_of_copy(value, own) if isinstance(value, np.ndarray) else None
            # the original is kept alive with it
            copies[id(value)] = (value, view if view is not None else copy_of(value))
        return copies[id(value)][1]

    stack = [own(entry) for entry in stack] if stack is not None else None
    return (stack, *(own(value) for value in values))


def _view_of_copy(value, own):
    """For a NumPy view (``row = m[i - 1, :]`` saved for the adjoint), the same view of the copy
    of the array that owns its memory, so that what the adjoint puts back into ``m`` shows in
    ``row`` as it did in the primal; None for an array that owns its memory, or a view whose
    owner cannot be copied with the same layout."""
    root = value
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root is value or root.base is not None:
        return None
    copy = own(root)
    if not isinstance(copy, np.ndarray) or copy.strides != root.strides or \
            copy.dtype != root.dtype:
        return None
    offset = value.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(value.shape, value.dtype, buffer=copy, offset=offset, strides=value.strides)


def refuse_in_place(value, filename, lineno, construct, advice):
    """Raise where ``v += ...`` would change an array (or list) that another name shares: the
    derivative reads the update as ``v = v + ...``, which is exact only for numbers."""
    if hasattr(type(value), "__iadd__"):
        from .errors import UnsupportedSyntax
        raise UnsupportedSyntax(construct, filename, lineno, advice)


def expect_array(value, filename, lineno, construct):
    """Raise where ``X.dot(w)``, read as ``np.dot(X, w)``, has an ``X`` that is not an array (a
    NumPy, CuPy or Dask array, anything NumPy's functions dispatch to): its own ``dot`` could
    compute something else."""
    if not (isinstance(value, np.ndarray) or hasattr(value, "__array_function__")):
        from .errors import UnsupportedSyntax
        kind = type(value).__name__
        own = getattr(type(value), "dot", None)
        advice = f"call your method as {kind}.dot(obj, ...), which srcgrad differentiates " \
            "as a function of yours" if inspect.isfunction(own) else \
            "convert it to an array, or write the product with @"
        raise UnsupportedSyntax(f"{construct} where the object is a {kind} (srcgrad reads "
                                ".dot(...) of a value it does not differentiate as np.dot)",
                                filename, lineno, advice)


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
    """Add ``g`` into ``dx[index]`` in place and return ``dx``; repeated fancy indices
    accumulate. (Generated code writes ``dx = add_at(dx, index, g)``, a value that can be
    differentiated again.)

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
    return dx


def scattered(like, index, values):
    """What ``np.add.at(a, index, values)`` adds to ``a``, as a new array: zeros shaped like
    ``like`` with ``values`` added at ``index`` (repeated indices accumulate). srcgrad reads
    ``np.add.at(a, i, v)`` as ``a += scattered(a, i, v)``."""
    return add_at(np.zeros_like(like), index, values)


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
    g = _dot_shaped(g, a, b)
    # g holds a's free axes, then b's free axes: contract the latter with b.
    b_contracted = max(b_ndim - 2, 0)
    b_free = [axis for axis in range(b_ndim) if axis != b_contracted]
    g_axes_from_b = list(range(a_ndim - 1, a_ndim - 1 + len(b_free)))
    return np.tensordot(g, b, axes=(g_axes_from_b, b_free))


def _dot_shaped(g, a, b):
    """``g`` with the shape of ``np.dot(a, b)``: a plain number standing for zeros (the 0.0
    that starts an adjoint no statement has reached yet) is spread over that shape."""
    if ndim_of(g) != 0:
        return g
    a_shape, b_shape = shape_of(a), shape_of(b)
    out = a_shape[:-1] + b_shape[:-2] + b_shape[-1:] if len(b_shape) >= 2 else a_shape[:-1]
    if not out:
        return g
    return g + np.zeros_like(a, shape=out)


def dot_adjoint_right(g, a, b):
    """The adjoint of ``b`` in ``np.dot(a, b)`` (see dot_adjoint_left)."""
    a_ndim, b_ndim = ndim_of(a), ndim_of(b)
    if a_ndim == 0 or b_ndim == 0:
        return unbroadcast(g * a, b)
    g = _dot_shaped(g, a, b)
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
        return np.sign(x) * is_extreme / count_of(is_extreme, x, axes, True)
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
        return np.sign(x) * is_extreme / count_of(is_extreme, x, compared_axis, True)
    return unknown_matrix_norm(ord)


def unknown_matrix_norm(ord):
    """Refuse a matrix norm order without a rule (a function of its own, so that the helpers
    above stay free of raise statements, which srcgrad does not differentiate through)."""
    raise ValueError(f"np.linalg.norm has no derivative rule for ord={ord!r} over two axes")


def cast_like(g, x):
    """``g`` in the dtype of ``x``: the adjoint of a cast goes back to the input's type."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or not hasattr(g, "astype"):
        return g
    return g.astype(dtype, copy=False)


def field(x, name):
    """``x.name``: the primitive behind an attribute read of a differentiated container (a
    named tuple or dataclass of arrays; its tangent may also be a dict of the fields)."""
    return x[name] if isinstance(x, dict) else getattr(x, name)


def add_field(dx, x, name, g):
    """Add ``g`` into the adjoint of ``x.name`` and return ``dx``: it holds a named tuple's
    adjoints by position (a list), a dataclass's by field name (a dict). (Generated code writes
    ``dx = add_field(dx, x, name, g)``, a value that can be differentiated again.)"""
    key = field_key(dx, x, name)
    dx[key] = _add_leaf(dx[key], g)
    return dx


def field_key(dx, x, name):
    """Where the adjoint of ``x.name`` sits in ``dx``: its position in a list, else ``name``."""
    return type(x)._fields.index(name) if isinstance(dx, (list, tuple)) else name


def field_adjoint(dx, x, name):
    """The adjoint of ``x.name`` in ``dx``: a list, a dict, or a cotangent given in the type of
    ``x`` itself (a named tuple or dataclass)."""
    if isinstance(dx, (list, tuple, dict)):
        return dx[field_key(dx, x, name)]
    return getattr(dx, name)


def zeros_like_each(items):
    """The zero adjoint of a container: a list of zeros per element of a list or tuple (a
    named tuple too), a dict of zeros per entry of a dict; nested containers in kind."""
    if isinstance(items, dict):
        return {key: _zeros_like_leaf(value) for key, value in items.items()}
    if dataclasses.is_dataclass(items) and not isinstance(items, type):
        return {f.name: _zeros_like_leaf(getattr(items, f.name))
                for f in dataclasses.fields(items)}
    if not isinstance(items, (list, tuple)):  # an element that turned out to be an array
        return _zeros_like_leaf(items)
    return [_zeros_like_leaf(item) for item in items]


def items_adjoint(adjoint, items):
    """The adjoint of the list ``items`` as a list: ``adjoint`` itself, or zeros per element of
    ``items`` where the 0.0 that stands in for the adjoint of a list first bound inside a loop
    reaches the list of an earlier iteration (reverse_writes.py)."""
    if isinstance(adjoint, (list, tuple, dict)):
        return adjoint
    return zeros_like_each(items)


def _zeros_like_leaf(value):
    if isinstance(value, (list, tuple, dict)) or (dataclasses.is_dataclass(value) and
                                                  not isinstance(value, type)):
        return zeros_like_each(value)
    return zeros_like(value)


def zeros_like(x):
    """The zero derivative of ``x``: ``np.zeros_like(x)`` for an array (made by x's own library),
    a zero of x's type for a number (0.0 for a Python float, a NumPy scalar for a NumPy scalar).

    ``np.zeros_like(0.0)`` is a NumPy 0-d array, which a CuPy array refuses to meet in
    arithmetic; a number meets arrays of every library.
    """
    if isinstance(x, np.generic):
        return x.dtype.type(0)
    if isinstance(x, (float, int, complex)):  # bool is an int: its zero is 0
        return type(x)(0) if not isinstance(x, bool) else 0
    return np.zeros_like(x)


def zeros_for(value):
    """A zero cotangent for any returned value (aux of has_aux): containers in kind, None for
    what has no zero (a string, an object)."""
    try:
        return _zeros_like_leaf(value)
    except (TypeError, ValueError):
        return None


def add_each(left, right):
    """Two container adjoints added element by element (nested containers in kind)."""
    if isinstance(left, dict):
        return {key: _add_leaf(value, right[key]) for key, value in left.items()}
    if not isinstance(left, (list, tuple)):  # an element that turned out to be an array
        return left + right
    return [_add_leaf(a, b) for a, b in zip(left, right)]


def _add_leaf(a, b):
    if isinstance(a, (list, tuple, dict)):
        return add_each(a, b)
    return a + b


def restructured(adjoint, like):
    """A container adjoint (lists and dicts) in the structure of ``like``: tuples and named
    tuples as themselves, as JAX gives a gradient the structure of its argument."""
    if isinstance(like, dict) and isinstance(adjoint, dict):
        return {key: restructured(adjoint[key], value) for key, value in like.items()}
    if dataclasses.is_dataclass(like) and isinstance(adjoint, dict):
        return dataclasses.replace(like, **{key: restructured(value, getattr(like, key))
                                            for key, value in adjoint.items()})
    if isinstance(like, (list, tuple)) and isinstance(adjoint, (list, tuple)):
        parts = [restructured(a, v) for a, v in zip(adjoint, like)]
        if isinstance(like, list):
            return parts
        return type(like)(*parts) if hasattr(like, "_fields") else tuple(parts)
    return adjoint


def array_adjoint(g, obj):
    """The adjoint of ``np.array(obj)``: split back into a list when ``obj`` was one."""
    if isinstance(obj, (list, tuple)):
        return [array_adjoint(part, item) for part, item in zip(unstack(g, 0), obj)]
    return g


def stacked_like(parts, obj):
    """The inverse of ``array_adjoint``: ``parts``, nested as ``obj`` is, made one array as
    ``np.array(obj)`` makes ``obj`` one (a part may be a number standing for zeros)."""
    if isinstance(obj, (list, tuple)):
        return np.stack([stacked_like(part, item) for part, item in zip(parts, obj)])
    return parts if shape_of(parts) == shape_of(obj) else np.broadcast_to(parts, shape_of(obj))


# --- statistics, scans and products (rules added with the covered-functions table) ------------

def average_weights(a, axis, weights, returned=False):
    """The derivative of np.average(a, axis, weights) with respect to each element of a (an array
    that broadcasts against a): w / sum(w) along axis, 1 / count without weights."""
    single_result(None, returned, "returned")
    if weights is None:
        shape = shape_of(a)
        count = 1
        for axis_ in _normed_axes(a, axis):
            count *= shape[axis_]
        return 1.0 / count
    if ndim_of(weights) == 1 and ndim_of(a) > 1:  # 1-D weights along one axis of a
        shape = [1] * ndim_of(a)
        shape[axis] = -1
        weights = np.reshape(weights, shape)
    return weights / np.sum(weights, axis=axis, keepdims=True)


def diff_adjoint(g, n, axis):
    """The adjoint of ``np.diff(a, n, axis)``: n zeros padded at both ends of ``g`` along axis, then
    differenced n times with the sign flipped n times (the transpose of one difference is minus a
    difference of the padded array)."""
    widths = [(0, 0)] * ndim_of(g)
    widths[axis] = (n, n)
    difference = np.diff(np.pad(g, widths), n, axis)
    return -difference if n % 2 else difference


def count_of(mask, like, axis=None, keepdims=False):
    """The number of True elements of ``mask`` along ``axis``, in the dtype of ``like`` (a float32
    adjoint divided by an integer count would become float64)."""
    return np.sum(mask, axis=axis, keepdims=keepdims, dtype=getattr(like, "dtype", None))


# --- shapes and order ---------------------------------------------------------------------------

def pad_widths(pad_width, ndim):
    """np.pad's ``pad_width`` (an int, one pair, or one pair per axis) as one (before, after)
    pair of ints per axis."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (ndim, 2))
    return [(int(before), int(after)) for before, after in widths]


def unpad(g, pad_width, mode="constant"):
    """The adjoint of ``np.pad(array, pad_width, mode)``: the middle of ``g`` for a constant
    padding; for the modes that copy elements of the array into the padding (edge, reflect,
    symmetric, wrap), each copy's adjoint added back into the element it copies."""
    widths = pad_widths(pad_width, ndim_of(g))
    index = tuple(slice(before, size - after) for (before, after), size in
                  zip(widths, shape_of(g)))
    if mode == "constant":
        return g[index]
    middle = g[index]
    # where each element of the padded array comes from, as a flat index into the array (made
    # by g's own library, as np.pad of those indices)
    positions = np.reshape(np.cumsum(np.ones_like(middle, dtype=int)) - 1, shape_of(middle))
    source = np.pad(positions, widths, mode)
    return np.reshape(add_at(np.zeros_like(np.ravel(middle)), source, g), shape_of(middle))


def window_axes(ndim, window_shape, axis):
    """The axes ``np.lib.stride_tricks.sliding_window_view(x, window_shape, axis)`` slides its
    windows along, one per window dimension, as non-negative ints."""
    window = tuple(window_shape) if np.iterable(window_shape) else (window_shape,)
    if axis is None:
        axes = tuple(range(ndim))
    else:
        axes = tuple(axis) if np.iterable(axis) else (axis,)
        axes = tuple(a % ndim for a in axes)
    if len(axes) != len(window) or len(set(axes)) != len(axes):
        raise ValueError("srcgrad differentiates sliding_window_view with one window dimension "
                         "per axis, each axis once")
    return window, axes


def window_sum(g, like, window_shape, axis=None):
    """The adjoint of ``sliding_window_view(like, window_shape, axis)``: each window's adjoint
    (``g``'s trailing dimensions) added back where the window reads ``like``: one slice-add per
    position inside a window."""
    window, axes = window_axes(ndim_of(like), window_shape, axis)
    total = np.zeros_like(like, dtype=np.result_type(g.dtype, like.dtype))
    counts = shape_of(g)[:ndim_of(like)]
    for offset in np.ndindex(*window):
        index = [slice(None)] * ndim_of(like)
        for a, o in zip(axes, offset):
            index[a] = slice(o, o + counts[a])
        total[tuple(index)] += g[(Ellipsis,) + offset]
    return total


def joined_shape(shape, joiner):
    """The shape an array of ``shape`` takes inside ``joiner`` (np.vstack makes a 1-D array a row,
    np.column_stack a column, np.dstack a (1, n, 1) block ...) and the axis they are joined on."""
    ndim = len(shape)
    if joiner is np.hstack:
        return (shape or (1,)), (0 if ndim <= 1 else 1)
    if joiner is np.vstack:
        return ((1,) * (2 - ndim) + shape if ndim < 2 else shape), 0
    if joiner is np.column_stack:
        return ((shape + (1,)) if ndim == 1 else (1,) * (2 - ndim) + shape), 1
    if joiner is np.dstack:
        if ndim == 0:
            return (1, 1, 1), 2
        if ndim == 1:
            return (1,) + shape + (1,), 2
        return (shape + (1,) if ndim == 2 else shape), 2
    raise ValueError(f"no joined shape for {joiner!r}")


def unjoin(g, arrays, joiner):
    """The adjoint of ``joiner(arrays)`` (np.vstack, np.hstack, np.column_stack, np.dstack): one
    piece of ``g`` per array, in the array's own shape."""
    pieces, start = [], 0
    for x in arrays:
        shape, axis = joined_shape(shape_of(x), joiner)
        if ndim_of(g) == 1:  # hstack of 1-D arrays (and numbers)
            axis = 0
        index = (slice(None),) * axis + (slice(start, start + shape[axis]),)
        pieces.append(np.reshape(g[index], shape_of(x)))
        start += shape[axis]
    return pieces


def repeat_adjoint(g, a, repeats, axis):
    """The adjoint of ``np.repeat(a, repeats, axis)``: each element's copies summed."""
    if axis is None:
        a_flat_shape = (size_of(a),)
        axis_ = 0
    else:
        axis_ = axis % ndim_of(a)
        a_flat_shape = shape_of(a)
    n = a_flat_shape[axis_]
    if np.ndim(repeats) == 0 or np.size(repeats) == 1:
        count = int(np.reshape(repeats, ()))
        split = a_flat_shape[:axis_] + (n, count) + a_flat_shape[axis_ + 1:]
        summed = np.sum(np.reshape(g, split), axis=axis_ + 1)
    else:  # one count per element: sums of consecutive runs, from a cumulative sum
        ends = [0]
        for count in np.ravel(repeats).tolist():  # the counts (ints), not the data
            ends.append(ends[-1] + int(count))
        totals = np.cumsum(g, axis=axis_)
        before = (slice(None),) * axis_
        zero = np.zeros_like(totals[before + (slice(0, 1),)])
        totals = np.concatenate([zero, totals], axis=axis_)
        summed = np.diff(totals[before + (ends,)], axis=axis_)
    return np.reshape(summed, shape_of(a))


def tile_adjoint(g, a, reps):
    """The adjoint of ``np.tile(a, reps)``: the copies summed back onto one."""
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    ndim = max(ndim_of(a), len(reps))
    shape = (1,) * (ndim - ndim_of(a)) + shape_of(a)
    reps = (1,) * (ndim - len(reps)) + reps
    interleaved = []
    for count, size in zip(reps, shape):
        interleaved += [count, size]
    summed = np.sum(np.reshape(g, interleaved), axis=tuple(range(0, 2 * ndim, 2)))
    return np.reshape(summed, shape_of(a))


def negated(shift):
    """``-shift`` for an int or a tuple of ints (np.roll's shift)."""
    if isinstance(shift, (tuple, list)):
        return tuple(-s for s in shift)
    return -shift


def rollaxis_order(ndim, axis, start):
    """The axes of ``np.rollaxis(a, axis, start)`` in terms of a's axes (a permutation)."""
    axis = axis % ndim
    start = start % (ndim + 1) if start < 0 else start
    order = list(range(ndim))
    order.remove(axis)
    order.insert(start - 1 if start > axis else start, axis)
    return tuple(order)


def diagonal_positions(shape, offset, axis1, axis2):
    """Row and column indices of the ``offset`` diagonal of the matrices on axes (axis1, axis2)."""
    rows, cols = shape[axis1], shape[axis2]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    start_row, start_col = max(-offset, 0), max(offset, 0)
    return (list(range(start_row, start_row + length)), list(range(start_col, start_col + length)))


def diagonal_adjoint(g, a, offset, axis1, axis2):
    """The adjoint of ``np.diagonal(a, offset, axis1, axis2)``: zeros with ``g`` on that diagonal
    (np.diagonal puts the diagonal last and keeps the other axes in order)."""
    ndim = ndim_of(a)
    axis1, axis2 = axis1 % ndim, axis2 % ndim
    rows, cols = diagonal_positions(shape_of(a), offset, axis1, axis2)
    moved = np.zeros_like(np.moveaxis(a, (axis1, axis2), (-2, -1)))
    if array_library(moved) == "dask":  # no assignment through two index arrays: one-hot products
        n, m, length = shape_of(moved)[-2], shape_of(moved)[-1], len(rows)
        start_row, start_col = (rows[0], cols[0]) if length else (0, 0)
        row_of = eye_like(n, length, -start_row, moved)
        col_of = eye_like(m, length, -start_col, moved)
        moved = (row_of * np.expand_dims(g, -2)) @ np.transpose(col_of)
    else:
        moved[..., rows, cols] = g
    return np.moveaxis(moved, (-2, -1), (axis1, axis2))


def diagonal_mask(a, offset, axis1, axis2):
    """Ones on the ``offset`` diagonal of axes (axis1, axis2) of ``a``, zeros elsewhere, shaped to
    broadcast against ``a`` (length 1 along every other axis), in a's dtype and library."""
    ndim = ndim_of(a)
    axis1, axis2 = axis1 % ndim, axis2 % ndim
    shape = shape_of(a)
    mask = eye_like(shape[axis1], shape[axis2], offset, a)
    if axis1 > axis2:
        mask = np.transpose(mask)
    sizes = [1] * ndim
    sizes[axis1], sizes[axis2] = shape[axis1], shape[axis2]
    return np.reshape(mask, sizes)


def trace_adjoint(g, a, offset, axis1, axis2):
    """The adjoint of ``np.trace(a, offset, axis1, axis2)``: ``g`` spread over that diagonal."""
    ndim = ndim_of(a)
    g = as_array_like(g, a)
    expanded = np.expand_dims(g, tuple(sorted((axis1 % ndim, axis2 % ndim))))
    return expanded * diagonal_mask(a, offset, axis1, axis2)


def take_adjoint(g, a, indices, axis):
    """The adjoint of ``np.take(a, indices, axis)``: ``g`` added at the picked positions
    (repeated indices add up)."""
    g = as_array_like(g, a)
    if axis is None:
        flat = np.zeros_like(np.ravel(a))
        add_at(flat, indices, g)
        return np.reshape(flat, shape_of(a))
    da = np.zeros_like(a)
    add_at(da, (slice(None),) * (axis % ndim_of(a)) + (indices,), g)
    return da


def along_axis_index(indices, axis, shape):
    """The full index that ``np.take_along_axis(arr, indices, axis)`` reads, for a result of
    ``shape``: ``indices`` on axis, broadcast ranges on the other axes."""
    ndim = len(shape)
    index = []
    for k in range(ndim):
        if k == axis:
            index.append(indices)
        else:
            sizes = [1] * ndim
            sizes[k] = shape[k]
            positions = np.arange(shape[k], like=indices) if hasattr(
                indices, "__array_function__") else np.arange(shape[k])
            index.append(np.reshape(positions, sizes))
    return tuple(index)


def take_along_axis_adjoint(g, arr, indices, axis):
    """The adjoint of ``np.take_along_axis(arr, indices, axis)``."""
    if axis is None:
        flat = np.zeros_like(np.ravel(arr))
        add_at(flat, indices, g)
        return np.reshape(flat, shape_of(arr))
    da = np.zeros_like(arr)
    add_at(da, along_axis_index(indices, axis % ndim_of(arr), shape_of(g)), g)
    return da


def select_adjoint(g, condlist, choicelist):
    """The adjoints of each choice of ``np.select(condlist, choicelist, default)``: ``g`` where the
    choice is the first whose condition holds."""
    adjoints, taken = [], False
    for condition, choice in zip(condlist, choicelist):
        chosen = condition & ~taken
        adjoints.append(unbroadcast(np.where(chosen, g, 0.0), choice))
        taken = taken | condition
    return adjoints


def select_default_adjoint(g, condlist):
    """The adjoint of ``np.select``'s default: ``g`` where no condition holds."""
    return np.select(condlist, [0.0] * len(condlist), g)


def linspace_fractions(ans, num, endpoint, axis, retstep=False):
    """For ``np.linspace(start, stop, num, endpoint, axis=axis)``: how far along each sample lies,
    from 0 at start to 1 at stop, shaped to broadcast against ``ans``."""
    single_result(None, retstep, "retstep")
    steps = max(num - 1, 1) if endpoint else max(num, 1)
    fractions = np.arange(num, like=ans) / steps
    sizes = [1] * ndim_of(ans)
    sizes[axis] = num
    return np.reshape(fractions, sizes)


def pad_mode(mode):
    """np.pad's mode, which must be one that copies values: "constant" (the padding a constant),
    or "edge", "reflect", "symmetric", "wrap" (the padding copies of the array's elements)."""
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(f"srcgrad has a derivative rule for np.pad with mode "
                                  f"'constant', 'edge', 'reflect', 'symmetric' or 'wrap', not "
                                  f"mode={mode!r}")
    return mode


def diag_adjoint(g, v, k):
    """The adjoint of ``np.diag(v, k)``: the diagonal of ``g`` for a vector ``v``, ``g`` put on the
    diagonal for a matrix ``v``."""
    if ndim_of(v) == 1:
        return np.diag(g, k)
    return diagonal_adjoint(g, v, k, 0, 1)


# --- products and factorizations ----------------------------------------------------------------

def tensordot_axes(ndim_a, ndim_b, axes):
    """np.tensordot's ``axes`` as two lists of non-negative axes, of a and of b."""
    if isinstance(axes, (int, np.integer)):
        return list(range(ndim_a - axes, ndim_a)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    return [k % ndim_a for k in a_axes], [k % ndim_b for k in b_axes]


def tensordot_left_plan(ndim_a, ndim_b, axes):
    """For the adjoint of a in ``np.tensordot(a, b, axes)``: the axes to contract g with b over,
    and the permutation that puts the result's axes in a's order."""
    a_axes, b_axes = tensordot_axes(ndim_a, ndim_b, axes)
    a_free = [k for k in range(ndim_a) if k not in a_axes]
    b_free = [k for k in range(ndim_b) if k not in b_axes]
    g_axes = list(range(len(a_free), len(a_free) + len(b_free)))
    # b's contracted axes come out in b's order; each stands for its partner axis of a.
    partners = [a_axes[b_axes.index(k)] for k in sorted(b_axes)]
    return (g_axes, b_free), inverse_permutation(a_free + partners)


def tensordot_right_plan(ndim_a, ndim_b, axes):
    """For the adjoint of b in ``np.tensordot(a, b, axes)`` (see tensordot_left_plan)."""
    a_axes, b_axes = tensordot_axes(ndim_a, ndim_b, axes)
    a_free = [k for k in range(ndim_a) if k not in a_axes]
    b_free = [k for k in range(ndim_b) if k not in b_axes]
    partners = [b_axes[a_axes.index(k)] for k in sorted(a_axes)]
    return (a_free, list(range(len(a_free)))), inverse_permutation(partners + b_free)


def inner_axes(a, b):
    """np.inner(a, b) as np.tensordot(a, b, axes): the last axes, or none for a number."""
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return ([], [])
    return ([ndim_of(a) - 1], [ndim_of(b) - 1])


def kron_plan(a, b):
    """For the adjoints of ``np.kron(a, b)``: both shapes padded to the same number of axes, the
    result's shape with each axis split in (a's length, b's length), and where those halves are."""
    ndim = max(ndim_of(a), ndim_of(b))
    a_shape = (1,) * (ndim - ndim_of(a)) + shape_of(a)
    b_shape = (1,) * (ndim - ndim_of(b)) + shape_of(b)
    split = []
    for m, n in zip(a_shape, b_shape):
        split += [m, n]
    return (tuple(split), a_shape, b_shape, list(range(0, 2 * ndim, 2)),
            list(range(1, 2 * ndim, 2)), list(range(ndim)))


def identity_like(x):
    """The identity matrix of the size of ``x``'s last axis, in x's dtype and library."""
    return eye_like(shape_of(x)[-1], shape_of(x)[-1], 0, x)


def eye_like(rows, cols, offset, x):
    """``np.eye(rows, cols, offset)`` in the dtype and library of ``x`` (built from np.arange and
    np.zeros_like, which every array library dispatches; Dask's eye takes no ``order``)."""
    columns_minus_rows = (np.expand_dims(np.arange(cols, like=x), 0)
                          - np.expand_dims(np.arange(rows, like=x), 1))
    return np.zeros_like(x, shape=(rows, cols)) + (columns_minus_rows == offset)


def transposed(x):
    """``x`` with its last two axes swapped (the matrix transpose of a stack of matrices)."""
    return np.swapaxes(x, -1, -2)


def lower_factor(x, upper):
    """The lower-triangular factor, given the one np.linalg.cholesky returned."""
    return transposed(x) if upper else x


def mirror_triangle(m, UPLO):
    """The derivative with respect to the matrix whose ``UPLO`` triangle alone is read (eigh,
    cholesky), from the derivative ``m`` with respect to a symmetric matrix: each entry off the
    diagonal stands for two."""
    both = m + transposed(m)
    off_diagonal = np.tril(both, -1) if UPLO == "L" else np.triu(both, 1)
    return off_diagonal + m * identity_like(m)


def symmetric_from_triangle(m, UPLO):
    """The symmetric matrix that the ``UPLO`` triangle of ``m`` stands for."""
    if UPLO == "L":
        return np.tril(m) + transposed(np.tril(m, -1))
    return np.triu(m) + transposed(np.triu(m, 1))


def svd_adjoint(g, ans, a, full_matrices, compute_uv):
    """The adjoint of a in ``np.linalg.svd(a)`` from the adjoints of (u, s, vh), for distinct
    nonzero singular values. With full_matrices=True on a non-square a, the columns of u (rows
    of vh) past the k = min(m, n) singular vectors span a complement NumPy picks among many:
    they carry no derivative, so their adjoint must be zero (a loss that reads them is refused)."""
    svd_options_checked(a, full_matrices, compute_uv)
    k = min(shape_of(a)[-2:])
    u, s, vh = ans[0][..., :, :k], ans[1], ans[2][..., :k, :]
    gu, gs, gvh = g[0], g[1], g[2]
    if full_matrices and shape_of(a)[-1] != shape_of(a)[-2]:
        extra_vectors_unread(gu[..., :, k:], gvh[..., k:, :])
        gu, gvh = gu[..., :, :k], gvh[..., :k, :]
    v, gv = transposed(vh), transposed(gvh)
    eye = identity_like(u[..., :1, :])
    s_row, s_col = np.expand_dims(s, -2), np.expand_dims(s, -1)
    f = 1.0 / (s_row * s_row - s_col * s_col + eye) - eye  # f[i, j] = 1 / (s_j^2 - s_i^2)
    utgu = transposed(u) @ gu
    vtgv = transposed(v) @ gv
    core = ((f * (utgu - transposed(utgu))) * s_row + eye * np.expand_dims(gs, -1)
            + s_col * (f * (vtgv - transposed(vtgv))))
    da = u @ core @ vh
    da = da + ((gu - u @ utgu) / s_row) @ vh  # the part of gu outside u's columns
    scaled = transposed(gv) / s_col
    return da + u @ (scaled - (scaled @ v) @ vh)  # the part of gvh outside vh's rows


def extra_vectors_unread(*adjoints):
    """Refuse a derivative through the extra columns of a full u or q (rows of a full vh): the
    adjoints that reach them must be zero."""
    for adjoint in adjoints:
        try:
            read = bool(np.count_nonzero(adjoint))
        except TypeError:  # an array type that does not give a Python bool: left unchecked
            read = False
        if read:
            raise NotImplementedError(
                "the loss reads the columns of u (or rows of vh, or columns of q) that "
                "np.linalg.svd(a, full_matrices=True) or np.linalg.qr(a, mode='complete') returns "
                "beyond the first min(m, n): they are one basis among many of the complement of "
                "a's range, and have no derivative; use only the first min(m, n) (or "
                "full_matrices=False, mode='reduced'), or a quantity that does not depend on the "
                "basis, such as I - u1 @ u1.T")
    return True


def qr_adjoint(g, ans, a, mode):
    """The adjoint of a in ``np.linalg.qr(a)`` (reduced, a with at least as many rows as columns)
    from the adjoints of (q, r)."""
    qr_options_checked(a, mode)
    q, r = ans[0], ans[1]
    gq, gr = g[0], g[1]
    if mode == "complete" and shape_of(a)[-2] != shape_of(a)[-1]:
        # q's columns past n have no derivative (see extra_vectors_unread); r's rows past n are
        # zero for every a, so their adjoint reaches nothing.
        n = shape_of(a)[-1]
        extra_vectors_unread(gq[..., :, n:])
        q, r, gq, gr = q[..., :, :n], r[..., :n, :], gq[..., :, :n], gr[..., :n, :]
    m = r @ transposed(gr) - transposed(gq) @ q
    lower = np.tril(m, -1)
    copied = lower + transposed(lower) + m * identity_like(m)  # lower triangle copied up
    x = gq + q @ copied
    return transposed(np.linalg.solve(r, transposed(x)))  # x @ inv(r).T


def as_columns(v, b):
    """``v`` as a stack of columns when ``b`` (the right side of np.linalg.solve) is 1-D."""
    return np.expand_dims(v, -1) if ndim_of(b) == 1 else v


def from_columns(m, b):
    """The inverse of as_columns: a single column back to a vector when ``b`` is 1-D."""
    return np.squeeze(m, -1) if ndim_of(b) == 1 else m


def reduced_mode(mode):
    """np.linalg.qr's mode, "reduced" or "complete" for the rule of (q, r) (mode="r" has a rule
    of its own, chosen when the mode is written as a literal)."""
    if mode not in ("reduced", "complete"):
        raise NotImplementedError(f"srcgrad differentiates np.linalg.qr(a, mode=...) with mode "
                                  f"'reduced', 'complete' or 'r' written as a literal, not "
                                  f"mode={mode!r}")
    return mode


def svd_tangent(da, ans, a, full_matrices, compute_uv):
    """The tangent of (u, s, vh) = ``np.linalg.svd(a)`` along ``da``. The extra columns of a
    full u (rows of a full vh) have no derivative (see svd_adjoint): their tangent is NaN."""
    svd_options_checked(a, full_matrices, compute_uv)
    k = min(shape_of(a)[-2:])
    u, s, vh = ans[0][..., :, :k], ans[1], ans[2][..., :k, :]
    v = transposed(vh)
    eye = identity_like(u[..., :1, :])
    s_row, s_col = np.expand_dims(s, -2), np.expand_dims(s, -1)
    f = 1.0 / (s_row * s_row - s_col * s_col + eye) - eye
    rotated = transposed(u) @ da @ v
    ds = np.sum(rotated * eye, axis=-1)
    du = u @ (f * (rotated * s_row + s_col * transposed(rotated)))
    du = du + (da @ v - u @ rotated) / s_row
    dv = v @ (f * (s_col * rotated + transposed(rotated) * s_row))
    dv = dv + (transposed(da) @ u - v @ transposed(rotated)) / s_row
    dvh = transposed(dv)
    if full_matrices and shape_of(a)[-1] != shape_of(a)[-2]:
        du = np.concatenate([du, np.full_like(ans[0][..., :, k:], np.nan)], axis=-1)
        dvh = np.concatenate([dvh, np.full_like(ans[2][..., k:, :], np.nan)], axis=-2)
    return [du, ds, dvh]


def qr_tangent(da, ans, a, mode):
    """The tangent of (q, r) = ``np.linalg.qr(a)`` along ``da`` (see qr_adjoint)."""
    qr_options_checked(a, mode)
    q, r = ans[0], ans[1]
    n = shape_of(a)[-1]
    if mode == "complete" and shape_of(a)[-2] != n:
        q, r = q[..., :, :n], r[..., :n, :]
    da_rinv = transposed(np.linalg.solve(transposed(r), transposed(da)))  # da @ inv(r)
    qt_da_rinv = transposed(q) @ da_rinv
    lower = np.tril(qt_da_rinv, -1)
    skew = lower - transposed(lower)
    dq, dr = q @ (skew - qt_da_rinv) + da_rinv, (qt_da_rinv - skew) @ r
    if mode == "complete" and shape_of(a)[-2] != n:  # see svd_tangent and qr_adjoint
        dq = np.concatenate([dq, np.full_like(ans[0][..., :, n:], np.nan)], axis=-1)
        dr = np.concatenate([dr, np.zeros_like(ans[1][..., n:, :])], axis=-2)
    return [dq, dr]


def svd_options_checked(a, full_matrices, compute_uv):
    """Refuse the np.linalg.svd calls the rule does not cover (kept apart from the rule's
    arithmetic, which srcgrad differentiates again for second derivatives)."""
    if not compute_uv:
        raise NotImplementedError("srcgrad differentiates np.linalg.svd(a, compute_uv=False) when "
                                  "compute_uv is written as the literal False (or call "
                                  "np.linalg.svdvals(a))")
    return True


def qr_options_checked(a, mode):
    """Refuse the np.linalg.qr calls the rule does not cover (see svd_options_checked)."""
    reduced_mode(mode)
    if shape_of(a)[-2] < shape_of(a)[-1]:
        raise NotImplementedError("srcgrad differentiates np.linalg.qr(a) for a with at least as "
                                  "many rows as columns")
    return True


# --- triangular solves (scipy.linalg) -----------------------------------------------------------

def trans_code(trans):
    """scipy.linalg.solve_triangular's ``trans`` as 0 (solve with a) or 1 (with a transposed)."""
    return 0 if trans in (0, "N") else 1


def triangle_name(lower):
    """The triangle a factorization reads: "L" or "U"."""
    return "L" if lower else "U"


def as_matrix(v):
    """A 1-D right-hand side as one column; a matrix as it is."""
    return np.expand_dims(v, -1) if ndim_of(v) == 1 else v


def op_of(m, trans):
    """``m`` or its transpose, as solve_triangular's ``trans`` says."""
    return m if trans_code(trans) == 0 else transposed(m)


def triangle_of(m, lower, unit_diagonal=False):
    """The part of ``m`` in the triangle a triangular solve reads (without the diagonal when it
    is taken to be ones)."""
    if lower:
        return np.tril(m, -1 if unit_diagonal else 0)
    return np.triu(m, 1 if unit_diagonal else 0)


def outer_adjoint(db, x, trans):
    """The adjoint of the matrix in x = op(a)^-1 b, given db = op(a)^-T g: -db x^T, transposed
    back when op transposes."""
    m = -(as_matrix(db) @ transposed(as_matrix(x)))
    return m if trans_code(trans) == 0 else transposed(m)


# --- np.r_ and np.c_ ----------------------------------------------------------------------------

def r_join(arrays):
    """``np.r_[a, b, ...]`` as a function of the list of its items (arrays and numbers)."""
    return np.r_[tuple(arrays)]


def c_join(arrays):
    """``np.c_[a, b, ...]`` as a function of the list of its items (arrays and numbers)."""
    return np.c_[tuple(arrays)]


def index_trick_pieces(g, arrays, joiner):
    """The adjoint of ``r_join(arrays)`` or ``c_join(arrays)``: one piece of ``g`` per item, in
    the item's shape. np.r_ joins items made at least 1-D along the first axis; np.c_ joins them
    made at least 2-D (a vector as a column) along the last."""
    pieces, start = [], 0
    for x in arrays:
        shape = shape_of(x)
        if joiner is r_join:
            length = shape[0] if shape else 1
            piece = g[start:start + length]
        else:
            length = shape[-1] if len(shape) >= 2 else 1
            piece = g[..., start:start + length]
        pieces.append(np.reshape(piece, shape))
        start += length
    return pieces


def hsplit_axis(ary):
    """The axis np.hsplit cuts: the second, or the only one of a vector."""
    return 1 if ndim_of(ary) > 1 else 0


# --- einsum -------------------------------------------------------------------------------------

# --- keyword variants: calls whose result changes structure with an option ----------------------

def svd_values(a, full_matrices=True):
    """``np.linalg.svd(a, compute_uv=False)``: the singular values alone, one array (the form
    srcgrad differentiates, see rules.registry.keyword_variant; hermitian=True, which reads one
    triangle of a, is not differentiated)."""
    return np.linalg.svd(a, full_matrices, False)


def qr_r(a):
    """``np.linalg.qr(a, mode="r")``: r alone, one array."""
    return np.linalg.qr(a, mode="r")


def qr_complete(a):
    """``np.linalg.qr(a, mode="complete")``: q square, r of a's shape."""
    return np.linalg.qr(a, mode="complete")


def gradients_along(f, spacing=1.0, axis=None, edge_order=1):
    """``np.gradient(f, spacing, axis=(i, j, ...))`` over several axes: a list of one array per
    axis (one spacing, a number, for all of them)."""
    return list(np.gradient(f, spacing, axis=axis, edge_order=edge_order))


def gradients_adjoint(arrays, f, spacing, axis, edge_order):
    """The adjoint of f in ``gradients_along(f, spacing, axis, edge_order)`` from ``arrays``, the
    adjoints of its arrays: the sum of each axis's np.gradient adjoint."""
    total = gradient_adjoint(arrays[0], f, spacing,
                             gradient_axis(f, spacing, axis[0], edge_order), edge_order)
    for k in range(1, len(axis)):
        total = total + gradient_adjoint(arrays[k], f, spacing,
                                         gradient_axis(f, spacing, axis[k], edge_order),
                                         edge_order)
    return total


def einsum_of(subscripts, operands):
    """``np.einsum(subscripts, *operands)`` with the operands as one list (the form srcgrad
    differentiates: the rule needs one parameter for all of them)."""
    return np.einsum(subscripts, *operands)


def einsum_terms(subscripts, shapes):
    """``np.einsum``'s subscripts written out: (one string of letters per operand, the output's
    letters), with '...' replaced by letters of its own (right-aligned across operands, as
    NumPy broadcasts them) and an implicit output made explicit."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    inputs = inputs.split(",")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
             if c not in subscripts]
    widths = [len(shape) - (len(term) - 3) if "..." in term else 0
              for term, shape in zip(inputs, shapes)]
    ellipsis = "".join(spare[:max(widths, default=0)])
    terms = [term.replace("...", ellipsis[len(ellipsis) - w:]) for term, w in zip(inputs, widths)]
    if not arrow:  # implicit output: '...', then the letters seen once, in alphabetical order
        letters = "".join(inputs).replace(".", "")
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return terms, output.replace("...", ellipsis)


def einsum_plan(subscripts, shapes, k):
    """For the adjoint of operand ``k`` of ``np.einsum(subscripts, ...)`` (operands of the
    given shapes): one einsum of g, the other operands and constant factors that gives it, and
    those factors as ("ones", n) or ("eye", n). An index that only operand k has is summed away
    in the result, so it comes back as a vector of ones; an index operand k repeats (its
    diagonal, 'ii') comes back through an identity matrix; an axis of length 1 that einsum
    broadcast is summed back to length 1 through a ones vector of length 1, and one that the
    others had of length 1 is stretched back by a ones vector of its length."""
    terms, output = einsum_terms(subscripts, shapes)
    sizes = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            sizes[c] = max(sizes.get(c, 1), n)
    others = [term for j, term in enumerate(terms) if j != k]
    available = set(output).union(*others)
    reaching = {c: sizes[c] for c in output}  # the length the einsum gives each index
    for j, term in enumerate(terms):
        for c, n in zip(term, shapes[j]):
            if j != k and c not in output:
                reaching[c] = max(reaching.get(c, 1), n)
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
             if c not in sizes]
    result, factor_terms, factors, seen = "", [], [], set()
    for c, n in zip(terms[k], shapes[k]):
        if c in seen:  # a repeated index: the diagonal, through an identity matrix
            fresh = spare.pop()
            factor_terms.append(c + fresh)
            factors.append(("eye", n))
            result += fresh
        elif c not in available:  # summed away by operand k alone: ones along it
            factor_terms.append(c)
            factors.append(("ones", n))
            result += c
        elif n == 1 and sizes[c] > 1:  # broadcast by einsum: summed back to length 1
            fresh = spare.pop()
            factor_terms.append(fresh)
            factors.append(("ones", 1))
            result += fresh
        else:
            if reaching[c] < n:  # the others broadcast along it: stretched back by ones
                factor_terms.append(c)
                factors.append(("ones", n))
            result += c
        seen.add(c)
    expression = ",".join([output] + others + factor_terms) + "->" + result
    return expression, factors


def einsum_adjoint(g, subscripts, operands, k):
    """The adjoint of operand ``k`` of ``np.einsum(subscripts, *operands)``."""
    plan = einsum_plan(subscripts, [shape_of(x) for x in operands], k)
    g = as_array_like(g, operands[k])
    inputs = [g]
    for j in range(len(operands)):
        if j != k:
            inputs.append(operands[j])
    for kind, n in plan[1]:
        like = operands[k]
        inputs.append(eye_like(n, n, 0, like) if kind == "eye" else np.ones_like(like, shape=(n,)))
    return einsum_of(plan[0], inputs)


def einsum_adjoints(g, subscripts, operands):
    """The adjoints of every operand of ``np.einsum(subscripts, *operands)``."""
    adjoints = []
    for k in range(len(operands)):
        adjoints.append(einsum_adjoint(g, subscripts, operands, k))
    return adjoints


def einsum_tangent(subscripts, operands, doperands):
    """The tangent of ``np.einsum(subscripts, *operands)``: one term per operand's tangent."""
    total = 0.0
    for k in range(len(operands)):
        moved = list(operands)
        moved[k] = doperands[k]
        total = total + einsum_of(subscripts, moved)
    return total


def replaced(items, k, value):
    """A copy of the list ``items`` with item ``k`` replaced by ``value``."""
    items = list(items)
    items[k] = value
    return items


def einsum_adjoints_along(g, subscripts, operands, directions):
    """For second derivatives of ``einsum_adjoints(g, subscripts, operands)``, which is
    multilinear: for each operand j, the sum over the other operands k of operand j's adjoint in
    the einsum whose operand k is replaced by ``directions[k]``. With cotangents as directions
    that is the adjoint of the operands; with the operands' tangents, the tangent along them
    (the same sum, read with j and k exchanged)."""
    adjoints = []
    for j in range(len(operands)):
        total = np.zeros_like(operands[j])
        for k in range(len(operands)):
            if k != j:
                moved = replaced(operands, k, directions[k])
                total = total + einsum_adjoint(g, subscripts, moved, j)
        adjoints.append(total)
    return adjoints


# --- np.gradient --------------------------------------------------------------------------------

def gradient_axis(f, spacing, axis, edge_order):
    """The one axis ``np.gradient(f, spacing, axis=axis, edge_order=...)`` differences (the rule
    covers a result that is one array: one axis, one spacing, a number or the coordinates)."""
    if ndim_of(spacing) > 1:
        raise NotImplementedError("np.gradient takes one number or a vector of coordinates as "
                                  "the spacing of the axis")
    if axis is None:
        if ndim_of(f) != 1:
            raise NotImplementedError("np.gradient of an array of several axes returns one array "
                                      "per axis: srcgrad needs the axes written out, as "
                                      "np.gradient(f, axis=(0, 1, ...)) with a literal tuple")
        return 0
    if isinstance(axis, (tuple, list)):
        if len(axis) != 1:
            raise NotImplementedError("np.gradient over several axes returns one array per axis: "
                                      "srcgrad differentiates it when the axes are a literal "
                                      "tuple, np.gradient(f, axis=(0, 1, ...))")
        axis = axis[0]
    return axis % ndim_of(f)


def gradient_band(n, spacing, edge_order, like):
    """The matrix of ``np.gradient`` along an axis of length n as its five diagonals: row o + 2,
    column i holds the weight of element i + o in result i (zero off the matrix). NumPy's own
    np.gradient works them out, from five combs (ones at every fifth element)."""
    positions = np.arange(n, like=like)
    combs = np.expand_dims(positions % 5, 0) == np.expand_dims(np.arange(5, like=like), 1)
    responses = np.gradient(np.zeros_like(like, shape=(5, n)) + combs, spacing, axis=1,
                            edge_order=edge_order)
    columns = np.expand_dims(positions, 0) + np.expand_dims(np.arange(-2, 3, like=like), 1)
    residues = np.expand_dims(np.arange(5, like=like), (0, 2))
    picked = np.sum(np.expand_dims(responses, 0) * (np.expand_dims(columns % 5, 1) == residues),
                    axis=1)  # picked[o + 2, i]: the response of the comb holding element i + o
    return np.where((columns >= 0) & (columns < n), picked, 0.0)


def gradient_adjoint(g, f, spacing, axis, edge_order):
    """The adjoint of ``np.gradient(f, spacing, axis=axis, edge_order=edge_order)``: the
    transposed band, each diagonal's products shifted back onto the elements they read."""
    g = as_array_like(g, f)
    n = shape_of(g)[axis]
    band = gradient_band(n, spacing, edge_order, g)
    widths = [(0, 0)] * ndim_of(g)
    widths[axis] = (2, 2)
    before = (slice(None),) * axis
    total = 0.0
    for o in range(-2, 3):
        weights = np.reshape(band[o + 2], (n,) + (1,) * (ndim_of(g) - axis - 1))
        products = np.pad(g * weights, widths)  # product i lands on element i + o
        total = total + products[before + (slice(2 - o, 2 - o + n),)]
    return total


def passes_derivative(dtype):
    """1.0 for a cast to a floating (or complex) dtype, 0.0 for one to integers or booleans,
    whose values are piecewise constant."""
    return 1.0 if np.dtype(dtype).kind in "fc" else 0.0


def single_result(value, flag, option):
    """``value``, when the option that would make the primitive return a tuple is off (the rules
    of np.average, np.linspace and logsumexp cover one result)."""
    if flag:
        raise NotImplementedError(f"srcgrad's derivative rule covers this function with "
                                  f"{option}=False only")
    return value


def bound_or(bound, default):
    """np.clip's bound, or ``default`` (an infinity) where it is None (no bound)."""
    return default if bound is None else bound


# --- np.broadcast_arrays and np.meshgrid (several arrays in, several out) -----------------------

def broadcast_arrays_of(arrays):
    """``np.broadcast_arrays(*arrays)`` with the arrays as one list (see einsum_of)."""
    return list(np.broadcast_arrays(*arrays))


def meshgrid_of(arrays, indexing="xy", sparse=False, copy=True):
    """``np.meshgrid(*arrays, ...)`` with the arrays as one list (see einsum_of)."""
    return list(np.meshgrid(*arrays, indexing=indexing, sparse=sparse, copy=copy))


def unbroadcast_each(g, arrays):
    """Each adjoint of ``g`` summed down to the shape of its array."""
    pieces = []
    for part, x in zip(g, arrays):
        pieces.append(unbroadcast(part, x))
    return pieces


def broadcast_each(values, likes):
    """Each of ``values`` stretched to the shape of its partner in ``likes``."""
    pieces = []
    for value, like in zip(values, likes):
        pieces.append(np.broadcast_to(value, shape_of(like)))
    return pieces


def meshgrid_adjoints(g, arrays, indexing):
    """The adjoints of the inputs of ``np.meshgrid(*arrays, indexing=indexing)``: each output's
    adjoint summed over every axis but the one its input runs along."""
    adjoints = []
    for k in range(len(arrays)):
        axis = k
        if indexing == "xy" and len(arrays) > 1 and k < 2:
            axis = 1 - k
        others = tuple(j for j in range(ndim_of(g[k])) if j != axis)
        adjoints.append(np.reshape(np.sum(g[k], axis=others), shape_of(arrays[k])))
    return adjoints


# --- np.linalg.matrix_power -----------------------------------------------------------------------

def matrix_power_adjoint(g, a, n):
    """The adjoint of a in ``np.linalg.matrix_power(a, n)``: the sum over k of
    (a^T)^k g (a^T)^(n-1-k); for n < 0, the same for inv(a), then through the inverse."""
    base = np.linalg.inv(a) if n < 0 else a
    count = -n if n < 0 else n
    base_t = np.swapaxes(base, -1, -2)
    return through_inverse(power_sum(base_t, g, count), base_t, n)


def matrix_power_tangent(da, a, n):
    """The tangent of ``np.linalg.matrix_power(a, n)`` along ``da``: the sum over k of
    a^k da a^(n-1-k); for n < 0, the same for inv(a) along its tangent -inv(a) da inv(a)."""
    base = np.linalg.inv(a) if n < 0 else a
    count = -n if n < 0 else n
    moved = -(base @ da @ base) if n < 0 else da
    return power_sum(base, moved, count)


def power_sum(p, m, count):
    """The sum over k < count of p^k m p^(count-1-k), built up one power at a time."""
    if count == 0:
        return np.zeros_like(m)
    total = m
    power = p
    for _ in range(1, count):
        total = p @ total + m @ power
        power = power @ p
    return total


def through_inverse(d_inverse, inverse_t, n):
    """The adjoint of a from that of inv(a) when n < 0: -inv(a)^T d inv(a)^T."""
    if n < 0:
        return -(inverse_t @ d_inverse @ inverse_t)
    return d_inverse


# --- np.convolve and np.correlate -----------------------------------------------------------------

def full_convolution_adjoint(g, a, v, mode, correlation=False):
    """The adjoint of ``np.convolve(a, v, mode)`` as that of the full convolution: ``g`` put back
    at its place in the full result ('same' and 'valid' are slices of it), zeros around.
    np.correlate centres 'same' from the other end when v is the longer vector."""
    shorter = min(size_of(a), size_of(v))
    offset = 0 if mode == "full" else (shorter - 1) // 2 if mode == "same" else shorter - 1
    full = size_of(a) + size_of(v) - 1
    if correlation and size_of(v) > size_of(a):
        offset = full - size_of(g) - offset
    return np.pad(g, (offset, full - size_of(g) - offset))


def convolve_adjoints(g, a, v, mode, correlation=False):
    """The adjoints of a and v in ``np.convolve(a, v, mode)``: each is the correlation of the full
    adjoint with the other operand."""
    full = full_convolution_adjoint(g, a, v, mode, correlation)
    return [np.correlate(full, v, "valid"), np.correlate(full, a, "valid")]


# --- np.cov -----------------------------------------------------------------------------------------

def cov_rows(v, rowvar):
    """One operand of ``np.cov`` or ``np.corrcoef`` as NumPy reads it: (variables, observations),
    a vector one variable, transposed when ``rowvar`` is False unless it is one row."""
    x = np.reshape(v, (1, -1)) if ndim_of(v) < 2 else v
    return np.swapaxes(x, 0, 1) if not rowvar and shape_of(x)[0] != 1 else x


def cov_stacked(m, y, rowvar):
    """The variables of ``np.cov(m, y, rowvar)``: m's, then y's when y is given."""
    if y is None:
        return cov_rows(m, rowvar)
    return np.concatenate([cov_rows(m, rowvar), cov_rows(y, rowvar)], axis=0)


def cov_weights(fweights, aweights):
    """The weight of each observation in np.cov: fweights times aweights, or None."""
    if fweights is None:
        return aweights
    return fweights if aweights is None else fweights * aweights


def cov_centred(x, weights):
    """The variables (rows of ``x``) less their (weighted) means."""
    return x - np.expand_dims(np.average(x, axis=1, weights=weights), 1)


def cov_divisor(x, bias, ddof, fweights, aweights):
    """The divisor of ``np.cov``: the (weighted) number of observations less ddof, as NumPy
    computes it."""
    ddof = ddof if ddof is not None else (0 if bias else 1)
    weights = cov_weights(fweights, aweights)
    if weights is None:
        return shape_of(x)[1] - ddof
    total = np.sum(weights)
    if ddof == 0:
        return total
    if aweights is None:
        return total - ddof
    return total - ddof * np.sum(weights * aweights) / total


def cov_weighted(centred, fweights, aweights):
    """The centred variables times each observation's weight."""
    weights = cov_weights(fweights, aweights)
    return centred if weights is None else centred * weights


def cov_part(dx, m, y, rowvar, part):
    """The rows of ``dx`` (an adjoint of cov_stacked's result) that belong to m (part 0) or to
    y (part 1), in that operand's own layout; None for a y not given."""
    if part == 1 and y is None:
        return None
    rows = shape_of(cov_rows(m, rowvar))[0]
    x = dx[:rows] if part == 0 else dx[rows:]
    v = m if part == 0 else y
    if not rowvar and shape_of(x)[0] != 1 and ndim_of(v) == 2:
        x = np.swapaxes(x, 0, 1)
    return np.reshape(x, shape_of(v))


def cov_direction(d, m, y, rowvar, part):
    """A tangent of m (part 0) or y (part 1) as a direction in cov_stacked's result."""
    if y is None:
        return cov_rows(d, rowvar) if part == 0 else None
    if part == 0:
        return np.concatenate([cov_rows(d, rowvar), np.zeros_like(cov_rows(y, rowvar))], axis=0)
    return np.concatenate([np.zeros_like(cov_rows(m, rowvar)), cov_rows(d, rowvar)], axis=0)


def square_adjoint(g, x):
    """The adjoint of a (variables, variables) result as that square matrix (np.cov and
    np.corrcoef squeeze a single variable's result to a number)."""
    rows = shape_of(x)[0]
    return np.reshape(as_array_like(g, x), (rows, rows))


def cov_adjoint(g, m, y, rowvar, bias, ddof, fweights, aweights):
    """The adjoint of cov_stacked's result in ``np.cov(m, y, ...)``: (G + G^T) (x_c w) /
    divisor (the weighted centring itself adds nothing: x_c w sums to zero over observations)."""
    x = cov_stacked(m, y, rowvar)
    centred = cov_centred(x, cov_weights(fweights, aweights))
    g = square_adjoint(g, x)
    return ((g + np.swapaxes(g, 0, 1)) @ cov_weighted(centred, fweights, aweights)
            / cov_divisor(x, bias, ddof, fweights, aweights))


def cov_tangent(dx, ans, m, y, rowvar, bias, ddof, fweights, aweights):
    """The tangent of ``np.cov(m, y, ...)`` along ``dx``, a direction of cov_stacked's result
    (zero for None)."""
    if dx is None:
        return np.zeros_like(ans)
    x = cov_stacked(m, y, rowvar)
    centred = cov_centred(x, cov_weights(fweights, aweights))
    product = dx @ np.swapaxes(cov_weighted(centred, fweights, aweights), 0, 1)
    return np.reshape((product + np.swapaxes(product, 0, 1))
                      / cov_divisor(x, bias, ddof, fweights, aweights), shape_of(ans))


def corrcoef_normalized(m, y, rowvar):
    """The centred variables of ``np.corrcoef(m, y, rowvar)`` scaled to length one, and their
    lengths: the correlations are ``z @ z.T``."""
    x = cov_stacked(m, y, rowvar)
    centred = x - np.mean(x, axis=1, keepdims=True)
    lengths = np.sqrt(np.sum(centred * centred, axis=1, keepdims=True))
    return [centred / lengths, lengths]


def corrcoef_adjoint(g, m, y, rowvar):
    """The adjoint of cov_stacked's result in ``np.corrcoef``: through z z^T, the scaling to
    length one (which takes out the part along z) and the centring."""
    z, lengths = corrcoef_normalized(m, y, rowvar)
    g = square_adjoint(g, z)
    gz = (g + np.swapaxes(g, 0, 1)) @ z
    gc = (gz - z * np.sum(z * gz, axis=1, keepdims=True)) / lengths
    return gc - np.mean(gc, axis=1, keepdims=True)


def corrcoef_tangent(dx, ans, m, y, rowvar):
    """The tangent of ``np.corrcoef(m, y, rowvar)`` along ``dx``, a direction of cov_stacked's
    result (zero for None)."""
    if dx is None:
        return np.zeros_like(ans)
    z, lengths = corrcoef_normalized(m, y, rowvar)
    dc = dx - np.mean(dx, axis=1, keepdims=True)
    dz = (dc - z * np.sum(z * dc, axis=1, keepdims=True)) / lengths
    product = dz @ np.swapaxes(z, 0, 1)
    return np.reshape(product + np.swapaxes(product, 0, 1), shape_of(ans))


# --- np.median ----------------------------------------------------------------------------------------

def median_shares(a, axis, skip_nan=False):
    """How the median of ``a`` along ``axis`` moves with each element (an array of a's shape):
    the middle element gets it all; with an even count the two middle ones half each; tied
    elements share their part evenly. With ``skip_nan`` (np.nanmedian) the middle is that of
    the values that are not NaN, which np.sort puts last, and NaNs get nothing."""
    if isinstance(axis, (tuple, list)):
        raise NotImplementedError("srcgrad differentiates np.median over one axis or all")
    flat = axis is None
    values = np.reshape(a, (-1,)) if flat else a
    axis_ = 0 if flat else axis % ndim_of(a)
    ordered = np.sort(values, axis=axis_)
    if skip_nan:
        n = np.sum(~np.isnan(values), axis=axis_, keepdims=True)
        low = np.take_along_axis(ordered, np.maximum(n - 1, 0) // 2, axis=axis_)
        high = np.take_along_axis(ordered, np.minimum(n // 2, shape_of(values)[axis_] - 1),
                                  axis=axis_)
    else:
        n = shape_of(values)[axis_]
        before = (slice(None),) * axis_
        low = ordered[before + (slice((n - 1) // 2, (n - 1) // 2 + 1),)]
        high = ordered[before + (slice(n // 2, n // 2 + 1),)]
    is_low = values == low
    is_high = values == high
    shares = 0.5 * (is_low / count_of(is_low, values, axis_, True)
                    + is_high / count_of(is_high, values, axis_, True))
    return np.reshape(shares, shape_of(a)) if flat else shares


def quantile_shares(a, q, axis, method="linear"):
    """How ``np.quantile(a, q, axis)`` (linear method, one q) moves with each element of ``a``:
    the two order statistics it interpolates between get 1 - t and t of it; tied elements share
    their part evenly."""
    if method != "linear" or ndim_of(q) != 0:
        raise NotImplementedError("srcgrad differentiates np.quantile and np.percentile for one q "
                                  "with method='linear'")
    if isinstance(axis, (tuple, list)):
        raise NotImplementedError("srcgrad differentiates np.quantile over one axis or all")
    flat = axis is None
    values = np.reshape(a, (-1,)) if flat else a
    axis_ = 0 if flat else axis % ndim_of(a)
    position = float(q) * (shape_of(values)[axis_] - 1)
    below = int(np.floor(position))
    above = min(below + 1, shape_of(values)[axis_] - 1)
    t = position - below
    ordered = np.sort(values, axis=axis_)
    before = (slice(None),) * axis_
    is_low = values == ordered[before + (slice(below, below + 1),)]
    is_high = values == ordered[before + (slice(above, above + 1),)]
    # (a Python number times a boolean array would be float64: divide by the counts first)
    shares = (is_low / count_of(is_low, values, axis_, True) * (1.0 - t)
              + is_high / count_of(is_high, values, axis_, True) * t)
    return np.reshape(shares, shape_of(a)) if flat else shares


def percent_to_fraction(q):
    """np.percentile's q as np.quantile's."""
    return q / 100.0


# --- np.linalg.multi_dot, np.interp, np.trapezoid -------------------------------------------

def _chain(matrices):
    return matrices[0] if len(matrices) == 1 else np.linalg.multi_dot(matrices)


def multi_dot_adjoints(g, arrays):
    """The adjoints of each array of ``np.linalg.multi_dot(arrays)``: a first 1-D array is a
    row, a last one a column; each adjoint is (product before)^T g (product after)^T."""
    first, last = arrays[0], arrays[-1]
    if ndim_of(first) == 1:
        first = np.reshape(first, (1, -1))
    if ndim_of(last) == 1:
        last = np.reshape(last, (-1, 1))
    matrices = [first]
    for middle in arrays[1:-1]:
        matrices.append(middle)
    matrices.append(last)
    g = np.reshape(g, (shape_of(first)[0], shape_of(last)[1]))
    adjoints = []
    for k in range(len(matrices)):
        term = g
        if k > 0:
            term = transposed(_chain(matrices[:k])) @ term
        if k < len(matrices) - 1:
            term = term @ transposed(_chain(matrices[k + 1:]))
        adjoints.append(np.reshape(term, shape_of(arrays[k])))
    return adjoints


def multi_dot_tangent(arrays, tangents):
    """The tangent of ``np.linalg.multi_dot(arrays)``: the sum of the products with one array
    replaced by its tangent."""
    total = 0.0
    for k in range(len(arrays)):
        factors = []
        for j in range(len(arrays)):
            factors.append(tangents[j] if j == k else arrays[j])
        total = total + np.linalg.multi_dot(factors)
    return total


def interp_index(x, xp, period):
    """For ``np.interp(x, xp, fp)``: the knot below each x (the last interval beyond the ends)."""
    if period is not None:
        raise NotImplementedError("srcgrad differentiates np.interp without period")
    return np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)


def interp_inside(x, xp):
    """1.0 where x lies within the knots (the result moves with x), 0.0 outside."""
    return ((x >= xp[0]) & (x <= xp[-1])) * 1.0


def interp_kept(x, xp, left, right):
    """0.0 where x lies beyond an end whose value ``left``/``right`` fixes, else 1.0: there the
    result does not depend on fp."""
    below = (x < xp[0]) if left is not None else False  # xp may be a list: its ends are numbers
    above = (x > xp[-1]) if right is not None else False
    return 1.0 - (below | above)


def trapezoid_weights(y, x, dx, axis):
    """The weight of each sample of y in ``np.trapezoid(y, x, dx, axis)``, shaped to broadcast
    against y: half the width of the intervals beside it (made by y's library, or x's)."""
    count = shape_of(y)[axis]
    if x is None:
        widths = np.full_like(y, dx, shape=(count - 1,))
    elif ndim_of(x) != 1:
        raise NotImplementedError("srcgrad differentiates np.trapezoid with 1-D x")
    else:
        widths = np.diff(x)
    edge = np.zeros_like(widths, shape=(1,))
    shape = [1] * ndim_of(y)
    shape[axis] = count
    return np.reshape((np.concatenate([widths, edge]) + np.concatenate([edge, widths])) / 2,
                      tuple(shape))
