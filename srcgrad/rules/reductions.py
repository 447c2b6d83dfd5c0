"""Rules of reductions: sum, mean, prod, max, min (with axis and keepdims).

``axis`` may be None, an int (negative counts from the end) or a tuple of ints. Rule functions are
named so that none shadows a Python builtin (``sum_``, ``amax``, ``amin``).
"""
import builtins

import numpy as np

from ..runtime import (broadcast_like, count_of, expand_reduced, product_of_others, size_of,
                       unbroadcast)
from .registry import jvp, vjp


@vjp(np.sum)
def sum_(g, ans, a, axis=None, keepdims=False):
    return expand_reduced(g, a, axis, keepdims)


@jvp(np.sum)
def sum_jvp(ans, a, axis=None, keepdims=False, *, da):
    return np.sum(da, axis=axis, keepdims=keepdims)


@vjp(np.mean)
def mean(g, ans, a, axis=None, keepdims=False):
    # Scaled at the reduced size, then stretched (a view): no full-size pass.
    return expand_reduced(g * size_of(ans) / size_of(a), a, axis, keepdims)


@jvp(np.mean)
def mean_jvp(ans, a, axis=None, keepdims=False, *, da):
    return np.mean(da, axis=axis, keepdims=keepdims)


@vjp(np.prod)
def prod(g, ans, a, axis=None, keepdims=False):
    return expand_reduced(g, a, axis, keepdims) * product_of_others(a, axis)


@jvp(np.prod)
def prod_jvp(ans, a, axis=None, keepdims=False, *, da):
    return np.sum(da * product_of_others(a, axis), axis=axis, keepdims=keepdims)


# The reduce methods of add and multiply: np.sum and np.prod along axis 0 unless told.
@vjp(np.add.reduce)
def add_reduce(g, ans, array, axis=0, keepdims=False):
    return expand_reduced(g, array, axis, keepdims)


@jvp(np.add.reduce)
def add_reduce_jvp(ans, array, axis=0, keepdims=False, *, darray):
    return np.add.reduce(darray, axis=axis, keepdims=keepdims)


@vjp(np.multiply.reduce)
def multiply_reduce(g, ans, array, axis=0, keepdims=False):
    return expand_reduced(g, array, axis, keepdims) * product_of_others(array, axis)


@jvp(np.multiply.reduce)
def multiply_reduce_jvp(ans, array, axis=0, keepdims=False, *, darray):
    return np.add.reduce(darray * product_of_others(array, axis), axis=axis, keepdims=keepdims)


@vjp(np.max, np.amax)
def amax(g, ans, a, axis=None, keepdims=False):
    # Every element equal to the maximum gets an even share of the adjoint (the share is
    # worked out at the reduced size, so the full-size work is one comparison and one product).
    is_max = a == expand_reduced(ans, a, axis, keepdims)
    share = g / count_of(is_max, a, axis, keepdims)
    return expand_reduced(share, a, axis, keepdims) * is_max


@jvp(np.max, np.amax)
def amax_jvp(ans, a, axis=None, keepdims=False, *, da):
    # The maximum moves with the mean tangent of the elements tied at it.
    is_max = a == expand_reduced(ans, a, axis, keepdims)
    return (np.sum(da * is_max, axis=axis, keepdims=keepdims)
            / count_of(is_max, a, axis, keepdims))


@vjp(np.min, np.amin)
def amin(g, ans, a, axis=None, keepdims=False):
    is_min = a == expand_reduced(ans, a, axis, keepdims)
    share = g / count_of(is_min, a, axis, keepdims)
    return expand_reduced(share, a, axis, keepdims) * is_min


@jvp(np.min, np.amin)
def amin_jvp(ans, a, axis=None, keepdims=False, *, da):
    is_min = a == expand_reduced(ans, a, axis, keepdims)
    return (np.sum(da * is_min, axis=axis, keepdims=keepdims)
            / count_of(is_min, a, axis, keepdims))


@vjp(builtins.sum)
def builtin_sum(g, ans, iterable, start=0):
    return [unbroadcast(g, item) for item in iterable]


@jvp(builtins.sum)
def builtin_sum_jvp(ans, iterable, start=0, *, diterable):
    return broadcast_like(builtins.sum(diterable), ans)
