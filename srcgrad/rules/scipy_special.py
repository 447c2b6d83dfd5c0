"""Rules of SciPy functions: scipy.special, scipy.stats.norm, scipy.linalg's triangular solves.

Imported by ``srcgrad.rules`` only when SciPy imports; SciPy stays an optional dependency.
Constants are Python floats, so that float32 stays float32.
"""
import math

import numpy as np
import scipy.linalg
import scipy.special as special
from scipy.stats import norm as normal_distribution

from ..runtime import (as_matrix, broadcast_like, cast_like, expand_reduced, identity_like,
                       lower_factor, mirror_triangle, op_of, outer_adjoint, shape_of, single_result,
                       symmetric_from_triangle, trans_code, triangle_name, triangle_of, unbroadcast)
from .registry import differentiable, jvp, non_differentiable, vjp

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SQRT_2PI = math.sqrt(2.0 * math.pi)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# --- error functions and the normal distribution ------------------------------------------------
@vjp(special.erf)
def erf(g, ans, x):
    return g * TWO_OVER_SQRT_PI * np.exp(-x * x)


@jvp(special.erf)
def erf_jvp(ans, x, *, dx):
    return dx * TWO_OVER_SQRT_PI * np.exp(-x * x)


@vjp(special.erfc)
def erfc(g, ans, x):
    return -g * TWO_OVER_SQRT_PI * np.exp(-x * x)


@jvp(special.erfc)
def erfc_jvp(ans, x, *, dx):
    return -dx * TWO_OVER_SQRT_PI * np.exp(-x * x)


@vjp(special.erfinv)
def erfinv(g, ans, y):
    return g * SQRT_PI_OVER_TWO * np.exp(ans * ans)


@jvp(special.erfinv)
def erfinv_jvp(ans, y, *, dy):
    return dy * SQRT_PI_OVER_TWO * np.exp(ans * ans)


@vjp(special.erfcinv)
def erfcinv(g, ans, y):
    return -g * SQRT_PI_OVER_TWO * np.exp(ans * ans)


@jvp(special.erfcinv)
def erfcinv_jvp(ans, y, *, dy):
    return -dy * SQRT_PI_OVER_TWO * np.exp(ans * ans)


@vjp(special.erfcx)
def erfcx(g, ans, x):
    return g * (2.0 * x * ans - TWO_OVER_SQRT_PI)


@jvp(special.erfcx)
def erfcx_jvp(ans, x, *, dx):
    return dx * (2.0 * x * ans - TWO_OVER_SQRT_PI)


@vjp(special.ndtr)
def ndtr(g, ans, x):
    return g * INV_SQRT_2PI * np.exp(-0.5 * x * x)


@jvp(special.ndtr)
def ndtr_jvp(ans, x, *, dx):
    return dx * INV_SQRT_2PI * np.exp(-0.5 * x * x)


@vjp(special.log_ndtr)
def log_ndtr(g, ans, x):
    return g * INV_SQRT_2PI * np.exp(-0.5 * x * x - ans)


@jvp(special.log_ndtr)
def log_ndtr_jvp(ans, x, *, dx):
    return dx * INV_SQRT_2PI * np.exp(-0.5 * x * x - ans)


@vjp(special.ndtri)
def ndtri(g, ans, y):
    return g * SQRT_2PI * np.exp(0.5 * ans * ans)


@jvp(special.ndtri)
def ndtri_jvp(ans, y, *, dy):
    return dy * SQRT_2PI * np.exp(0.5 * ans * ans)


# --- logistic functions -------------------------------------------------------------------------
@vjp(special.expit)
def expit(g, ans, x):
    return g * ans * (1.0 - ans)


@jvp(special.expit)
def expit_jvp(ans, x, *, dx):
    return dx * ans * (1.0 - ans)


@vjp(special.logit)
def logit(g, ans, x):
    return g / (x * (1.0 - x))


@jvp(special.logit)
def logit_jvp(ans, x, *, dx):
    return dx / (x * (1.0 - x))


@vjp(special.log_expit)
def log_expit(g, ans, x):
    return g * special.expit(-x)


@jvp(special.log_expit)
def log_expit_jvp(ans, x, *, dx):
    return dx * special.expit(-x)


# --- gamma and beta functions -------------------------------------------------------------------
@vjp(special.gammaln)
def gammaln(g, ans, x):
    return g * special.digamma(x)


