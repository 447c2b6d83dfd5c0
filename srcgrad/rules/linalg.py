"""Rules of products, norms and matrix functions: matmul, dot, outer, tensordot, inner, kron,
cross, linalg.norm, inv, solve, det, slogdet, cholesky, eigh, svd, qr, pinv.

The shape bookkeeping of 1-D operands, batch broadcasting and norm orders lives in helpers of
``srcgrad.runtime`` (``matmul_adjoint_left`` ...), so that each rule stays one line of math.
"""
import operator

import numpy as np

from ..runtime import (as_array_like, extra_vectors_unread, as_columns, broadcast_like, convolve_adjoints,
                       dot_adjoint_left, dot_adjoint_right, einsum_adjoints, einsum_adjoints_along,
                       einsum_of, einsum_plan, einsum_tangent, einsum_terms, from_columns, identity_like,
                       inner_axes, kron_plan, lower_factor, matmul_adjoint_left,
                       matmul_adjoint_right, matrix_power_adjoint, matrix_power_tangent,
                       mirror_triangle, multi_dot_adjoints, multi_dot_tangent, ndim_of,
                       norm_adjoint, norm_tangent, qr_adjoint, qr_options_checked, qr_tangent,
                       qr_complete, qr_r, reduced_mode, shape_of, svd_adjoint, svd_values, svd_options_checked, svd_tangent,
                       symmetric_from_triangle, tensordot_left_plan, tensordot_right_plan,
                       transposed, unbroadcast)
from .registry import (jvp, keyword_variant, non_differentiable, PACKED_ARGUMENTS, present,
                       sequence_result, vjp)


@vjp(operator.matmul, np.matmul, *present(np.linalg, "matmul"))
def matmul(g, ans, a, b):
    return matmul_adjoint_left(g, a, b), matmul_adjoint_right(g, a, b)


@jvp(operator.matmul, np.matmul, *present(np.linalg, "matmul"))
def matmul_jvp(ans, a, b, *, da, db):
    return da @ b, a @ db


@vjp(np.dot)
def dot(g, ans, a, b):
    return dot_adjoint_left(g, a, b), dot_adjoint_right(g, a, b)


@jvp(np.dot)
def dot_jvp(ans, a, b, *, da, db):
    return np.dot(da, b), np.dot(a, db)


@vjp(np.outer, *present(np.linalg, "outer"))
def outer(g, ans, a, b):
    # np.outer flattens both operands: ans[i, j] = a.flat[i] * b.flat[j].
    return np.reshape(g @ np.ravel(b), shape_of(a)), np.reshape(np.ravel(a) @ g, shape_of(b))


@jvp(np.outer, *present(np.linalg, "outer"))
def outer_jvp(ans, a, b, *, da, db):
    return np.outer(da, b), np.outer(a, db)


# The outer methods of ufuncs: ans[i..., j...] = a[i...] op b[j...] (a's axes, then b's).
@vjp(np.add.outer)
def add_outer(g, ans, A, B):
    return (np.sum(np.reshape(g, shape_of(A) + (-1,)), axis=-1),
            np.sum(np.reshape(g, (-1,) + shape_of(B)), axis=0))


@jvp(np.add.outer)
def add_outer_jvp(ans, A, B, *, dA, dB):
    return np.multiply.outer(dA, np.ones_like(B)), np.multiply.outer(np.ones_like(A), dB)


@vjp(np.subtract.outer)
def subtract_outer(g, ans, A, B):
    return (np.sum(np.reshape(g, shape_of(A) + (-1,)), axis=-1),
            -np.sum(np.reshape(g, (-1,) + shape_of(B)), axis=0))


@jvp(np.subtract.outer)
def subtract_outer_jvp(ans, A, B, *, dA, dB):
    return np.multiply.outer(dA, np.ones_like(B)), -np.multiply.outer(np.ones_like(A), dB)


