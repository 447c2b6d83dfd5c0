"""Rules of NumPy's other elementwise functions: inverse trigonometric and hyperbolic functions,
logarithms and exponentials in other bases, remainders, fmax/fmin, angle conversions.

Constants are Python floats, so that a float32 adjoint stays float32 (a NumPy float64 scalar
would promote it).
"""
import math
import operator

import numpy as np

from ..runtime import broadcast_like, unbroadcast
from .registry import jvp, non_differentiable, vjp

LN2 = math.log(2.0)
LN10 = math.log(10.0)
DEGREE = math.pi / 180.0  # one degree in radians


@vjp(np.arcsin)
def arcsin(g, ans, x):
    return g / np.sqrt(1.0 - x * x)


@jvp(np.arcsin)
def arcsin_jvp(ans, x, *, dx):
    return dx / np.sqrt(1.0 - x * x)


@vjp(np.arccos)
def arccos(g, ans, x):
    return -g / np.sqrt(1.0 - x * x)


@jvp(np.arccos)
def arccos_jvp(ans, x, *, dx):
    return -dx / np.sqrt(1.0 - x * x)


@vjp(np.arcsinh)
def arcsinh(g, ans, x):
    return g / np.sqrt(x * x + 1.0)


@jvp(np.arcsinh)
def arcsinh_jvp(ans, x, *, dx):
    return dx / np.sqrt(x * x + 1.0)


@vjp(np.arccosh)
def arccosh(g, ans, x):
    return g / np.sqrt(x * x - 1.0)


@jvp(np.arccosh)
def arccosh_jvp(ans, x, *, dx):
    return dx / np.sqrt(x * x - 1.0)


@vjp(np.arctanh)
def arctanh(g, ans, x):
    return g / (1.0 - x * x)


@jvp(np.arctanh)
def arctanh_jvp(ans, x, *, dx):
    return dx / (1.0 - x * x)


@vjp(np.arctan2)
def arctan2(g, ans, x, y):
    # ans = angle of the point (y, x): d/dx = y / r^2, d/dy = -x / r^2.
    g_over_r2 = g / (x * x + y * y)
    return unbroadcast(g_over_r2 * y, x), unbroadcast(-g_over_r2 * x, y)


@jvp(np.arctan2)
def arctan2_jvp(ans, x, y, *, dx, dy):
    r2 = x * x + y * y
    return broadcast_like(dx * y / r2, ans), broadcast_like(-dy * x / r2, ans)


@vjp(np.hypot)
def hypot(g, ans, x, y):
    g_over_ans = g / ans
    return unbroadcast(g_over_ans * x, x), unbroadcast(g_over_ans * y, y)


@jvp(np.hypot)
def hypot_jvp(ans, x, y, *, dx, dy):
    return broadcast_like(dx * x / ans, ans), broadcast_like(dy * y / ans, ans)


@vjp(np.reciprocal)
def reciprocal(g, ans, x):
    return -g * ans * ans


@jvp(np.reciprocal)
def reciprocal_jvp(ans, x, *, dx):
    return -dx * ans * ans


@vjp(np.cbrt)
def cbrt(g, ans, x):
    return g / (3.0 * ans * ans)


@jvp(np.cbrt)
def cbrt_jvp(ans, x, *, dx):
    return dx / (3.0 * ans * ans)


@vjp(np.exp2)
def exp2(g, ans, x):
    return g * ans * LN2


@jvp(np.exp2)
def exp2_jvp(ans, x, *, dx):
    return dx * ans * LN2


@vjp(np.log2)
def log2(g, ans, x):
    return g / (x * LN2)


@jvp(np.log2)
def log2_jvp(ans, x, *, dx):
    return dx / (x * LN2)


@vjp(np.log10)
def log10(g, ans, x):
    return g / (x * LN10)


@jvp(np.log10)
def log10_jvp(ans, x, *, dx):
    return dx / (x * LN10)


@vjp(np.logaddexp2)
def logaddexp2(g, ans, x, y):
    return unbroadcast(g * np.exp2(x - ans), x), unbroadcast(g * np.exp2(y - ans), y)


@jvp(np.logaddexp2)
def logaddexp2_jvp(ans, x, y, *, dx, dy):
    return dx * np.exp2(x - ans), dy * np.exp2(y - ans)


@vjp(np.fabs)
def fabs(g, ans, x):
    return g * np.sign(x)


@jvp(np.fabs)
def fabs_jvp(ans, x, *, dx):
    return dx * np.sign(x)


@vjp(np.fmax)
def fmax(g, ans, x, y):
    # As np.maximum (ties split evenly), except that a NaN loses to a number.
    x_share = np.where((x > y) | np.isnan(y), g, np.where(x == y, 0.5 * g, 0.0))
    return unbroadcast(x_share, x), unbroadcast(g - x_share, y)


@jvp(np.fmax)
def fmax_jvp(ans, x, y, *, dx, dy):
    return (broadcast_like(np.where((x > y) | np.isnan(y), dx, np.where(x == y, 0.5 * dx, 0.0)),
                           ans),
            broadcast_like(np.where((x < y) | np.isnan(x), dy, np.where(x == y, 0.5 * dy, 0.0)),
                           ans))


