"""Rules of reductions: sum, mean, prod, max, min (with axis and keepdims).

``axis`` may be None, an int (negative counts from the end) or a tuple of ints. Rule functions are
named so that none shadows a Python builtin (``sum_``, ``amax``, ``amin``).
"""
import builtins

import numpy as np

from ..runtime import expand_reduced, product_of_others, size_of, unbroadcast
from .registry import vjp


@vjp(np.sum)
def sum_(g, ans, a, axis=None, keepdims=False):
    return expand_reduced(g, a, axis, keepdims)


@vjp(np.mean)
def mean(g, ans, a, axis=None, keepdims=False):
    return expand_reduced(g, a, axis, keepdims) * size_of(ans) / size_of(a)


@vjp(np.prod)
def prod(g, ans, a, axis=None, keepdims=False):
    return expand_reduced(g, a, axis, keepdims) * product_of_others(a, axis)


@vjp(np.max, np.amax)
def amax(g, ans, a, axis=None, keepdims=False):
    # Every element equal to the maximum gets an even share of the adjoint.
    is_max = a == expand_reduced(ans, a, axis, keepdims)
    return expand_reduced(g, a, axis, keepdims) * is_max / np.sum(is_max, axis=axis, keepdims=True)


@vjp(np.min, np.amin)
def amin(g, ans, a, axis=None, keepdims=False):
    is_min = a == expand_reduced(ans, a, axis, keepdims)
    return expand_reduced(g, a, axis, keepdims) * is_min / np.sum(is_min, axis=axis, keepdims=True)


@vjp(builtins.sum)
def builtin_sum(g, ans, iterable, start=0):
    return [unbroadcast(g, item) for item in iterable]