@jvp(special.gammaln)
def gammaln_jvp(ans, x, *, dx):
    return dx * special.digamma(x)


@vjp(special.gamma)
def gamma(g, ans, x):
    return g * ans * special.digamma(x)


@jvp(special.gamma)
def gamma_jvp(ans, x, *, dx):
    return dx * ans * special.digamma(x)


@vjp(special.rgamma)
def rgamma(g, ans, x):
    return -g * ans * special.digamma(x)


@jvp(special.rgamma)
def rgamma_jvp(ans, x, *, dx):
    return -dx * ans * special.digamma(x)


@vjp(special.digamma, special.psi)
def digamma(g, ans, x):
    # polygamma computes in float64: cast back to x's dtype.
    return g * cast_like(special.polygamma(1, x), x)


@jvp(special.digamma, special.psi)
def digamma_jvp(ans, x, *, dx):
    return dx * cast_like(special.polygamma(1, x), x)


@vjp(special.polygamma)
def polygamma(g, ans, n, x):
    # n, the order, is an integer: no derivative.
    return None, g * cast_like(special.polygamma(n + 1, x), x)


@jvp(special.polygamma)
def polygamma_jvp(ans, n, x, *, dx):
    return dx * cast_like(special.polygamma(n + 1, x), x)


@vjp(special.betaln)
def betaln(g, ans, a, b):
    both = special.digamma(a + b)
    return (unbroadcast(g * (special.digamma(a) - both), a),
            unbroadcast(g * (special.digamma(b) - both), b))


@jvp(special.betaln)
def betaln_jvp(ans, a, b, *, da, db):
    both = special.digamma(a + b)
    return (broadcast_like(da * (special.digamma(a) - both), ans),
            broadcast_like(db * (special.digamma(b) - both), ans))


@vjp(special.beta)
def beta(g, ans, a, b):
    both = special.digamma(a + b)
    return (unbroadcast(g * ans * (special.digamma(a) - both), a),
            unbroadcast(g * ans * (special.digamma(b) - both), b))


@jvp(special.beta)
def beta_jvp(ans, a, b, *, da, db):
    both = special.digamma(a + b)
    return (broadcast_like(da * ans * (special.digamma(a) - both), ans),
            broadcast_like(db * ans * (special.digamma(b) - both), ans))


# --- x log y and entropies ----------------------------------------------------------------------
@vjp(special.xlogy)
def xlogy(g, ans, x, y):
    return unbroadcast(g * np.log(y), x), unbroadcast(g * x / y, y)


@jvp(special.xlogy)
def xlogy_jvp(ans, x, y, *, dx, dy):
    return broadcast_like(dx * np.log(y), ans), broadcast_like(dy * x / y, ans)


@vjp(special.xlog1py)
def xlog1py(g, ans, x, y):
    return unbroadcast(g * np.log1p(y), x), unbroadcast(g * x / (1.0 + y), y)


@jvp(special.xlog1py)
def xlog1py_jvp(ans, x, y, *, dx, dy):
    return broadcast_like(dx * np.log1p(y), ans), broadcast_like(dy * x / (1.0 + y), ans)


@vjp(special.entr)
def entr(g, ans, x):
    return -g * (np.log(x) + 1.0)


@jvp(special.entr)
def entr_jvp(ans, x, *, dx):
    return -dx * (np.log(x) + 1.0)


# --- Bessel functions ---------------------------------------------------------------------------
@vjp(special.i0)
def i0(g, ans, x):
    return g * special.i1(x)


@jvp(special.i0)
def i0_jvp(ans, x, *, dx):
    return dx * special.i1(x)


@vjp(special.i0e)
def i0e(g, ans, x):
    return g * (special.i1e(x) - np.sign(x) * ans)


@jvp(special.i0e)
def i0e_jvp(ans, x, *, dx):
    return dx * (special.i1e(x) - np.sign(x) * ans)


@vjp(special.i1)
def i1(g, ans, x):
    # i1'(x) = i0(x) - i1(x) / x, which is 1/2 at x = 0.
    return g * np.where(x == 0, 0.5, special.i0(x) - ans / np.where(x == 0, 1.0, x))


@jvp(special.i1)
def i1_jvp(ans, x, *, dx):
    return dx * np.where(x == 0, 0.5, special.i0(x) - ans / np.where(x == 0, 1.0, x))


