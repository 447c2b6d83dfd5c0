"""Rules of indexing, reshaping, joining and transposing arrays.

Parameters carry the primitive's own names (``np.reshape(a, shape)``, ``np.broadcast_to(array,
shape)``) so that keyword calls bind. A parameter without a default that only describes a shape or
axes (``shape``, ``axis`` of expand_dims, ``axis1`` ...) gets the adjoint None.

``np.concatenate`` and ``np.stack`` take one sequence of arrays: their rule returns a list with one
adjoint per element of that sequence, in order.
"""
import operator

import numpy as np

from ..runtime import (add_at, array_adjoint, cast_like, inverse_permutation, shape_of, split_like, unbroadcast,
                       unstack)
from .registry import non_differentiable, vjp, vjp_into


def transpose_attribute(x):
    """The primitive behind ``x.T``, so that the attribute has a rule like any function."""
    return x.T


@vjp_into(operator.getitem)
def getitem(dx, g, ans, x, index):
    add_at(dx, index, g)


@vjp(transpose_attribute)
def T(g, ans, x):
    return np.transpose(g)


@vjp(np.transpose)
def transpose(g, ans, a, axes=None):
    return np.transpose(g, inverse_permutation(axes))


@vjp(np.swapaxes)
def swapaxes(g, ans, a, axis1, axis2):
    return np.swapaxes(g, axis1, axis2), None, None


@vjp(np.moveaxis)
def moveaxis(g, ans, a, source, destination):
    return np.moveaxis(g, destination, source), None, None


@vjp(np.reshape)
def reshape(g, ans, a, shape, order="C"):
    return np.reshape(g, shape_of(a), order=order), None


@vjp(np.ravel)
def ravel(g, ans, a, order="C"):
    return np.reshape(g, shape_of(a), order=order)


@vjp(np.squeeze)
def squeeze(g, ans, a, axis=None):
    return np.reshape(g, shape_of(a))


@vjp(np.expand_dims)
def expand_dims(g, ans, a, axis):
    return np.reshape(g, shape_of(a)), None


@vjp(np.broadcast_to)
def broadcast_to(g, ans, array, shape):
    return unbroadcast(g, array), None


@vjp(np.flip)
def flip(g, ans, m, axis=None):
    return np.flip(g, axis)


@vjp(np.concatenate)
def concatenate(g, ans, arrays, axis=0):
    return split_like(g, arrays, axis)


@vjp(np.stack)
def stack(g, ans, arrays, axis=0):
    return unstack(g, axis)


non_differentiable(len, range, int, bool, np.shape, np.ndim, np.size, np.argmax, np.argmin,
                   np.argsort, np.nonzero, np.zeros_like, np.ones_like, np.empty_like,
                   np.zeros, np.ones, np.empty, np.full, np.eye, np.identity, np.arange,
                   np.linspace, np.isclose, np.allclose, np.array_equal)


def astype(x, dtype):
    """The primitive behind ``x.astype(dtype)``."""
    return x.astype(dtype)


@vjp(astype)
def astype_rule(g, ans, x, dtype):
    return cast_like(g, x), None


@vjp(np.copy)
def copy(g, ans, a):
    return g


@vjp(np.array)
def array(g, ans, object, dtype=None):
    return array_adjoint(g, object)
