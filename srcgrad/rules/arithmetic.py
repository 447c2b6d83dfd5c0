"""Rules of Python's arithmetic operators and their NumPy ufunc twins."""
import operator

import numpy as np

from ..runtime import unbroadcast
from .registry import vjp


@vjp(operator.add, np.add)
def add(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(g, y)


@vjp(operator.sub, np.subtract)
def subtract(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g, y)


@vjp(operator.mul, np.multiply)
def multiply(g, ans, x, y):
    return unbroadcast(g * y, x), unbroadcast(g * x, y)


@vjp(operator.truediv, np.divide, np.true_divide)
def divide(g, ans, x, y):
    return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)


@vjp(operator.pow, np.power)
def power(g, ans, x, y):
    # d/dy x**y = x**y log x is defined for x > 0; elsewhere NumPy's own result is nan or complex.
    return (unbroadcast(g * y * x ** (y - 1), x),
            unbroadcast(g * ans * np.log(np.where(x > 0, x, 1)), y))


@vjp(operator.neg, np.negative)
def negative(g, ans, x):
    return -g


@vjp(operator.pos, np.positive)
def positive(g, ans, x):
    return g
