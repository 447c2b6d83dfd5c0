"""Rules of Python's own functions of numbers: the math module, float(), abs(), max() and min()."""
import math

from .registry import jvp, non_differentiable, vjp


@vjp(float)
def to_float(g, ans, x):
    return g


@jvp(float)
def to_float_jvp(ans, x, *, dx):
    return float(dx)


@vjp(math.sin)
def math_sin(g, ans, x):
    return g * math.cos(x)


@jvp(math.sin)
def math_sin_jvp(ans, x, *, dx):
    return dx * math.cos(x)


@vjp(math.cos)
def math_cos(g, ans, x):
    return -g * math.sin(x)


@jvp(math.cos)
def math_cos_jvp(ans, x, *, dx):
    return -dx * math.sin(x)


@vjp(math.tan)
def math_tan(g, ans, x):
    return g * (1.0 + ans * ans)


@jvp(math.tan)
def math_tan_jvp(ans, x, *, dx):
    return dx * (1.0 + ans * ans)


@vjp(math.exp)
def math_exp(g, ans, x):
    return g * ans


@jvp(math.exp)
def math_exp_jvp(ans, x, *, dx):
    return dx * ans


@vjp(math.expm1)
def math_expm1(g, ans, x):
    return g * (ans + 1.0)


@jvp(math.expm1)
def math_expm1_jvp(ans, x, *, dx):
    return dx * (ans + 1.0)


@vjp(math.log)
def math_log(g, ans, x):
    return g / x


@jvp(math.log)
def math_log_jvp(ans, x, *, dx):
    return dx / x


@vjp(math.log1p)
def math_log1p(g, ans, x):
    return g / (1.0 + x)


@jvp(math.log1p)
def math_log1p_jvp(ans, x, *, dx):
    return dx / (1.0 + x)


@vjp(math.log10)
def math_log10(g, ans, x):
    return g / (x * math.log(10.0))


@jvp(math.log10)
def math_log10_jvp(ans, x, *, dx):
    return dx / (x * math.log(10.0))


@vjp(math.log2)
def math_log2(g, ans, x):
    return g / (x * math.log(2.0))


@jvp(math.log2)
def math_log2_jvp(ans, x, *, dx):
    return dx / (x * math.log(2.0))


@vjp(math.sqrt)
def math_sqrt(g, ans, x):
    return g * 0.5 / ans


@jvp(math.sqrt)
def math_sqrt_jvp(ans, x, *, dx):
    return dx * 0.5 / ans


@vjp(math.tanh)
def math_tanh(g, ans, x):
    return g * (1.0 - ans * ans)


@jvp(math.tanh)
def math_tanh_jvp(ans, x, *, dx):
    return dx * (1.0 - ans * ans)


@vjp(math.sinh)
def math_sinh(g, ans, x):
    return g * math.cosh(x)


@jvp(math.sinh)
def math_sinh_jvp(ans, x, *, dx):
    return dx * math.cosh(x)


@vjp(math.cosh)
def math_cosh(g, ans, x):
    return g * math.sinh(x)


@jvp(math.cosh)
def math_cosh_jvp(ans, x, *, dx):
    return dx * math.sinh(x)


@vjp(math.atan)
def math_atan(g, ans, x):
    return g / (1.0 + x * x)


@jvp(math.atan)
def math_atan_jvp(ans, x, *, dx):
    return dx / (1.0 + x * x)


@vjp(math.asin)
def math_asin(g, ans, x):
    return g / math.sqrt(1.0 - x * x)


@jvp(math.asin)
def math_asin_jvp(ans, x, *, dx):
    return dx / math.sqrt(1.0 - x * x)


@vjp(math.acos)
def math_acos(g, ans, x):
    return -g / math.sqrt(1.0 - x * x)


@jvp(math.acos)
def math_acos_jvp(ans, x, *, dx):
    return -dx / math.sqrt(1.0 - x * x)


@vjp(math.atan2)
def math_atan2(g, ans, y, x):
    return g * x / (x * x + y * y), -g * y / (x * x + y * y)


@jvp(math.atan2)
def math_atan2_jvp(ans, y, x, *, dy, dx):
    return dy * x / (x * x + y * y), -dx * y / (x * x + y * y)


@vjp(math.hypot)
def math_hypot(g, ans, x, y):
    return g * x / ans, g * y / ans


@jvp(math.hypot)
def math_hypot_jvp(ans, x, y, *, dx, dy):
    return dx * x / ans, dy * y / ans


@vjp(math.pow)
def math_pow(g, ans, x, y):
    return g * y * math.pow(x, y - 1.0), g * ans * math.log(x)


@jvp(math.pow)
def math_pow_jvp(ans, x, y, *, dx, dy):
    return dx * y * math.pow(x, y - 1.0), dy * ans * math.log(x)


@vjp(math.fabs)
def math_fabs(g, ans, x):
    return g * math.copysign(1.0, x)


@jvp(math.fabs)
def math_fabs_jvp(ans, x, *, dx):
    return dx * math.copysign(1.0, x)


@vjp(math.erf)
def math_erf(g, ans, x):
    return g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@jvp(math.erf)
def math_erf_jvp(ans, x, *, dx):
    return dx * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@vjp(math.copysign)
def math_copysign(g, ans, x, y):
    # The sign taken from y changes only where y crosses zero: no derivative through y.
    return g * math.copysign(1.0, x) * math.copysign(1.0, y), None


@jvp(math.copysign)
def math_copysign_jvp(ans, x, y, *, dx):
    return dx * math.copysign(1.0, x) * math.copysign(1.0, y)


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
