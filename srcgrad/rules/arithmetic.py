"""Rules of Python's arithmetic operators and their NumPy ufunc twins."""
import operator

import numpy as np

from ..runtime import broadcast_like, unbroadcast
from .registry import jvp, vjp


@vjp(operator.add, np.add)
def add(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(g, y)


@jvp(operator.add, np.add)
def add_jvp(ans, x, y, *, dx, dy):
    return broadcast_like(dx, ans), broadcast_like(dy, ans)


@vjp(operator.sub, np.subtract)
def subtract(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g, y)


@jvp(operator.sub, np.subtract)
def subtract_jvp(ans, x, y, *, dx, dy):
    return broadcast_like(dx, ans), broadcast_like(-dy, ans)


@vjp(operator.mul, np.multiply)
def multiply(g, ans, x, y):
    return unbroadcast(g * y, x), unbroadcast(g * x, y)


@jvp(operator.mul, np.multiply)
def multiply_jvp(ans, x, y, *, dx, dy):
    return dx * y, x * dy


@vjp(operator.truediv, np.divide, np.true_divide)
def divide(g, ans, x, y):
    return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)


@jvp(operator.truediv, np.divide, np.true_divide)
def divide_jvp(ans, x, y, *, dx, dy):
    return dx / y, -dy * ans / y


@vjp(operator.pow, np.power)
def power(g, ans, x, y):
    # d/dy x**y = x**y log x is defined for x > 0; elsewhere NumPy's own result is nan or complex.
    # d/dx x**0 is 0 also at x = 0, where 0 * 0**-1 would be nan: where y is 0 the exponent is
    # 0, not -1, so the product is 0 * 1 (PyTorch's value). 0 ** (y * y) is 1 where y is 0, else
    # 0: written with arithmetic only, it stays in y's array library and folds away for a
    # constant y (x ** 2 still differentiates to 2 * x in generated code).
    return (unbroadcast(g * y * x ** (y - 1 + 0 ** (y * y)), x),
            unbroadcast(g * ans * np.log(np.where(x > 0, x, 1)), y))


@jvp(operator.pow, np.power)
def power_jvp(ans, x, y, *, dx, dy):
    # The exponent's term matters: d/dy 2**y = 2**y log 2 (see the reverse rule for x <= 0).
    return dx * y * x ** (y - 1 + 0 ** (y * y)), dy * ans * np.log(np.where(x > 0, x, 1))


@vjp(operator.neg, np.negative)
def negative(g, ans, x):
    return -g


@jvp(operator.neg, np.negative)
def negative_jvp(ans, x, *, dx):
    return -dx


@vjp(operator.pos, np.positive)
def positive(g, ans, x):
    return g


@jvp(operator.pos, np.positive)
def positive_jvp(ans, x, *, dx):
    return dx
