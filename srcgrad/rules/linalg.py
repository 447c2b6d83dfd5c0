"""Rules of products and norms: matmul, dot, outer, linalg.norm, einsum.

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


def einsum(subscripts, operands):
    """``np.einsum(subscripts, *operands)`` with the operands as one list, so that a rule can
    name them (the eager Tensor's ``einsum`` records this)."""
    return np.einsum(subscripts, *operands)


def einsum_adjoints(g, subscripts, operands):
    """One adjoint per operand of einsum: g times the other operands, summed to the operand's
    indices (np.einsum again); an index no other operand nor the output has is stretched."""
    inputs, output = _einsum_parts(subscripts)
    adjoints = []
    for k, letters in enumerate(inputs):
        if len(set(letters)) != len(letters):
            raise ValueError(f"einsum {subscripts!r}: no derivative rule for an index repeated "
                             f"in one operand ({letters}); take the diagonal first")
        others = [s for j, s in enumerate(inputs) if j != k]
        other_operands = [o for j, o in enumerate(operands) if j != k]
        known = set(output).union(*others)
        kept = "".join(c for c in letters if c in known)
        adjoint = np.einsum(",".join([output] + others) + "->" + kept, g, *other_operands)
        if kept != letters:  # an index only this operand has: the adjoint is stretched along it
            for position, letter in enumerate(letters):
                if letter not in known:
                    adjoint = np.expand_dims(adjoint, position)
            adjoint = np.broadcast_to(adjoint, shape_of(operands[k]))
        adjoints.append(adjoint)
    return adjoints


def _einsum_parts(subscripts):
    """The operands' index letters and the output's (implicit output: the letters used once,
    in alphabetical order, as NumPy reads it)."""
    subscripts = subscripts.replace(" ", "")
    if "." in subscripts:
        raise ValueError("einsum with '...' has no derivative rule; write the axes out")
    if "->" in subscripts:
        left, output = subscripts.split("->")
    else:
        left = subscripts
        letters = left.replace(",", "")
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return left.split(","), output


@vjp(einsum)
def einsum_(g, ans, subscripts, operands):
    return None, einsum_adjoints(g, subscripts, operands)


def einsum_tangent(subscripts, operands, tangents):
    """The sum over operands of einsum with that operand replaced by its tangent."""
    operands = list(operands)
    terms = [np.einsum(subscripts, *(operands[:k] + [t] + operands[k + 1:]))
             for k, t in enumerate(tangents)]
    return sum(terms[1:], terms[0])


@jvp(einsum)
def einsum_jvp(ans, subscripts, operands, *, doperands):
    return einsum_tangent(subscripts, operands, doperands)
