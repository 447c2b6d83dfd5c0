"""Rules of Python's own functions of numbers: the math module, float(), abs(), max() and min()."""
import math

import numpy as np

from . import arithmetic, elementwise, ufuncs  # noqa: F401  (the NumPy twins' rules, first)
from .registry import JVP_RULES, VJP_RULES, jvp, non_differentiable, vjp


@vjp(float)
def to_float(g, ans, x):
    return g


@jvp(float)
def to_float_jvp(ans, x, *, dx):
    return float(dx)


# The math module's functions of numbers have the derivatives of their NumPy twins, whose rules
# (written with NumPy calls, which take numbers too) serve them: one rule each, not two.
_NUMPY_TWINS = {
    math.sin: np.sin, math.cos: np.cos, math.tan: np.tan, math.exp: np.exp,
    math.expm1: np.expm1, math.log: np.log, math.log1p: np.log1p, math.log10: np.log10,
    math.log2: np.log2, math.sqrt: np.sqrt, math.tanh: np.tanh, math.sinh: np.sinh,
    math.cosh: np.cosh, math.atan: np.arctan, math.asin: np.arcsin, math.acos: np.arccos,
    math.atan2: np.arctan2, math.hypot: np.hypot, math.fabs: np.fabs, math.pow: np.power,
    math.copysign: np.copysign,
}
for _function, _twin in _NUMPY_TWINS.items():
    VJP_RULES[_function], JVP_RULES[_function] = VJP_RULES[_twin], JVP_RULES[_twin]


@vjp(math.erf)
def math_erf(g, ans, x):
    return g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@jvp(math.erf)
def math_erf_jvp(ans, x, *, dx):
    return dx * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@vjp(max)
def builtin_max(g, ans, x, y):
    # max(a, b) of two numbers; a tie sends the whole adjoint to the first, as max returns it.
    return g * float(x >= y), g * float(x < y)


@jvp(max)
def builtin_max_jvp(ans, x, y, *, dx, dy):
    return dx * float(x >= y), dy * float(x < y)


@vjp(min)
def builtin_min(g, ans, x, y):
    return g * float(x <= y), g * float(x > y)


@jvp(min)
def builtin_min_jvp(ans, x, y, *, dx, dy):
    return dx * float(x <= y), dy * float(x > y)


# Piecewise constant: their derivative is zero wherever it exists.
non_differentiable(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
                   math.isclose, round)
