"""Rules of joining, repeating, padding, rotating, sorting and picking from arrays, and of the
array constructors whose values come from their arguments (np.full, np.linspace).

Helpers that build an adjoint (``unjoin``, ``repeat_adjoint`` ...) are linear in it, and have
rules of their own below, so that second derivatives go through them.
"""
import numpy as np

from ..runtime import (as_array_like, broadcast_arrays_of, broadcast_each, broadcast_like, c_join,
                       cast_like, pad_mode, diag_adjoint, diagonal_adjoint, hsplit_axis,
                       index_trick_pieces, inverse_permutation, linspace_fractions,
                       meshgrid_adjoints, meshgrid_of, ndim_of, negated, r_join, repeat_adjoint,
                       rollaxis_order, select_adjoint, select_default_adjoint, shape_of,
                       split_like, take_adjoint, take_along_axis_adjoint, tile_adjoint,
                       trace_adjoint, unbroadcast, unbroadcast_each, unjoin, unpad, window_sum)
from .registry import (differentiable, jvp, non_differentiable, PACKED_ARGUMENTS, present,
                       sequence_result, vjp)


# --- padding ------------------------------------------------------------------------------------
@vjp(np.pad)
def pad(g, ans, array, pad_width, mode="constant", constant_values=0):
    return unpad(g, pad_width, pad_mode(mode)), None


@jvp(np.pad)
def pad_jvp(ans, array, pad_width, mode="constant", constant_values=0, *, darray):
    # A constant padding has tangent zero whatever constant_values says; the other modes copy
    # elements of the array, and their tangents with them.
    return np.pad(darray, pad_width, pad_mode(mode))


@vjp(unpad)
def unpad_rule(g, ans, value, pad_width, mode="constant"):
    return np.pad(g, pad_width, mode), None


@jvp(unpad)
def unpad_jvp(ans, value, pad_width, mode="constant", *, dvalue):
    return unpad(dvalue, pad_width, mode)


# --- sliding windows ----------------------------------------------------------------------------
@vjp(np.lib.stride_tricks.sliding_window_view)
def sliding_window_view(g, ans, x, window_shape, axis=None):
    return window_sum(g, x, window_shape, axis), None


@jvp(np.lib.stride_tricks.sliding_window_view)
def sliding_window_view_jvp(ans, x, window_shape, axis=None, *, dx):
    return np.lib.stride_tricks.sliding_window_view(dx, window_shape, axis)


@vjp(window_sum)
def window_sum_rule(g, ans, windows, like, window_shape, axis=None):
    return np.lib.stride_tricks.sliding_window_view(g, window_shape, axis), None, None


@jvp(window_sum)
def window_sum_jvp(ans, windows, like, window_shape, axis=None, *, dwindows):
    return window_sum(dwindows, like, window_shape, axis)


# --- joining ------------------------------------------------------------------------------------
# np.row_stack, vstack's old alias, is gone from newer NumPy.
_ROW_STACK = (np.row_stack,) if hasattr(np, "row_stack") else ()


@vjp(np.vstack, *_ROW_STACK)
def vstack(g, ans, tup, dtype=None, casting="same_kind"):
    return unjoin(g, tup, np.vstack)


@jvp(np.vstack, *_ROW_STACK)
def vstack_jvp(ans, tup, dtype=None, casting="same_kind", *, dtup):
    return np.vstack(dtup)


@vjp(np.hstack)
def hstack(g, ans, tup, dtype=None, casting="same_kind"):
    return unjoin(g, tup, np.hstack)


@jvp(np.hstack)
def hstack_jvp(ans, tup, dtype=None, casting="same_kind", *, dtup):
    return np.hstack(dtup)


@vjp(np.column_stack)
def column_stack(g, ans, tup):
    return unjoin(g, tup, np.column_stack)


@jvp(np.column_stack)
def column_stack_jvp(ans, tup, *, dtup):
    return np.column_stack(dtup)


@vjp(np.dstack)
def dstack(g, ans, tup):
    return unjoin(g, tup, np.dstack)


@jvp(np.dstack)
def dstack_jvp(ans, tup, *, dtup):
    return np.dstack(dtup)


@vjp(unjoin)
def unjoin_rule(g, ans, value, arrays, joiner):
    return joiner(g), None, None