@vjp(special.i1e)
def i1e(g, ans, x):
    # i1e = exp(-|x|) i1: i1e' = i0e - i1e (sign(x) + 1 / x), which is 1/2 at x = 0.
    nonzero = np.where(x == 0, 1.0, x)
    return g * np.where(x == 0, 0.5, special.i0e(x) - ans * (np.sign(x) + 1.0 / nonzero))


@jvp(special.i1e)
def i1e_jvp(ans, x, *, dx):
    nonzero = np.where(x == 0, 1.0, x)
    return dx * np.where(x == 0, 0.5, special.i0e(x) - ans * (np.sign(x) + 1.0 / nonzero))


@vjp(special.j1)
def j1(g, ans, x):
    return g * np.where(x == 0, 0.5, special.j0(x) - ans / np.where(x == 0, 1.0, x))


@jvp(special.j1)
def j1_jvp(ans, x, *, dx):
    return dx * np.where(x == 0, 0.5, special.j0(x) - ans / np.where(x == 0, 1.0, x))


@vjp(special.y1)
def y1(g, ans, x):
    return g * (special.y0(x) - ans / x)


@jvp(special.y1)
def y1_jvp(ans, x, *, dx):
    return dx * (special.y0(x) - ans / x)


@vjp(special.j0)
def j0(g, ans, x):
    return -g * special.j1(x)


@jvp(special.j0)
def j0_jvp(ans, x, *, dx):
    return -dx * special.j1(x)


@vjp(special.y0)
def y0(g, ans, x):
    return -g * special.y1(x)


@jvp(special.y0)
def y0_jvp(ans, x, *, dx):
    return -dx * special.y1(x)


# --- reductions: logsumexp, softmax, log_softmax ------------------------------------------------
@vjp(special.logsumexp)
def logsumexp(g, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
    # The weights b are an option here; a differentiated b is refused, not given zeros.
    weights = np.exp(a - expand_reduced(single_result(ans, return_sign, "return_sign"), a, axis,
                                        keepdims))
    return expand_reduced(g, a, axis, keepdims) * (weights if b is None else weights * b)


@jvp(special.logsumexp)
def logsumexp_jvp(ans, a, axis=None, b=None, keepdims=False, return_sign=False, *, da):
    weights = np.exp(a - expand_reduced(single_result(ans, return_sign, "return_sign"), a, axis,
                                        keepdims))
    return np.sum(da * (weights if b is None else weights * b), axis=axis, keepdims=keepdims)


@vjp(special.softmax)
def softmax(g, ans, x, axis=None):
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True))


@jvp(special.softmax)
def softmax_jvp(ans, x, axis=None, *, dx):
    return ans * (dx - np.sum(dx * ans, axis=axis, keepdims=True))


@vjp(special.log_softmax)
def log_softmax(g, ans, x, axis=None):
    return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)


@jvp(special.log_softmax)
def log_softmax_jvp(ans, x, axis=None, *, dx):
    return dx - np.sum(np.exp(ans) * dx, axis=axis, keepdims=True)


# --- scipy.stats.norm: loc and scale are differentiated too when they are given -----------------
@vjp(normal_distribution.logpdf)
def norm_logpdf(g, ans, x, loc=differentiable(0.0), scale=differentiable(1.0)):
    z = (x - loc) / scale
    g_z = g * z / scale
    return unbroadcast(-g_z, x), unbroadcast(g_z, loc), unbroadcast(g_z * z - g / scale, scale)


@jvp(normal_distribution.logpdf)
def norm_logpdf_jvp(ans, x, loc=differentiable(0.0), scale=differentiable(1.0), *, dx, dloc,
                    dscale):
    z = (x - loc) / scale
    return (broadcast_like(-dx * z / scale, ans), broadcast_like(dloc * z / scale, ans),
            broadcast_like(dscale * (z * z - 1.0) / scale, ans))


@vjp(normal_distribution.pdf)
def norm_pdf(g, ans, x, loc=differentiable(0.0), scale=differentiable(1.0)):
    z = (x - loc) / scale
    g_z = g * ans * z / scale
    return (unbroadcast(-g_z, x), unbroadcast(g_z, loc),
            unbroadcast(g_z * z - g * ans / scale, scale))


@jvp(normal_distribution.pdf)
def norm_pdf_jvp(ans, x, loc=differentiable(0.0), scale=differentiable(1.0), *, dx, dloc,
                 dscale):
    z = (x - loc) / scale
    return (broadcast_like(-dx * ans * z / scale, ans), broadcast_like(dloc * ans * z / scale, ans),
            broadcast_like(dscale * ans * (z * z - 1.0) / scale, ans))


