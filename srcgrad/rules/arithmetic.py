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
    return (unbroadcast(g * y * x ** (y - 1), x),
            unbroadcast(g * ans * np.log(np.where(x > 0, x, 1)), y))


@jvp(operator.pow, np.power)
def power_jvp(ans, x, y, *, dx, dy):
    # The exponent's term matters: d/dy 2**y = 2**y log 2 (see the reverse rule for x <= 0).
    return dx * y * x ** (y - 1), dy * ans * np.log(np.where(x > 0, x, 1))


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