@jvp(unjoin)
def unjoin_jvp(ans, value, arrays, joiner, *, dvalue):
    return unjoin(dvalue, arrays, joiner)


@vjp(np.append)
def append(g, ans, arr, values, axis=None):
    pieces = split_like(g, [arr, values], axis)
    return pieces[0], pieces[1]


@jvp(np.append)
def append_jvp(ans, arr, values, axis=None, *, darr, dvalues):
    return (np.append(darr, np.zeros_like(values), axis),
            np.append(np.zeros_like(arr), dvalues, axis))


@vjp(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def atleast_nd(g, ans, ary):
    return np.reshape(g, shape_of(ary))


@jvp(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def atleast_nd_jvp(ans, ary, *, dary):
    return np.reshape(dary, shape_of(ans))


# --- repeating and rearranging ------------------------------------------------------------------
@vjp(np.repeat)
def repeat(g, ans, a, repeats, axis=None):
    return repeat_adjoint(g, a, repeats, axis), None


@jvp(np.repeat)
def repeat_jvp(ans, a, repeats, axis=None, *, da):
    return np.repeat(da, repeats, axis)


@vjp(repeat_adjoint)
def repeat_adjoint_rule(g, ans, value, a, repeats, axis):
    return np.repeat(g, repeats, axis), None, None, None


@jvp(repeat_adjoint)
def repeat_adjoint_jvp(ans, value, a, repeats, axis, *, dvalue):
    return repeat_adjoint(dvalue, a, repeats, axis)


@vjp(np.tile)
def tile(g, ans, A, reps):
    return tile_adjoint(g, A, reps), None


@jvp(np.tile)
def tile_jvp(ans, A, reps, *, dA):
    return np.tile(dA, reps)


@vjp(tile_adjoint)
def tile_adjoint_rule(g, ans, value, a, reps):
    return np.tile(g, reps), None, None


@jvp(tile_adjoint)
def tile_adjoint_jvp(ans, value, a, reps, *, dvalue):
    return tile_adjoint(dvalue, a, reps)


@vjp(np.roll)
def roll(g, ans, a, shift, axis=None):
    return np.roll(g, negated(shift), axis), None


@jvp(np.roll)
def roll_jvp(ans, a, shift, axis=None, *, da):
    return np.roll(da, shift, axis)


@vjp(np.rollaxis)
def rollaxis(g, ans, a, axis, start=0):
    return np.transpose(g, inverse_permutation(rollaxis_order(ndim_of(a), axis, start))), None


@jvp(np.rollaxis)
def rollaxis_jvp(ans, a, axis, start=0, *, da):
    return np.rollaxis(da, axis, start)


@vjp(np.flipud)
def flipud(g, ans, m):
    return np.flipud(g)


@jvp(np.flipud)
def flipud_jvp(ans, m, *, dm):
    return np.flipud(dm)


@vjp(np.fliplr)
def fliplr(g, ans, m):
    return np.fliplr(g)


@jvp(np.fliplr)
def fliplr_jvp(ans, m, *, dm):
    return np.fliplr(dm)


@vjp(np.rot90)
def rot90(g, ans, m, k=1, axes=(0, 1)):
    return np.rot90(g, -k, axes)


@jvp(np.rot90)
def rot90_jvp(ans, m, k=1, axes=(0, 1), *, dm):
    return np.rot90(dm, k, axes)


# --- triangles and diagonals --------------------------------------------------------------------
@vjp(np.tril)
def tril(g, ans, m, k=0):
    return np.tril(g, k)


@jvp(np.tril)
def tril_jvp(ans, m, k=0, *, dm):
    return np.tril(dm, k)


@vjp(np.triu)
def triu(g, ans, m, k=0):
    return np.triu(g, k)


@jvp(np.triu)
def triu_jvp(ans, m, k=0, *, dm):
    return np.triu(dm, k)


@vjp(np.diagonal)
def diagonal(g, ans, a, offset=0, axis1=0, axis2=1):
    return diagonal_adjoint(g, a, offset, axis1, axis2)


@jvp(np.diagonal)
def diagonal_jvp(ans, a, offset=0, axis1=0, axis2=1, *, da):
    return np.diagonal(da, offset, axis1, axis2)


# The array API's forms (NumPy 2.0): the last two axes, offset as a keyword.
@vjp(*present(np.linalg, "diagonal"))
def linalg_diagonal(g, ans, x, offset=0):
    return diagonal_adjoint(g, x, offset, -2, -1)


@jvp(*present(np.linalg, "diagonal"))
def linalg_diagonal_jvp(ans, x, offset=0, *, dx):
    return np.diagonal(dx, offset, -2, -1)


@vjp(*present(np.linalg, "trace"))
def linalg_trace(g, ans, x, offset=0, dtype=None):
    return trace_adjoint(g, x, offset, -2, -1)


@jvp(*present(np.linalg, "trace"))
def linalg_trace_jvp(ans, x, offset=0, dtype=None, *, dx):
    return np.trace(dx, offset, -2, -1)


@vjp(*present(np, "matrix_transpose") + present(np.linalg, "matrix_transpose"))
def matrix_transpose(g, ans, x):
    return np.swapaxes(g, -1, -2)


@jvp(*present(np, "matrix_transpose") + present(np.linalg, "matrix_transpose"))
def matrix_transpose_jvp(ans, x, *, dx):
    return np.swapaxes(dx, -1, -2)


@vjp(diagonal_adjoint)
def diagonal_adjoint_rule(g, ans, value, a, offset, axis1, axis2):
    return np.diagonal(g, offset, axis1, axis2), None, None, None, None


@jvp(diagonal_adjoint)
def diagonal_adjoint_jvp(ans, value, a, offset, axis1, axis2, *, dvalue):
    return diagonal_adjoint(dvalue, a, offset, axis1, axis2)


@vjp(np.diag)
def diag(g, ans, v, k=0):
    return diag_adjoint(g, v, k)


@jvp(np.diag)
def diag_jvp(ans, v, k=0, *, dv):
    return np.diag(dv, k)


@vjp(np.trace)
def trace(g, ans, a, offset=0, axis1=0, axis2=1):
    return trace_adjoint(g, a, offset, axis1, axis2)


@jvp(np.trace)
def trace_jvp(ans, a, offset=0, axis1=0, axis2=1, *, da):
    return np.trace(da, offset, axis1, axis2)


@vjp(trace_adjoint)
def trace_adjoint_rule(g, ans, value, a, offset, axis1, axis2):
    return np.trace(g, offset, axis1, axis2), None, None, None, None


@jvp(trace_adjoint)
def trace_adjoint_jvp(ans, value, a, offset, axis1, axis2, *, dvalue):
    return trace_adjoint(dvalue, a, offset, axis1, axis2)


# --- sorting and picking ------------------------------------------------------------------------
@vjp(np.sort)
def sort(g, ans, a, axis=-1, kind=None, order=None):
    # Each element's adjoint comes from the place the sort moved it to; ties keep their order
    # (a stable sort), so the forward rule picks the same permutation.
    inverse = np.argsort(np.argsort(a, axis=axis, kind="stable"), axis=axis)
    return np.reshape(np.take_along_axis(g, inverse, axis=axis), shape_of(a))


@jvp(np.sort)
def sort_jvp(ans, a, axis=-1, kind=None, order=None, *, da):
    return np.take_along_axis(da, np.argsort(a, axis=axis, kind="stable"), axis=axis)


@vjp(np.partition)
def partition(g, ans, a, kth, axis=-1):
    inverse = np.argsort(np.argpartition(a, kth, axis=axis), axis=axis)
    return np.reshape(np.take_along_axis(g, inverse, axis=axis), shape_of(a)), None


@jvp(np.partition)
def partition_jvp(ans, a, kth, axis=-1, *, da):
    return np.take_along_axis(da, np.argpartition(a, kth, axis=axis), axis=axis)


@vjp(np.take)
def take(g, ans, a, indices, axis=None):
    return take_adjoint(g, a, indices, axis), None


@jvp(np.take)
def take_jvp(ans, a, indices, axis=None, *, da):
    return np.take(da, indices, axis)


@vjp(take_adjoint)
def take_adjoint_rule(g, ans, value, a, indices, axis):
    return np.take(g, indices, axis), None, None, None


@jvp(take_adjoint)
def take_adjoint_jvp(ans, value, a, indices, axis, *, dvalue):
    return take_adjoint(dvalue, a, indices, axis)


@vjp(np.take_along_axis)
def take_along_axis(g, ans, arr, indices, axis=-1):
    return take_along_axis_adjoint(g, arr, indices, axis), None


@jvp(np.take_along_axis)
def take_along_axis_jvp(ans, arr, indices, axis=-1, *, darr):
    return np.take_along_axis(darr, indices, axis)


@vjp(take_along_axis_adjoint)
def take_along_axis_adjoint_rule(g, ans, value, arr, indices, axis):
    return np.take_along_axis(g, indices, axis), None, None, None


@jvp(take_along_axis_adjoint)
def take_along_axis_adjoint_jvp(ans, value, arr, indices, axis, *, dvalue):
    return take_along_axis_adjoint(dvalue, arr, indices, axis)


@vjp(np.select)
def select(g, ans, condlist, choicelist, default=differentiable(0)):
    # the default is taken where no condition holds
    return (None, select_adjoint(g, condlist, choicelist),
            unbroadcast(select_default_adjoint(g, condlist), default))


@jvp(np.select)
def select_jvp(ans, condlist, choicelist, default=differentiable(0), *, dchoicelist, ddefault):
    return (broadcast_like(np.select(condlist, dchoicelist, 0.0), ans),
            broadcast_like(select_default_adjoint(ddefault, condlist), ans))


@vjp(select_default_adjoint)
def select_default_adjoint_rule(g, ans, value, condlist):
    return select_default_adjoint(g, condlist), None


@jvp(select_default_adjoint)
def select_default_adjoint_jvp(ans, value, condlist, *, dvalue):
    return select_default_adjoint(dvalue, condlist)


@vjp(select_adjoint)
def select_adjoint_rule(g, ans, value, condlist, choicelist):
    return np.select(condlist, g, 0.0), None, None


@jvp(select_adjoint)
def select_adjoint_jvp(ans, value, condlist, choicelist, *, dvalue):
    return select_adjoint(dvalue, condlist, choicelist)


# --- constructors whose values are their arguments ----------------------------------------------
@vjp(np.full)
def full(g, ans, shape, fill_value, dtype=None):
    return None, unbroadcast(g, fill_value)


@jvp(np.full)
def full_jvp(ans, shape, fill_value, dtype=None, *, dfill_value):
    return broadcast_like(dfill_value, ans)


@vjp(np.full_like)
def full_like(g, ans, a, fill_value, dtype=None):
    return None, unbroadcast(g, fill_value)


@jvp(np.full_like)
def full_like_jvp(ans, a, fill_value, dtype=None, *, dfill_value):
    return broadcast_like(dfill_value, ans)


@vjp(np.linspace)
def linspace(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    # ans = start + (stop - start) * t with t running from 0 to 1 along axis.
    t = linspace_fractions(ans, num, endpoint, axis, retstep)
    return (unbroadcast(np.sum(g * (1.0 - t), axis=axis), start),
            unbroadcast(np.sum(g * t, axis=axis), stop))


@jvp(np.linspace)
def linspace_jvp(ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
                 dstart, dstop):
    t = linspace_fractions(ans, num, endpoint, axis, retstep)
    return (broadcast_like(np.expand_dims(as_array_like(dstart, ans), axis) * (1.0 - t), ans),
            broadcast_like(np.expand_dims(as_array_like(dstop, ans), axis) * t, ans))


@vjp(np.asarray, np.asanyarray)
def asarray(g, ans, a, dtype=None):
    return cast_like(g, a)


@jvp(np.asarray, np.asanyarray)
def asarray_jvp(ans, a, dtype=None, *, da):
    return cast_like(da, ans)


@vjp(np.ascontiguousarray)
def ascontiguousarray(g, ans, a, dtype=None):
    # A number comes back as an array of one element.
    return np.reshape(cast_like(g, a), shape_of(a))


@jvp(np.ascontiguousarray)
def ascontiguousarray_jvp(ans, a, dtype=None, *, da):
    return np.reshape(cast_like(da, ans), shape_of(ans))


sequence_result(unjoin, select_adjoint)
non_differentiable(negated, rollaxis_order, linspace_fractions, pad_mode)


# --- np.r_[...] and np.c_[...] (the transformer turns the subscript into these calls) ------------
@vjp(r_join)
def r_join_rule(g, ans, arrays):
    return index_trick_pieces(g, arrays, r_join)


@jvp(r_join)
def r_join_jvp(ans, arrays, *, darrays):
    return r_join(darrays)


@vjp(c_join)
def c_join_rule(g, ans, arrays):
    return index_trick_pieces(g, arrays, c_join)


@jvp(c_join)
def c_join_jvp(ans, arrays, *, darrays):
    return c_join(darrays)


@vjp(index_trick_pieces)
def index_trick_pieces_rule(g, ans, value, arrays, joiner):
    return joiner(g), None, None


@jvp(index_trick_pieces)
def index_trick_pieces_jvp(ans, value, arrays, joiner, *, dvalue):
    return index_trick_pieces(dvalue, arrays, joiner)


sequence_result(index_trick_pieces)
INDEX_TRICKS = {id(np.r_): r_join, id(np.c_): c_join}  # np.r_[...] -> r_join([...])


# --- splitting (results: lists of arrays) -------------------------------------------------------
@vjp(np.split, np.array_split)
def split(g, ans, ary, indices_or_sections, axis=0):
    return np.concatenate(g, axis), None


@jvp(np.split, np.array_split)
def split_jvp(ans, ary, indices_or_sections, axis=0, *, dary):
    return np.array_split(dary, indices_or_sections, axis)


@vjp(np.vsplit)
def vsplit(g, ans, ary, indices_or_sections):
    return np.concatenate(g, 0), None


@jvp(np.vsplit)
def vsplit_jvp(ans, ary, indices_or_sections, *, dary):
    return np.vsplit(dary, indices_or_sections)


@vjp(np.hsplit)
def hsplit(g, ans, ary, indices_or_sections):
    return np.concatenate(g, hsplit_axis(ary)), None


@jvp(np.hsplit)
def hsplit_jvp(ans, ary, indices_or_sections, *, dary):
    return np.hsplit(dary, indices_or_sections)


@vjp(np.dsplit)
def dsplit(g, ans, ary, indices_or_sections):
    return np.concatenate(g, 2), None


@jvp(np.dsplit)
def dsplit_jvp(ans, ary, indices_or_sections, *, dary):
    return np.dsplit(dary, indices_or_sections)


sequence_result(np.split, np.array_split, np.vsplit, np.hsplit, np.dsplit)
non_differentiable(hsplit_axis)


# --- several arrays in, several out: np.broadcast_arrays and np.meshgrid --------------------------
@vjp(broadcast_arrays_of)
def broadcast_arrays(g, ans, arrays):
    return unbroadcast_each(g, arrays)


@jvp(broadcast_arrays_of)
def broadcast_arrays_jvp(ans, arrays, *, darrays):
    return broadcast_each(darrays, ans)


@vjp(unbroadcast_each)
def unbroadcast_each_rule(g, ans, value, arrays):
    return broadcast_each(g, value), None


@jvp(unbroadcast_each)
def unbroadcast_each_jvp(ans, value, arrays, *, dvalue):
    return unbroadcast_each(dvalue, arrays)


@vjp(broadcast_each)
def broadcast_each_rule(g, ans, values, likes):
    return unbroadcast_each(g, values), None


@jvp(broadcast_each)
def broadcast_each_jvp(ans, values, likes, *, dvalues):
    return broadcast_each(dvalues, likes)


@vjp(meshgrid_of)
def meshgrid(g, ans, arrays, indexing="xy", sparse=False, copy=True):
    return meshgrid_adjoints(g, arrays, indexing)


@jvp(meshgrid_of)
def meshgrid_jvp(ans, arrays, indexing="xy", sparse=False, copy=True, *, darrays):
    return meshgrid_of(darrays, indexing, sparse, copy)


@vjp(meshgrid_adjoints)
def meshgrid_adjoints_rule(g, ans, value, arrays, indexing):
    return broadcast_each(meshgrid_of(g, indexing, True), value), None, None


@jvp(meshgrid_adjoints)
def meshgrid_adjoints_jvp(ans, value, arrays, indexing, *, dvalue):
    return meshgrid_adjoints(dvalue, arrays, indexing)


sequence_result(broadcast_arrays_of, meshgrid_of, unbroadcast_each, broadcast_each,
                meshgrid_adjoints)
PACKED_ARGUMENTS[np.broadcast_arrays] = (broadcast_arrays_of, 0)
PACKED_ARGUMENTS[np.meshgrid] = (meshgrid_of, 0)
