"""Rules of NumPy's elementwise functions of one or two arrays."""
import numpy as np

from ..runtime import unbroadcast
from .registry import non_differentiable, vjp


@vjp(np.exp)
def exp(g, ans, x):
    return g * ans


@vjp(np.expm1)
def expm1(g, ans, x):
    return g * (ans + 1.0)


@vjp(np.log)
def log(g, ans, x):
    return g / x


@vjp(np.log1p)
def log1p(g, ans, x):
    return g / (1.0 + x)


@vjp(np.sqrt)
def sqrt(g, ans, x):
    return g * 0.5 / ans


@vjp(np.sin)
def sin(g, ans, x):
    return g * np.cos(x)


@vjp(np.cos)
def cos(g, ans, x):
    return -g * np.sin(x)


@vjp(np.tan)
def tan(g, ans, x):
    return g * (1.0 + ans * ans)


@vjp(np.tanh)
def tanh(g, ans, x):
    return g * (1.0 - ans * ans)


@vjp(np.arctan)
def arctan(g, ans, x):
    return g / (1.0 + x * x)


@vjp(np.sinh)
def sinh(g, ans, x):
    return g * np.cosh(x)


@vjp(np.cosh)
def cosh(g, ans, x):
    return g * np.sinh(x)


@vjp(np.abs, np.absolute, abs)
def absolute(g, ans, x):
    return g * np.sign(x)


@vjp(np.maximum)
def maximum(g, ans, x, y):
    # Ties split the adjoint evenly, so the rule is symmetric in its arguments.
    x_wins = (x > y) + 0.5 * (x == y)
    return unbroadcast(g * x_wins, x), unbroadcast(g * (1.0 - x_wins), y)


@vjp(np.minimum)
def minimum(g, ans, x, y):
    x_wins = (x < y) + 0.5 * (x == y)
    return unbroadcast(g * x_wins, x), unbroadcast(g * (1.0 - x_wins), y)


@vjp(np.logaddexp)
def logaddexp(g, ans, x, y):
    return unbroadcast(g * np.exp(x - ans), x), unbroadcast(g * np.exp(y - ans), y)


@vjp(np.where)
def where(g, ans, condition, x, y):
    return None, unbroadcast(np.where(condition, g, 0.0), x), unbroadcast(np.where(condition, 0.0, g), y)


@vjp(np.clip)
def clip(g, ans, x, a_min, a_max):
    inside = (x >= a_min) & (x <= a_max)
    return (unbroadcast(np.where(inside, g, 0.0), x),
            unbroadcast(np.where(x < a_min, g, 0.0), a_min),
            unbroadcast(np.where(x > a_max, g, 0.0), a_max))


# Piecewise-constant functions: their derivative is zero wherever it exists.
non_differentiable(np.sign, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix,
                   np.isnan, np.isinf, np.isfinite, np.greater, np.less, np.equal, np.not_equal,
                   np.greater_equal, np.less_equal, np.logical_and, np.logical_or, np.logical_not)
