"""Rules of indexing, reshaping, joining and transposing arrays.

Parameters carry the primitive's own names (``np.reshape(a, shape)``, ``np.broadcast_to(array,
shape)``) so that keyword calls bind. A parameter without a default that only describes a shape or
axes (``shape``, ``axis`` of expand_dims, ``axis1`` ...) gets the adjoint None and no tangent.

``np.concatenate`` and ``np.stack`` take one sequence of arrays: their reverse rule returns a list
with one adjoint per element of that sequence, in order, and their forward rule takes such a list
of tangents.
"""
import operator

import numpy as np

from ..runtime import (add_at, add_field, array_adjoint, cast_like, copy_of, field,
                       inverse_permutation, passes_derivative, ravel_in, reshape_to, shape_of,
                       split_like, unbroadcast, unstack)
from .registry import jvp, non_differentiable, vjp, vjp_into


def transpose_attribute(x):
    """The primitive behind ``x.T``, so that the attribute has a rule like any function."""
    return x.T


@vjp_into(field)
def field_rule(dx, g, ans, x, index):
    add_field(dx, x, index, g)


@jvp(field)
def field_jvp(ans, x, index, *, dx):
    return field(dx, index)


@vjp_into(operator.getitem)
def getitem(dx, g, ans, x, index):
    add_at(dx, index, g)


@jvp(operator.getitem)
def getitem_jvp(ans, x, index, *, dx):
    return dx[index]


@vjp(transpose_attribute)
def T(g, ans, x):
    return np.transpose(g)


@jvp(transpose_attribute)
def T_jvp(ans, x, *, dx):
    return np.transpose(dx)


@vjp(np.transpose)
def transpose(g, ans, a, axes=None):
    return np.transpose(g, inverse_permutation(axes))


@jvp(np.transpose)
def transpose_jvp(ans, a, axes=None, *, da):
    return np.transpose(da, axes)


@vjp(np.swapaxes)
def swapaxes(g, ans, a, axis1, axis2):
    return np.swapaxes(g, axis1, axis2), None, None


@jvp(np.swapaxes)
def swapaxes_jvp(ans, a, axis1, axis2, *, da):
    return np.swapaxes(da, axis1, axis2)


@vjp(np.moveaxis)
def moveaxis(g, ans, a, source, destination):
    return np.moveaxis(g, destination, source), None, None


@jvp(np.moveaxis)
def moveaxis_jvp(ans, a, source, destination, *, da):
    return np.moveaxis(da, source, destination)


@vjp(np.reshape)
def reshape(g, ans, a, shape, order="C"):
    return reshape_to(g, shape_of(a), order), None


@jvp(np.reshape)
def reshape_jvp(ans, a, shape, order="C", *, da):
    return reshape_to(da, shape, order)


@vjp(np.ravel)
def ravel(g, ans, a, order="C"):
    return reshape_to(g, shape_of(a), order)


@jvp(np.ravel)
def ravel_jvp(ans, a, order="C", *, da):
    return ravel_in(da, order)


@vjp(np.squeeze)
def squeeze(g, ans, a, axis=None):
    return np.reshape(g, shape_of(a))


@jvp(np.squeeze)
def squeeze_jvp(ans, a, axis=None, *, da):
    return np.squeeze(da, axis)


@vjp(np.expand_dims)
def expand_dims(g, ans, a, axis):
    return np.reshape(g, shape_of(a)), None


@jvp(np.expand_dims)
def expand_dims_jvp(ans, a, axis, *, da):
    return np.expand_dims(da, axis)


@vjp(np.broadcast_to)
def broadcast_to(g, ans, array, shape):
    return unbroadcast(g, array), None


@jvp(np.broadcast_to)
def broadcast_to_jvp(ans, array, shape, *, darray):
    return np.broadcast_to(darray, shape)


@vjp(np.flip)
def flip(g, ans, m, axis=None):
    return np.flip(g, axis)


@jvp(np.flip)
def flip_jvp(ans, m, axis=None, *, dm):
    return np.flip(dm, axis)


@vjp(np.concatenate)
def concatenate(g, ans, arrays, axis=0):
    return split_like(g, arrays, axis)


@jvp(np.concatenate)
def concatenate_jvp(ans, arrays, axis=0, *, darrays):
    return np.concatenate(darrays, axis)


@vjp(np.stack)
def stack(g, ans, arrays, axis=0):
    return unstack(g, axis)


@jvp(np.stack)
def stack_jvp(ans, arrays, axis=0, *, darrays):
    return np.stack(darrays, axis)


non_differentiable(passes_derivative, len, range, int, bool, np.shape, np.ndim, np.size, np.argmax,
                   np.argmin, np.argsort, np.nonzero, np.zeros_like, np.ones_like, np.empty_like,
                   np.zeros, np.ones, np.empty, np.eye, np.identity, np.isclose, np.allclose,
                   np.array_equal)


def astype(x, dtype):
    """The primitive behind ``x.astype(dtype)``."""
    return x.astype(dtype)


@vjp(astype)
def astype_rule(g, ans, x, dtype):
    # A cast to integers or booleans is piecewise constant: no derivative passes.
    return cast_like(g, x) * passes_derivative(dtype), None


@jvp(astype)
def astype_jvp(ans, x, dtype, *, dx):
    return cast_like(dx, x) * passes_derivative(dtype)


def item_of(x):
    """The primitive behind ``x.item()``: the one element of ``x`` as a Python number."""
    return x.item()


@vjp(item_of)
def item_of_rule(g, ans, x):
    # The number is x's one element: its adjoint, in x's shape, is the number's.
    return g if np.ndim(x) == 0 else np.full_like(x, g)


@jvp(item_of)
def item_of_jvp(ans, x, *, dx):
    return item_of(dx) if hasattr(dx, "item") else dx  # a zero tangent may be a float


@vjp(np.copy)
def copy(g, ans, a):
    return g


@jvp(np.copy)
def copy_jvp(ans, a, *, da):
    return copy_of(da)


@vjp(np.array)
def array(g, ans, object, dtype=None):
    return array_adjoint(g, object)


@jvp(np.array)
def array_jvp(ans, object, dtype=None, *, dobject):
    return np.array(dobject, dtype=dtype)