@vjp(normal_distribution.cdf)
def norm_cdf(g, ans, x, loc=differentiable(0.0), scale=differentiable(1.0)):
    z = (x - loc) / scale
    g_density = g * INV_SQRT_2PI * np.exp(-0.5 * z * z) / scale
    return (unbroadcast(g_density, x), unbroadcast(-g_density, loc),
            unbroadcast(-g_density * z, scale))


@jvp(normal_distribution.cdf)
def norm_cdf_jvp(ans, x, loc=differentiable(0.0), scale=differentiable(1.0), *, dx, dloc, dscale):
    z = (x - loc) / scale
    density = INV_SQRT_2PI * np.exp(-0.5 * z * z) / scale
    return (broadcast_like(dx * density, ans), broadcast_like(-dloc * density, ans),
            broadcast_like(-dscale * density * z, ans))


@vjp(normal_distribution.logcdf)
def norm_logcdf(g, ans, x, loc=differentiable(0.0), scale=differentiable(1.0)):
    z = (x - loc) / scale
    g_density = g * INV_SQRT_2PI * np.exp(-0.5 * z * z - ans) / scale
    return (unbroadcast(g_density, x), unbroadcast(-g_density, loc),
            unbroadcast(-g_density * z, scale))


@jvp(normal_distribution.logcdf)
def norm_logcdf_jvp(ans, x, loc=differentiable(0.0), scale=differentiable(1.0), *, dx, dloc,
                    dscale):
    z = (x - loc) / scale
    density = INV_SQRT_2PI * np.exp(-0.5 * z * z - ans) / scale
    return (broadcast_like(dx * density, ans), broadcast_like(-dloc * density, ans),
            broadcast_like(-dscale * density * z, ans))


# --- scipy.linalg -------------------------------------------------------------------------------
@vjp(scipy.linalg.cholesky)
def linalg_cholesky(g, ans, a, lower=False):
    # scipy.linalg.cholesky returns the upper factor unless lower=True, and reads that triangle
    # of a: the rule of np.linalg.cholesky, transposed.
    factor = lower_factor(ans, not lower)
    factor_t = np.swapaxes(factor, -1, -2)
    product = factor_t @ lower_factor(g, not lower)
    phi = np.tril(product) - 0.5 * product * identity_like(product)
    left = np.linalg.solve(factor_t, phi)
    s = np.swapaxes(np.linalg.solve(factor_t, np.swapaxes(left, -1, -2)), -1, -2)
    return mirror_triangle(0.5 * (s + np.swapaxes(s, -1, -2)), triangle_name(lower))


@jvp(scipy.linalg.cholesky)
def linalg_cholesky_jvp(ans, a, lower=False, *, da):
    factor = lower_factor(ans, not lower)
    moved = symmetric_from_triangle(da, triangle_name(lower))
    middle = np.linalg.solve(factor, np.swapaxes(np.linalg.solve(factor, moved), -1, -2))
    phi = np.tril(middle) - 0.5 * middle * identity_like(middle)
    return lower_factor(factor @ phi, not lower)


@vjp(scipy.linalg.solve_triangular)
def solve_triangular(g, ans, a, b, trans=0, lower=False, unit_diagonal=False):
    # x = op(a)^-1 b with op(a) = a or a^T: db = op(a)^-T g, da = -(db x^T) or its transpose,
    # kept to the triangle a is read from.
    db = scipy.linalg.solve_triangular(a, g, trans=1 - trans_code(trans), lower=lower,
                                       unit_diagonal=unit_diagonal)
    return (triangle_of(outer_adjoint(db, ans, trans), lower, unit_diagonal), db)


@jvp(scipy.linalg.solve_triangular)
def solve_triangular_jvp(ans, a, b, trans=0, lower=False, unit_diagonal=False, *, da, db):
    moved = op_of(triangle_of(da, lower, unit_diagonal), trans) @ as_matrix(ans)
    return (-np.reshape(scipy.linalg.solve_triangular(a, moved, trans=trans, lower=lower,
                                                      unit_diagonal=unit_diagonal), shape_of(ans)),
            scipy.linalg.solve_triangular(a, db, trans=trans, lower=lower,
                                          unit_diagonal=unit_diagonal))


non_differentiable(trans_code, triangle_name)