@vjp(np.multiply.outer)
def multiply_outer(g, ans, A, B):
    return np.tensordot(g, B, ndim_of(B)), np.tensordot(A, g, ndim_of(A))


@jvp(np.multiply.outer)
def multiply_outer_jvp(ans, A, B, *, dA, dB):
    return np.multiply.outer(dA, B), np.multiply.outer(A, dB)


@vjp(np.linalg.norm)
def norm(g, ans, x, ord=None, axis=None, keepdims=False):
    return norm_adjoint(g, ans, x, ord, axis, keepdims)


@jvp(np.linalg.norm)
def norm_jvp(ans, x, ord=None, axis=None, keepdims=False, *, dx):
    return norm_tangent(dx, ans, x, ord, axis, keepdims)


# --- tensor products ----------------------------------------------------------------------------
@vjp(np.tensordot)
def tensordot(g, ans, a, b, axes=2):
    g = as_array_like(g, a)
    left = tensordot_left_plan(ndim_of(a), ndim_of(b), axes)
    right = tensordot_right_plan(ndim_of(a), ndim_of(b), axes)
    return (np.transpose(np.tensordot(g, b, left[0]), left[1]),
            np.transpose(np.tensordot(a, g, right[0]), right[1]))


@jvp(np.tensordot)
def tensordot_jvp(ans, a, b, axes=2, *, da, db):
    return np.tensordot(da, b, axes), np.tensordot(a, db, axes)


@vjp(np.inner)
def inner(g, ans, a, b):
    g = as_array_like(g, a)
    left = tensordot_left_plan(ndim_of(a), ndim_of(b), inner_axes(a, b))
    right = tensordot_right_plan(ndim_of(a), ndim_of(b), inner_axes(a, b))
    return (np.transpose(np.tensordot(g, b, left[0]), left[1]),
            np.transpose(np.tensordot(a, g, right[0]), right[1]))


@jvp(np.inner)
def inner_jvp(ans, a, b, *, da, db):
    return np.inner(da, b), np.inner(a, db)


@vjp(np.vdot)
def vdot(g, ans, a, b):
    # np.vdot flattens both (real inputs: no conjugation).
    return np.reshape(g * np.ravel(b), shape_of(a)), np.reshape(g * np.ravel(a), shape_of(b))


@jvp(np.vdot)
def vdot_jvp(ans, a, b, *, da, db):
    return np.vdot(da, b), np.vdot(a, db)


@vjp(np.kron)
def kron(g, ans, a, b):
    # ans[i * n + j] = a[i] * b[j] along each axis: split each axis of g in two and contract.
    plan = kron_plan(a, b)
    split = np.reshape(g, plan[0])
    return (np.reshape(np.tensordot(split, np.reshape(b, plan[2]), (plan[4], plan[5])),
                       shape_of(a)),
            np.reshape(np.tensordot(np.reshape(a, plan[1]), split, (plan[5], plan[3])),
                       shape_of(b)))


@jvp(np.kron)
def kron_jvp(ans, a, b, *, da, db):
    return np.kron(da, b), np.kron(a, db)


@vjp(np.cross)
def cross(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    return (unbroadcast(np.cross(b, g, axisb, axisc, axisa, axis), a),
            unbroadcast(np.cross(g, a, axisc, axisa, axisb, axis), b))


@jvp(np.cross)
def cross_jvp(ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, *, da, db):
    return (broadcast_like(np.cross(da, b, axisa, axisb, axisc, axis), ans),
            broadcast_like(np.cross(a, db, axisa, axisb, axisc, axis), ans))


# --- inverses, determinants, factorizations -----------------------------------------------------
@vjp(np.linalg.inv)
def inv(g, ans, a):
    return -(np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2))


@jvp(np.linalg.inv)
def inv_jvp(ans, a, *, da):
    return -(ans @ da @ ans)


