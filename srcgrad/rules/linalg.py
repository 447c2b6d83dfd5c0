"""Rules of products and norms: matmul, dot, outer, linalg.norm.

The shape bookkeeping of 1-D operands, batch broadcasting and norm orders lives in helpers of
``srcgrad.runtime`` (``matmul_adjoint_left`` ...), so that each rule stays one line of math.
"""
import operator

import numpy as np

from ..runtime import (dot_adjoint_left, dot_adjoint_right, matmul_adjoint_left,
                       matmul_adjoint_right, norm_adjoint, shape_of)
from .registry import vjp


@vjp(operator.matmul, np.matmul)
def matmul(g, ans, a, b):
    return matmul_adjoint_left(g, a, b), matmul_adjoint_right(g, a, b)


@vjp(np.dot)
def dot(g, ans, a, b):
    return dot_adjoint_left(g, a, b), dot_adjoint_right(g, a, b)


@vjp(np.outer)
def outer(g, ans, a, b):
    # np.outer flattens both operands: ans[i, j] = a.flat[i] * b.flat[j].
    return np.reshape(g @ np.ravel(b), shape_of(a)), np.reshape(np.ravel(a) @ g, shape_of(b))


@vjp(np.linalg.norm)
def norm(g, ans, x, ord=None, axis=None, keepdims=False):
    return norm_adjoint(g, ans, x, ord, axis, keepdims)
