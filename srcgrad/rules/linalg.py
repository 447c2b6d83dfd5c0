"""Rules of products and norms: matmul, dot, outer, linalg.norm.

The shape bookkeeping of 1-D operands, batch broadcasting and norm orders lives in helpers of
``srcgrad.runtime`` (``matmul_adjoint_left`` ...), so that each rule stays one line of math.
"""
import operator

import numpy as np

from ..runtime import (dot_adjoint_left, dot_adjoint_right, matmul_adjoint_left,
                       matmul_adjoint_right, norm_adjoint, norm_tangent, shape_of)
from .registry import jvp, vjp


@vjp(operator.matmul, np.matmul)
def matmul(g, ans, a, b):
    return matmul_adjoint_left(g, a, b), matmul_adjoint_right(g, a, b)


@jvp(operator.matmul, np.matmul)
def matmul_jvp(ans, a, b, *, da, db):
    return da @ b, a @ db


@vjp(np.dot)
def dot(g, ans, a, b):
    return dot_adjoint_left(g, a, b), dot_adjoint_right(g, a, b)


@jvp(np.dot)
def dot_jvp(ans, a, b, *, da, db):
    return np.dot(da, b), np.dot(a, db)


@vjp(np.outer)
def outer(g, ans, a, b):
    # np.outer flattens both operands: ans[i, j] = a.flat[i] * b.flat[j].
    return np.reshape(g @ np.ravel(b), shape_of(a)), np.reshape(np.ravel(a) @ g, shape_of(b))


@jvp(np.outer)
def outer_jvp(ans, a, b, *, da, db):
    return np.outer(da, b), np.outer(a, db)


@vjp(np.linalg.norm)
def norm(g, ans, x, ord=None, axis=None, keepdims=False):
    return norm_adjoint(g, ans, x, ord, axis, keepdims)


@jvp(np.linalg.norm)
def norm_jvp(ans, x, ord=None, axis=None, keepdims=False, *, dx):
    return norm_tangent(dx, ans, x, ord, axis, keepdims)
