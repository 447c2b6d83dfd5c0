"""Rules of cumulative sums and products and of differences (np.cumsum, np.cumprod, np.diff,
np.gradient).

With ``axis=None`` these work on the flattened array: the adjoint then comes back flat and is
reshaped to the input (a no-op reshape when an axis is given).
"""
import numpy as np

from ..runtime import (diff_adjoint, gradient_adjoint, gradient_axis, gradient_band,
                       gradients_adjoint, gradients_along, shape_of, trapezoid_weights)
from .registry import jvp, keyword_variant, non_differentiable, sequence_result, vjp


@vjp(np.cumsum)
def cumsum(g, ans, a, axis=None):
    # Each element feeds every later partial sum: the adjoint is the reversed cumulative sum.
    return np.reshape(np.flip(np.cumsum(np.flip(g, axis), axis), axis), shape_of(a))


@jvp(np.cumsum)
def cumsum_jvp(ans, a, axis=None, *, da):
    return np.cumsum(da, axis)


@vjp(np.cumprod)
def cumprod(g, ans, a, axis=None):
    # d ans_j / d a_i = ans_j / a_i for j >= i (a has no zeros; a zero gives inf or nan).
    reversed_sums = np.flip(np.cumsum(np.flip(g * ans, axis), axis), axis)
    return np.reshape(reversed_sums, shape_of(a)) / a


@jvp(np.cumprod)
def cumprod_jvp(ans, a, axis=None, *, da):
    return ans * np.cumsum(da / a, axis)


@vjp(np.diff)
def diff(g, ans, a, n=1, axis=-1):
    return diff_adjoint(g, n, axis)


@jvp(np.diff)
def diff_jvp(ans, a, n=1, axis=-1, *, da):
    return np.diff(da, n, axis)


@vjp(diff_adjoint)
def diff_adjoint_rule(g, ans, value, n, axis):
    return np.diff(g, n, axis), None, None


@jvp(diff_adjoint)
def diff_adjoint_jvp(ans, value, n, axis, *, dvalue):
    return diff_adjoint(dvalue, n, axis)


@vjp(np.gradient)
def gradient(g, ans, f, spacing=1.0, axis=None, edge_order=1):
    # The spacing (a number, or the axis's coordinates) is an option: it is not differentiated.
    return gradient_adjoint(g, f, spacing, gradient_axis(f, spacing, axis, edge_order), edge_order)


@jvp(np.gradient)
def gradient_jvp(ans, f, spacing=1.0, axis=None, edge_order=1, *, df):
    return np.gradient(df, spacing, axis=gradient_axis(f, spacing, axis, edge_order),
                       edge_order=edge_order)


@vjp(gradient_adjoint)
def gradient_adjoint_rule(g, ans, value, f, spacing, axis, edge_order):
    return np.gradient(g, spacing, axis=axis, edge_order=edge_order), None, None, None, None


@jvp(gradient_adjoint)
def gradient_adjoint_jvp(ans, value, f, spacing, axis, edge_order, *, dvalue):
    return gradient_adjoint(dvalue, f, spacing, axis, edge_order)


# np.gradient(f, axis=(0, 1)) returns a list, one array per axis: differentiated as
# gradients_along (axis=None on an array of several axes stays refused: write the axes out).
keyword_variant(np.gradient, "axis",
                lambda axis: isinstance(axis, (tuple, list)) and len(axis) > 1)(gradients_along)
sequence_result(gradients_along)


@vjp(gradients_along)
def gradients_along_rule(g, ans, f, spacing=1.0, axis=None, edge_order=1):
    return gradients_adjoint(g, f, spacing, axis, edge_order)


@jvp(gradients_along)
def gradients_along_jvp(ans, f, spacing=1.0, axis=None, edge_order=1, *, df):
    return gradients_along(df, spacing, axis, edge_order)


@vjp(gradients_adjoint)
def gradients_adjoint_rule(g, ans, arrays, f, spacing, axis, edge_order):
    return gradients_along(g, spacing, axis, edge_order), None, None, None, None


@jvp(gradients_adjoint)
def gradients_adjoint_jvp(ans, arrays, f, spacing, axis, edge_order, *, darrays):
    return gradients_adjoint(darrays, f, spacing, axis, edge_order)


@vjp(np.nancumsum)
def nancumsum(g, ans, a, axis=None):
    adjoint = np.reshape(np.flip(np.cumsum(np.flip(g, axis), axis), axis), shape_of(a))
    return np.where(np.isnan(a), 0.0, adjoint)


@jvp(np.nancumsum)
def nancumsum_jvp(ans, a, axis=None, *, da):
    return np.cumsum(np.where(np.isnan(a), 0.0, da), axis)


# np.trapezoid (np.trapz before NumPy 2.0, gone from 2.4): a weighted sum along axis.
_TRAPEZOID = tuple(getattr(np, name) for name in ("trapezoid", "trapz") if hasattr(np, name))


@vjp(*_TRAPEZOID)
def trapezoid(g, ans, y, x=None, dx=1.0, axis=-1):
    return np.expand_dims(g, axis) * trapezoid_weights(y, x, dx, axis)


@jvp(*_TRAPEZOID)
def trapezoid_jvp(ans, y, x=None, dx=1.0, axis=-1, *, dy):
    return np.sum(dy * trapezoid_weights(y, x, dx, axis), axis=axis)


non_differentiable(gradient_axis, gradient_band, trapezoid_weights)