@vjp(np.fmin)
def fmin(g, ans, x, y):
    x_share = np.where((x < y) | np.isnan(y), g, np.where(x == y, 0.5 * g, 0.0))
    return unbroadcast(x_share, x), unbroadcast(g - x_share, y)


@jvp(np.fmin)
def fmin_jvp(ans, x, y, *, dx, dy):
    return (broadcast_like(np.where((x < y) | np.isnan(y), dx, np.where(x == y, 0.5 * dx, 0.0)),
                           ans),
            broadcast_like(np.where((x > y) | np.isnan(x), dy, np.where(x == y, 0.5 * dy, 0.0)),
                           ans))


@vjp(np.mod, np.remainder, operator.mod)
def remainder(g, ans, x, y):
    # x mod y = x - floor(x / y) * y, away from the jumps where x / y is an integer.
    return unbroadcast(g, x), unbroadcast(-g * np.floor_divide(x, y), y)


@jvp(np.mod, np.remainder, operator.mod)
def remainder_jvp(ans, x, y, *, dx, dy):
    return broadcast_like(dx, ans), broadcast_like(-dy * np.floor_divide(x, y), ans)


@vjp(np.fmod)
def fmod(g, ans, x, y):
    # fmod rounds the quotient toward zero: fmod(x, y) = x - trunc(x / y) * y.
    return unbroadcast(g, x), unbroadcast(-g * np.trunc(x / y), y)


@jvp(np.fmod)
def fmod_jvp(ans, x, y, *, dx, dy):
    return broadcast_like(dx, ans), broadcast_like(-dy * np.trunc(x / y), ans)


@vjp(np.sinc)
def sinc(g, ans, x):
    # d/dx sin(pi x) / (pi x) = (cos(pi x) - sinc(x)) / x, which tends to 0 at x = 0.
    nonzero_x = np.where(x == 0, 1.0, x)
    return g * np.where(x == 0, 0.0, (np.cos(np.pi * x) - ans) / nonzero_x)


@jvp(np.sinc)
def sinc_jvp(ans, x, *, dx):
    nonzero_x = np.where(x == 0, 1.0, x)
    return dx * np.where(x == 0, 0.0, (np.cos(np.pi * x) - ans) / nonzero_x)


@vjp(np.deg2rad, np.radians)
def deg2rad(g, ans, x):
    return g * DEGREE


@jvp(np.deg2rad, np.radians)
def deg2rad_jvp(ans, x, *, dx):
    return dx * DEGREE


@vjp(np.rad2deg, np.degrees)
def rad2deg(g, ans, x):
    return g / DEGREE


@jvp(np.rad2deg, np.degrees)
def rad2deg_jvp(ans, x, *, dx):
    return dx / DEGREE


@vjp(np.nan_to_num)
def nan_to_num(g, ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    # Replaced entries are constants; finite ones pass through.
    return np.where(np.isfinite(x), g, 0.0)


@jvp(np.nan_to_num)
def nan_to_num_jvp(ans, x, copy=True, nan=0.0, posinf=None, neginf=None, *, dx):
    return broadcast_like(np.where(np.isfinite(x), dx, 0.0), ans)


@vjp(np.real, np.conj, np.conjugate, np.real_if_close)
def real(g, ans, val):
    # Real inputs only: these are the identity.
    return g


@jvp(np.real, np.conj, np.conjugate, np.real_if_close)
def real_jvp(ans, val, *, dval):
    return dval


@vjp(np.float_power)
def float_power(g, ans, x, y):
    return (unbroadcast(g * y * np.float_power(x, y - 1), x),
            unbroadcast(g * ans * np.log(np.where(x > 0, x, 1)), y))


@jvp(np.float_power)
def float_power_jvp(ans, x, y, *, dx, dy):
    return dx * y * np.float_power(x, y - 1), dy * ans * np.log(np.where(x > 0, x, 1))


@vjp(np.copysign)
def copysign(g, ans, x, y):
    # |x| with the sign of y: y only chooses a sign (piecewise constant in y).
    return unbroadcast(g * np.sign(x) * np.sign(ans), x), None


@jvp(np.copysign)
def copysign_jvp(ans, x, y, *, dx):
    return broadcast_like(dx * np.sign(x) * np.sign(ans), ans)


# Piecewise-constant in every argument: the derivative is zero wherever it exists.
non_differentiable(np.floor_divide, operator.floordiv, np.heaviside, np.signbit, np.logical_xor,
                   np.isreal, np.iscomplex, np.isposinf, np.isneginf, np.isnat, np.argwhere,
                   np.flatnonzero, np.count_nonzero, np.searchsorted, np.digitize, np.any, np.all,
                   np.tri, np.tril_indices, np.triu_indices, np.diag_indices, np.indices,
                   np.argpartition, np.lexsort, np.result_type, np.iscomplexobj, np.isrealobj,
                   np.isscalar, np.sign,
                   np.imag, np.angle)  # of a real array: zero, and 0 or pi