@vjp(np.linalg.solve)
def solve(g, ans, a, b):
    # x = a^-1 b: db = a^-T g, da = -db x^T. A 1-D b is one column.
    db = np.linalg.solve(np.swapaxes(a, -1, -2), as_columns(g, b))
    return (unbroadcast(-db @ np.swapaxes(as_columns(ans, b), -1, -2), a),
            unbroadcast(from_columns(db, b), b))


@jvp(np.linalg.solve)
def solve_jvp(ans, a, b, *, da, db):
    return (from_columns(-np.linalg.solve(a, da @ as_columns(ans, b)), b),
            broadcast_like(np.linalg.solve(a, db), ans))


@vjp(np.linalg.det)
def det(g, ans, a):
    return np.expand_dims(g * ans, (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@jvp(np.linalg.det)
def det_jvp(ans, a, *, da):
    return ans * np.trace(np.linalg.solve(a, da), axis1=-2, axis2=-1)


@vjp(np.linalg.slogdet)
def slogdet(g, ans, a):
    # (sign, log|det|): the sign is piecewise constant, log|det| has the derivative inv(a)^T.
    return np.expand_dims(g[1], (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@jvp(np.linalg.slogdet)
def slogdet_jvp(ans, a, *, da):
    return [np.zeros_like(ans[0]), np.trace(np.linalg.solve(a, da), axis1=-2, axis2=-1)]


@vjp(np.linalg.cholesky)
def cholesky(g, ans, a, upper=False):
    # Only the lower triangle of a is read: the adjoint says so (mirror_triangle).
    lower = lower_factor(ans, upper)
    lower_t = np.swapaxes(lower, -1, -2)
    product = lower_t @ lower_factor(g, upper)
    phi = np.tril(product) - 0.5 * product * identity_like(product)
    left = np.linalg.solve(lower_t, phi)  # L^-T phi
    s = np.swapaxes(np.linalg.solve(lower_t, np.swapaxes(left, -1, -2)), -1, -2)  # L^-T phi L^-1
    return mirror_triangle(0.5 * (s + np.swapaxes(s, -1, -2)), "L")


@jvp(np.linalg.cholesky)
def cholesky_jvp(ans, a, upper=False, *, da):
    lower = lower_factor(ans, upper)
    moved = symmetric_from_triangle(da, "L")
    middle = np.linalg.solve(lower, np.swapaxes(np.linalg.solve(lower, moved), -1, -2))
    phi = np.tril(middle) - 0.5 * middle * identity_like(middle)
    return lower_factor(lower @ phi, upper)


@vjp(lower_factor)
def lower_factor_rule(g, ans, x, upper):
    return lower_factor(g, upper), None


@jvp(lower_factor)
def lower_factor_jvp(ans, x, upper, *, dx):
    return lower_factor(dx, upper)


@vjp(np.linalg.eigh)
def eigh(g, ans, a, UPLO="L"):
    # For distinct eigenvalues: a = v diag(w) v^T.
    w = ans[0]
    v = ans[1]
    eye = identity_like(v)
    f = 1.0 / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye) - eye  # 1 / (w_j - w_i)
    inner_part = eye * np.expand_dims(g[0], -1) + f * (np.swapaxes(v, -1, -2) @ g[1])
    return mirror_triangle(v @ inner_part @ np.swapaxes(v, -1, -2), UPLO)


@jvp(np.linalg.eigh)
def eigh_jvp(ans, a, UPLO="L", *, da):
    w = ans[0]
    v = ans[1]
    eye = identity_like(v)
    f = 1.0 / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye) - eye
    rotated = np.swapaxes(v, -1, -2) @ symmetric_from_triangle(da, UPLO) @ v
    return [np.sum(rotated * eye, axis=-1), v @ (f * rotated)]


@vjp(np.linalg.eigvalsh)
def eigvalsh(g, ans, a, UPLO="L"):
    v = np.linalg.eigh(a, UPLO)[1]
    return mirror_triangle((v * np.expand_dims(g, -2)) @ np.swapaxes(v, -1, -2), UPLO)


@jvp(np.linalg.eigvalsh)
def eigvalsh_jvp(ans, a, UPLO="L", *, da):
    v = np.linalg.eigh(a, UPLO)[1]
    return np.sum(v * (symmetric_from_triangle(da, UPLO) @ v), axis=-2)


@vjp(np.linalg.svd)
def svd(g, ans, a, full_matrices=True, compute_uv=True):
    return svd_adjoint(g, ans, a, full_matrices, compute_uv)


@jvp(np.linalg.svd)
def svd_jvp(ans, a, full_matrices=True, compute_uv=True, *, da):
    return svd_tangent(da, ans, a, full_matrices, compute_uv)


@vjp(np.linalg.svdvals)
def svdvals(g, ans, x):
    usv = np.linalg.svd(x, full_matrices=False)
    return (usv[0] * np.expand_dims(g, -2)) @ usv[2]


@jvp(np.linalg.svdvals)
def svdvals_jvp(ans, x, *, dx):
    usv = np.linalg.svd(x, full_matrices=False)
    return np.sum(usv[0] * (dx @ np.swapaxes(usv[2], -1, -2)), axis=-2)


@vjp(np.linalg.qr)
def qr(g, ans, a, mode="reduced"):
    return qr_adjoint(g, ans, a, mode)


@jvp(np.linalg.qr)
def qr_jvp(ans, a, mode="reduced", *, da):
    return qr_tangent(da, ans, a, mode)


# np.linalg.svd(a, compute_uv=False) and np.linalg.qr(a, mode="r") return one array, and
# np.linalg.qr(a, mode="complete") a square q: each is differentiated as a function of its own.
keyword_variant(np.linalg.svd, "compute_uv", False)(svd_values)
keyword_variant(np.linalg.qr, "mode", "r")(qr_r)
keyword_variant(np.linalg.qr, "mode", "complete")(qr_complete)


@vjp(svd_values)
def svd_values_rule(g, ans, a, full_matrices=True):
    usv = np.linalg.svd(a, full_matrices=False)
    return (usv[0] * np.expand_dims(g, -2)) @ usv[2]


@jvp(svd_values)
def svd_values_jvp(ans, a, full_matrices=True, *, da):
    usv = np.linalg.svd(a, full_matrices=False)
    return np.sum(usv[0] * (da @ np.swapaxes(usv[2], -1, -2)), axis=-2)


@vjp(qr_r)
def qr_r_rule(g, ans, a):
    q = np.linalg.qr(a)[0]
    return qr_adjoint([np.zeros_like(q), g], [q, ans], a, "reduced")


@jvp(qr_r)
def qr_r_jvp(ans, a, *, da):
    return qr_tangent(da, [np.linalg.qr(a)[0], ans], a, "reduced")[1]


@vjp(qr_complete)
def qr_complete_rule(g, ans, a):
    return qr_adjoint(g, ans, a, "complete")


@jvp(qr_complete)
def qr_complete_jvp(ans, a, *, da):
    return qr_tangent(da, ans, a, "complete")


@vjp(np.linalg.pinv)
def pinv(g, ans, a, rcond=None, hermitian=False):
    # For a of full rank (Golub and Pereyra): three terms, with P = pinv(a).
    p_pt = ans @ np.swapaxes(ans, -1, -2)
    pt_p = np.swapaxes(ans, -1, -2) @ ans
    left = np.swapaxes(g, -1, -2) @ p_pt
    right = pt_p @ np.swapaxes(g, -1, -2)
    return (-(np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2)) + left - a @ (ans @ left)
            + right - (right @ ans) @ a)


@jvp(np.linalg.pinv)
def pinv_jvp(ans, a, rcond=None, hermitian=False, *, da):
    da_t = np.swapaxes(da, -1, -2)
    return (-(ans @ da @ ans) + (ans @ np.swapaxes(ans, -1, -2)) @ (da_t - da_t @ a @ ans)
            + (da_t - ans @ a @ da_t) @ (np.swapaxes(ans, -1, -2) @ ans))


@vjp(as_columns)
def as_columns_rule(g, ans, v, b):
    return from_columns(g, b), None


@jvp(as_columns)
def as_columns_jvp(ans, v, b, *, dv):
    return as_columns(dv, b)


@vjp(from_columns)
def from_columns_rule(g, ans, m, b):
    return as_columns(g, b), None


@jvp(from_columns)
def from_columns_jvp(ans, m, b, *, dm):
    return from_columns(dm, b)


@vjp(transposed)
def transposed_rule(g, ans, x):
    return np.swapaxes(g, -1, -2)


@jvp(transposed)
def transposed_jvp(ans, x, *, dx):
    return np.swapaxes(dx, -1, -2)


sequence_result(np.linalg.slogdet, np.linalg.eigh, np.linalg.svd, np.linalg.qr, qr_complete)
non_differentiable(tensordot_left_plan, tensordot_right_plan, inner_axes, kron_plan,
                   identity_like, reduced_mode, svd_options_checked, qr_options_checked,
                   np.linalg.matrix_rank, extra_vectors_unread)


# --- einsum: np.einsum(s, a, b, ...) reaches srcgrad as einsum_of(s, [a, b, ...]) ----------------
@vjp(einsum_of)
def einsum(g, ans, subscripts, operands):
    return None, einsum_adjoints(g, subscripts, operands)


@jvp(einsum_of)
def einsum_jvp(ans, subscripts, operands, *, doperands):
    return einsum_tangent(subscripts, operands, doperands)


sequence_result(einsum_adjoints, einsum_adjoints_along)
non_differentiable(einsum_plan, einsum_terms)
PACKED_ARGUMENTS[np.einsum] = (einsum_of, 1)


@vjp(einsum_adjoints)
def einsum_adjoints_rule(g, ans, value, subscripts, operands):
    # g: one cotangent per operand's adjoint. The map is linear in value (the einsum's own g).
    return (einsum_tangent(subscripts, operands, g), None,
            einsum_adjoints_along(value, subscripts, operands, g))


@jvp(einsum_adjoints)
def einsum_adjoints_jvp(ans, value, subscripts, operands, *, dvalue, doperands):
    return (einsum_adjoints(dvalue, subscripts, operands),
            einsum_adjoints_along(value, subscripts, operands, doperands))


@vjp(np.linalg.matrix_power)
def matrix_power(g, ans, a, n):
    return matrix_power_adjoint(g, a, n), None


@jvp(np.linalg.matrix_power)
def matrix_power_jvp(ans, a, n, *, da):
    return matrix_power_tangent(da, a, n)


# --- convolution and correlation of vectors -------------------------------------------------------
@vjp(np.convolve)
def convolve(g, ans, a, v, mode="full"):
    adjoints = convolve_adjoints(g, a, v, mode)
    return adjoints[0], adjoints[1]


@jvp(np.convolve)
def convolve_jvp(ans, a, v, mode="full", *, da, dv):
    return np.convolve(da, v, mode), np.convolve(a, dv, mode)


@vjp(np.correlate)
def correlate(g, ans, a, v, mode="valid"):
    # correlate(a, v) is convolve(a, v reversed) for real vectors.
    adjoints = convolve_adjoints(g, a, np.flip(v), mode, True)
    return adjoints[0], np.flip(adjoints[1])


@jvp(np.correlate)
def correlate_jvp(ans, a, v, mode="valid", *, da, dv):
    return np.correlate(da, v, mode), np.correlate(a, dv, mode)


@vjp(np.linalg.multi_dot)
def multi_dot(g, ans, arrays):
    return multi_dot_adjoints(g, arrays)


@jvp(np.linalg.multi_dot)
def multi_dot_jvp(ans, arrays, *, darrays):
    return multi_dot_tangent(arrays, darrays)


sequence_result(multi_dot_adjoints)
