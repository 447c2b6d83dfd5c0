"""Rules of NumPy's elementwise functions of one or two arrays."""
import numpy as np

from ..runtime import bound_or, broadcast_like, unbroadcast
from .registry import jvp, non_differentiable, vjp


@vjp(np.exp)
def exp(g, ans, x):
    return g * ans


@jvp(np.exp)
def exp_jvp(ans, x, *, dx):
    return dx * ans


@vjp(np.expm1)
def expm1(g, ans, x):
    return g * (ans + 1.0)


@jvp(np.expm1)
def expm1_jvp(ans, x, *, dx):
    return dx * (ans + 1.0)


@vjp(np.log)
def log(g, ans, x):
    return g / x


@jvp(np.log)
def log_jvp(ans, x, *, dx):
    return dx / x


@vjp(np.log1p)
def log1p(g, ans, x):
    return g / (1.0 + x)


@jvp(np.log1p)
def log1p_jvp(ans, x, *, dx):
    return dx / (1.0 + x)


@vjp(np.sqrt)
def sqrt(g, ans, x):
    return g * 0.5 / ans


@jvp(np.sqrt)
def sqrt_jvp(ans, x, *, dx):
    return dx * 0.5 / ans


@vjp(np.square)
def square(g, ans, x):
    # Also the rule of ``x * x``: one product for the adjoint instead of two added together.
    return 2.0 * g * x


@jvp(np.square)
def square_jvp(ans, x, *, dx):
    return 2.0 * x * dx


@vjp(np.sin)
def sin(g, ans, x):
    return g * np.cos(x)


@jvp(np.sin)
def sin_jvp(ans, x, *, dx):
    return dx * np.cos(x)


@vjp(np.cos)
def cos(g, ans, x):
    return -g * np.sin(x)


@jvp(np.cos)
def cos_jvp(ans, x, *, dx):
    return -dx * np.sin(x)


@vjp(np.tan)
def tan(g, ans, x):
    return g * (1.0 + ans * ans)


@jvp(np.tan)
def tan_jvp(ans, x, *, dx):
    return dx * (1.0 + ans * ans)


@vjp(np.tanh)
def tanh(g, ans, x):
    return g * (1.0 - ans * ans)


@jvp(np.tanh)
def tanh_jvp(ans, x, *, dx):
    return dx * (1.0 - ans * ans)


@vjp(np.arctan)
def arctan(g, ans, x):
    return g / (1.0 + x * x)


@jvp(np.arctan)
def arctan_jvp(ans, x, *, dx):
    return dx / (1.0 + x * x)


@vjp(np.sinh)
def sinh(g, ans, x):
    return g * np.cosh(x)


@jvp(np.sinh)
def sinh_jvp(ans, x, *, dx):
    return dx * np.cosh(x)


@vjp(np.cosh)
def cosh(g, ans, x):
    return g * np.sinh(x)


@jvp(np.cosh)
def cosh_jvp(ans, x, *, dx):
    return dx * np.sinh(x)


@vjp(np.abs, np.absolute, abs)
def absolute(g, ans, x):
    return g * np.sign(x)


@jvp(np.abs, np.absolute, abs)
def absolute_jvp(ans, x, *, dx):
    return dx * np.sign(x)


@vjp(np.maximum)
def maximum(g, ans, x, y):
    # Ties split the adjoint evenly, so the rule is symmetric in its arguments. np.where with
    # g in both branches keeps g's dtype (a float32 adjoint stays float32).
    x_share = np.where(x > y, g, np.where(x == y, 0.5 * g, 0.0))
    return unbroadcast(x_share, x), unbroadcast(g - x_share, y)


@jvp(np.maximum)
def maximum_jvp(ans, x, y, *, dx, dy):
    # At ties the result moves with the mean of the two tangents, as the reverse rule splits.
    return (broadcast_like(np.where(x > y, dx, np.where(x == y, 0.5 * dx, 0.0)), ans),
            broadcast_like(np.where(x < y, dy, np.where(x == y, 0.5 * dy, 0.0)), ans))


@vjp(np.minimum)
def minimum(g, ans, x, y):
    x_share = np.where(x < y, g, np.where(x == y, 0.5 * g, 0.0))
    return unbroadcast(x_share, x), unbroadcast(g - x_share, y)


@jvp(np.minimum)
def minimum_jvp(ans, x, y, *, dx, dy):
    return (broadcast_like(np.where(x < y, dx, np.where(x == y, 0.5 * dx, 0.0)), ans),
            broadcast_like(np.where(x > y, dy, np.where(x == y, 0.5 * dy, 0.0)), ans))


@vjp(np.logaddexp)
def logaddexp(g, ans, x, y):
    return unbroadcast(g * np.exp(x - ans), x), unbroadcast(g * np.exp(y - ans), y)


@jvp(np.logaddexp)
def logaddexp_jvp(ans, x, y, *, dx, dy):
    return dx * np.exp(x - ans), dy * np.exp(y - ans)


@vjp(np.where)
def where(g, ans, condition, x, y):
    return None, unbroadcast(np.where(condition, g, 0.0), x), unbroadcast(np.where(condition, 0.0, g), y)


@jvp(np.where)
def where_jvp(ans, condition, x, y, *, dx, dy):
    return (broadcast_like(np.where(condition, dx, 0.0), ans),
            broadcast_like(np.where(condition, 0.0, dy), ans))


@vjp(np.clip)
def clip(g, ans, x, a_min, a_max):
    # A bound of None is no bound. At a bound x itself carries the derivative.
    low = bound_or(a_min, -np.inf)
    high = bound_or(a_max, np.inf)
    inside = (x >= low) & (x <= high)
    return (unbroadcast(np.where(inside, g, 0.0), x),
            unbroadcast(np.where(x < low, g, 0.0), a_min),
            unbroadcast(np.where(x > high, g, 0.0), a_max))


@jvp(np.clip)
def clip_jvp(ans, x, a_min, a_max, *, dx, da_min, da_max):
    # At a bound x itself carries the derivative, as in the reverse rule.
    low = bound_or(a_min, -np.inf)
    high = bound_or(a_max, np.inf)
    inside = (x >= low) & (x <= high)
    return (broadcast_like(np.where(inside, dx, 0.0), ans),
            broadcast_like(np.where(x < low, da_min, 0.0), ans),
            broadcast_like(np.where(x > high, da_max, 0.0), ans))


non_differentiable(bound_or)  # the bound only decides where: comparisons, no derivative


# Piecewise-constant functions: their derivative is zero wherever it exists.
non_differentiable(np.sign, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix,
                   np.isnan, np.isinf, np.isfinite, np.greater, np.less, np.equal, np.not_equal,
                   np.greater_equal, np.less_equal, np.logical_and, np.logical_or, np.logical_not)
