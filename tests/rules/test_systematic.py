"""Every rule through both engines, in the spirit of autograd's test_systematic.py.

Each case is a function of ``systematic_cases`` (one primitive read out through a nonlinear
scalar) with argument sets over shapes, broadcasting, axes and keepdims. For each it checks, against
central differences in float64:
- reverse mode (``sg.grad``) and the value of ``sg.value_and_grad``;
- forward mode (``sg.jvp``) against the gradient by the dot-product test;
- second order (``sg.hvp``: forward over the generated gradient) against differences of the
  gradient;
- the eager Tensor (first order, and second order through ``create_graph=True``);
- float32 inputs keep float32 gradients.
"""
import functools

import numpy as np
import pytest

import srcgrad as sg
import systematic_cases as fns
from srcgrad.rules import JVP_RULES, VJP_RULES
from srcgrad.rules.registry import KEYWORD_VARIANTS, PACKED_ARGUMENTS

EPS = 1e-6


def numerical_gradient(f, args, k):
    args = [np.array(a, dtype=np.float64) for a in args]
    x = args[k]
    gradient = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + EPS
        above = f(*args)
        x[i] = original - EPS
        below = f(*args)
        x[i] = original
        gradient[i] = (above - below) / (2 * EPS)
    return gradient


def close(actual, expected, rtol=1e-5, atol=1e-6, what=""):
    assert np.shape(actual) == np.shape(expected), (what, np.shape(actual), np.shape(expected))
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol,
                               atol=atol, err_msg=what)


# --- argument builders: rng -> list of argument tuples ------------------------------------------

UNARY_SHAPES = [(), (3,), (2, 3)]
BINARY_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ())]


def normal(rng, shape):
    return rng.standard_normal(shape)


def uniform(low, high):
    return lambda rng, shape: rng.uniform(low, high, shape)


def signed(low, high):
    return lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(low, high, shape)


def unary(values=normal, shapes=UNARY_SHAPES):
    return lambda rng: [(values(rng, s),) for s in shapes]


def binary(x_values=normal, y_values=normal, shapes=BINARY_SHAPES):
    return lambda rng: [(x_values(rng, a), y_values(rng, b)) for a, b in shapes]


def fixed(*arg_sets):
    return lambda rng: [tuple(np.array(a, dtype=np.float64) for a in args) for args in arg_sets]


def shaped(*shape_sets, values=normal):
    """Argument sets of the given shapes (one tuple of shapes per set)."""
    return lambda rng: [tuple(values(rng, s) for s in shapes) for shapes in shape_sets]


def quarter_steps(rng, shape):
    """Values at quarter integers plus a little noise: no two closer than about 0.05 apart after
    rounding to a grid, so that remainders and ties stay away from their jumps."""
    return rng.integers(-8, 8, shape) * 0.5 + 0.25 + rng.uniform(-0.05, 0.05, shape)


CASES = {}


def case(function, build, second_order=True, eager=True, float32=True, rtol=1e-5, atol=1e-6,
         eager_second_order=True, duck=True):
    CASES[function.__name__] = dict(function=function, build=build, second_order=second_order,
                                    eager=eager, float32=float32, rtol=rtol, atol=atol,
                                    eager_second_order=second_order and eager_second_order,
                                    duck=duck)


# --- elementwise -------------------------------------------------------------------------------
case(fns.arcsin_, unary(uniform(-0.8, 0.8)))
case(fns.arccos_, unary(uniform(-0.8, 0.8)))
case(fns.arcsinh_, unary())
case(fns.arccosh_, unary(uniform(1.2, 3.0)))
case(fns.arctanh_, unary(uniform(-0.8, 0.8)))
case(fns.arctan_, unary())
case(fns.arctan2_, binary(signed(0.3, 2.0), signed(0.3, 2.0)))
case(fns.hypot_, binary(signed(0.3, 2.0), signed(0.3, 2.0)))
case(fns.reciprocal_, unary(signed(0.5, 2.0)))
case(fns.cbrt_, unary(signed(0.5, 2.0)))
case(fns.exp2_, unary())
case(fns.log2_, unary(uniform(0.3, 3.0)))
case(fns.log10_, unary(uniform(0.3, 3.0)))
case(fns.logaddexp_, binary())
case(fns.logaddexp2_, binary())
case(fns.fabs_, unary(signed(0.3, 2.0)))
case(fns.abs_, unary(signed(0.3, 2.0)))
case(fns.fmax_, binary(quarter_steps, lambda rng, s: quarter_steps(rng, s) + 0.25))
case(fns.fmin_, binary(quarter_steps, lambda rng, s: quarter_steps(rng, s) + 0.25))
case(fns.maximum_, binary(quarter_steps, lambda rng, s: quarter_steps(rng, s) + 0.25))
case(fns.minimum_, binary(quarter_steps, lambda rng, s: quarter_steps(rng, s) + 0.25))
for _f in (fns.mod_, fns.remainder_, fns.percent_, fns.fmod_):
    case(_f, binary(quarter_steps, lambda rng, s: rng.choice([-1.0, 1.0], s) * 1.1))
case(fns.sinc_, unary())
case(fns.deg2rad_, unary())
case(fns.rad2deg_, unary(uniform(-0.02, 0.02)))
case(fns.degrees_, unary(uniform(-0.02, 0.02)))
case(fns.radians_, unary())
case(fns.nan_to_num_, unary())
case(fns.real_, unary())
case(fns.conj_, unary())
case(fns.real_if_close_, unary())
case(fns.float_power_, binary(uniform(0.5, 2.0), uniform(-2.0, 2.0)), float32=False)
case(fns.copysign_, unary(signed(0.3, 2.0)))
for _f in (fns.exp_, fns.expm1_, fns.sin_, fns.cos_, fns.sinh_, fns.cosh_, fns.tanh_,
           fns.square_):
    case(_f, unary())
for _f in (fns.log_, fns.log1p_, fns.sqrt_):
    case(_f, unary(uniform(0.3, 3.0)))
case(fns.tan_, unary(uniform(-1.0, 1.0)))
case(fns.power_, binary(uniform(0.5, 2.0), uniform(-2.0, 2.0)))
case(fns.divide_, binary(normal, signed(0.5, 2.0)))
case(fns.multiply_, binary())
case(fns.subtract_, binary())
case(fns.where_, binary(quarter_steps, normal))
case(fns.clip_, unary(lambda rng, s: rng.choice([-1.0, 0.0, 1.0], s) + rng.uniform(-.3, .3, s)))


# --- reductions and scans ----------------------------------------------------------------------
def distinct(rng, shape):
    """Values at least 0.3 apart from each other: no ties for max, min and ptp."""
    size = int(np.prod(shape))
    values = rng.permutation(size) * 0.4 - size * 0.2 + rng.uniform(-0.05, 0.05, size)
    return values.reshape(shape)


# The eager Tensor has no var, std, cumsum or cumprod methods (np.var(t) ... work).
for _f in (fns.var_, fns.std_, fns.average_, fns.cumsum_):
    case(_f, unary(shapes=[(3,), (2, 3), (2, 3, 2)]))
for _f in (fns.var_method_, fns.cumsum_method_):
    case(_f, unary(shapes=[(3,), (2, 3), (2, 3, 2)]), eager=False)
for _f in (fns.var_axis_, fns.std_axis_ddof_, fns.cumsum_axis_, fns.mean_method_, fns.prod_,
           fns.diff_axis_, fns.add_reduce_, fns.add_reduce_all_, fns.multiply_reduce_):
    case(_f, unary(shapes=[(3, 2), (2, 3, 2)]))
case(fns.std_method_, unary(shapes=[(3, 2), (2, 3, 2)]), eager=False)
# float64 weights make NumPy's own result float64.
case(fns.average_weighted_, unary(shapes=[(3, 2), (2, 3, 2)]), float32=False)
case(fns.var_axes_keepdims_ddof_, unary(shapes=[(3, 2), (2, 3, 2)]))
case(fns.ptp_, unary(distinct, shapes=[(3,), (2, 3)]))
case(fns.ptp_axis_, unary(distinct, shapes=[(3, 2), (2, 3, 2)]))
case(fns.max_axes_, unary(distinct, shapes=[(2, 3, 2), (3, 1, 2, 2)]))
case(fns.min_axes_keepdims_, unary(distinct, shapes=[(2, 3, 2), (3, 1, 2)]))
case(fns.sum_axes_, unary(shapes=[(2, 3, 2)]))
for _f in (fns.nansum_, fns.nanmean_, fns.nanmax_, fns.nanmin_, fns.nanvar_, fns.nanstd_,
           fns.nanvar_ddof_keepdims_, fns.nanstd_axis_, fns.nanprod_, fns.nanprod_all_,
           fns.nanmedian_, fns.nanmedian_axis_):
    case(_f, unary(lambda rng, s: distinct(rng, s) * 0.5 + 0.5, shapes=[(3, 2), (4, 3)]))
for _f in (fns.cumprod_, fns.cumprod_axis_):
    case(_f, unary(signed(0.5, 1.5), shapes=[(3,), (2, 3)]))
case(fns.cumprod_method_, unary(signed(0.5, 1.5), shapes=[(3,), (2, 3)]), eager=False)
case(fns.trace_method_, unary(shapes=[(3, 3)]), eager=False)
case(fns.conj_method_, unary(shapes=[(3,)]), eager=False)
case(fns.astype_int_plus_, unary(quarter_steps), eager=False, float32=False)
case(fns.clip_below_, unary(signed(0.3, 2.0)))
case(fns.clip_above_, binary(quarter_steps, lambda rng, s: quarter_steps(rng, s) + 0.25))
case(fns.broadcast_arrays_, binary(shapes=[((3,), (2, 1)), ((2, 3), ())]))
case(fns.meshgrid_, shaped(((3,), (2,))))
case(fns.meshgrid_ij_, shaped(((2,), (3,), (2,))))
# np.cov computes in float64 whatever the input.
case(fns.median_, unary(distinct, shapes=[(3,), (4,), (2, 3)]))
case(fns.median_axis_, unary(distinct, shapes=[(3, 2), (4, 3)]))
case(fns.median_keepdims_, unary(distinct, shapes=[(2, 4), (2, 3)]))
case(fns.quantile_, unary(distinct, shapes=[(4,), (2, 3)]))
case(fns.quantile_axis_, unary(distinct, shapes=[(5, 2)]))
case(fns.percentile_, unary(distinct, shapes=[(2, 4), (3,)]))
case(fns.cov_, unary(shapes=[(4,), (2, 4), (3, 5)]), float32=False)
case(fns.cov_columns_, unary(shapes=[(4, 2), (5,)]), float32=False)
case(fns.cov_ddof_, unary(shapes=[(2, 4)]), float32=False)
case(fns.cov_y_, shaped(((4,), (4,)), ((2, 4), (4,)), ((2, 5), (3, 5))), float32=False)
case(fns.cov_y_columns_, shaped(((4, 2), (4, 3)), ((5,), (5, 2))), float32=False)
for _f in (fns.cov_fweights_, fns.cov_aweights_):
    case(_f, unary(shapes=[(4,), (2, 4)]), float32=False)
case(fns.cov_weights_ddof_, unary(shapes=[(4, 3)]), float32=False)
# np.corrcoef divides np.cov's float64 result: float64 whatever the input.
case(fns.corrcoef_, unary(shapes=[(2, 4), (3, 5)]), float32=False)
case(fns.corrcoef_y_, shaped(((4,), (4,)), ((2, 5), (5,))), float32=False)
case(fns.corrcoef_columns_, unary(shapes=[(5, 3)]), float32=False)
case(fns.gradient_, unary(shapes=[(2,), (3,), (5,)]))
case(fns.gradient_spacing_, unary(shapes=[(4,)]))
case(fns.gradient_axis_, unary(shapes=[(4, 2), (2, 3)]))
case(fns.gradient_edge_order_2_, unary(shapes=[(3,), (6,)]))
case(fns.gradient_edge_order_2_axis_, unary(shapes=[(2, 4), (3,)]))
case(fns.gradient_axis_tuple_, unary(shapes=[(2, 4)]))
case(fns.gradient_axes_, unary(shapes=[(3, 4), (2, 3, 4)]))
case(fns.gradient_axes_spacing_edge_order_2_, unary(shapes=[(3, 4)]))
# float64 coordinates make NumPy's own result float64.
case(fns.gradient_coordinates_, unary(shapes=[(5,)]), float32=False)
case(fns.gradient_coordinates_edge_order_2_, unary(shapes=[(5, 2), (5,)]), float32=False)
case(fns.diff_, unary(shapes=[(3,), (2, 4)]))
case(fns.diff_twice_, unary(shapes=[(4,), (2, 5)]))


# --- shapes and order -------------------------------------------------------------------------
def far_apart(rng, shape):
    """Distinct values (no ties for sort and partition)."""
    return distinct(rng, shape)


case(fns.vstack_, shaped(((3,), (3,)), ((2, 3), (3,)), ((), ()), ((2, 3), (1, 3))))
if hasattr(np, "row_stack"):  # gone from newer NumPy
    case(fns.row_stack_, shaped(((2, 3), (3,))))
case(fns.hstack_, shaped(((3,), (2,)), ((2, 3), (2, 1)), ((), (2,))))
case(fns.column_stack_, shaped(((3,), (3,)), ((3, 2), (3,))))
case(fns.dstack_, shaped(((3,), (3,)), ((2, 3), (2, 3)), ((2, 3, 2), (2, 3))))
case(fns.concatenate_, shaped(((3,), (2,)), ((2, 3), (1, 3))))
case(fns.list_used_twice_, shaped(((3,), (3,))))
case(fns.stack_, shaped(((3,), (3,)), ((2, 3), (2, 3))))
case(fns.append_, shaped(((3,), (2,)), ((2, 2), (3,)), ((), ())))
case(fns.append_axis_, shaped(((2, 3), (1, 3))))
case(fns.atleast_1d_, unary(shapes=[(), (3,)]))
case(fns.atleast_2d_, unary(shapes=[(), (3,), (2, 3)]))
case(fns.atleast_3d_, unary(shapes=[(), (3,), (2, 3), (2, 3, 2)]))
case(fns.repeat_, unary(shapes=[(), (3,), (2, 3)]))
case(fns.repeat_axis_, unary(shapes=[(3,), (2, 3)]))
case(fns.repeat_counts_, unary(shapes=[(3,), (3, 2)]))
case(fns.repeat_method_, unary(shapes=[(3,), (2, 3)]), eager=False)
case(fns.tile_, unary(shapes=[(), (3,), (2, 3)]))
case(fns.tile_2d_, unary(shapes=[(3,), (2, 3), (2, 1, 2)]))
case(fns.sliding_window_, unary(shapes=[(3,), (3, 4)]), float32=False)
case(fns.sliding_window_axis_, unary(shapes=[(3,), (2, 4)]))
case(fns.roll_, unary(shapes=[(3,), (2, 3)]), float32=False)
case(fns.roll_axes_, unary(shapes=[(2, 3), (3, 2, 2)]), float32=False)
case(fns.rollaxis_, unary(shapes=[(2, 3, 4)]), float32=False)
case(fns.flip_, unary(shapes=[(3,), (2, 3)]), float32=False)
case(fns.flipud_, unary(shapes=[(3,), (2, 3)]), float32=False)
case(fns.fliplr_, unary(shapes=[(2, 3), (2, 3, 2)]), float32=False)
case(fns.rot90_, unary(shapes=[(2, 3)]), float32=False)
case(fns.rot90_k_, unary(shapes=[(2, 3)]), float32=False)
case(fns.pad_, unary(shapes=[(3,), (2, 3)]))
case(fns.pad_widths_, unary(shapes=[(2, 3)]))
case(fns.pad_edge_, unary(shapes=[(3,), (2, 3)]))
for _f in (fns.pad_reflect_, fns.pad_symmetric_):  # widths past the array's size included
    case(_f, unary(shapes=[(2, 3), (3, 2)]))
case(fns.pad_wrap_, unary(shapes=[(3,), (2, 2)]))
case(fns.tril_, unary(shapes=[(3, 3), (2, 3, 4)]))
case(fns.triu_, unary(shapes=[(3, 3), (2, 4, 3)]))
case(fns.diag_vector_, unary(shapes=[(3,)]))
case(fns.diag_matrix_, unary(shapes=[(3, 3), (4, 3)]))
case(fns.diagonal_, unary(shapes=[(3, 3), (2, 4, 3)]))
case(fns.diagonal_axes_, unary(shapes=[(3, 2, 4)]))
case(fns.diagonal_method_, unary(shapes=[(3, 4)]), eager=False)
case(fns.trace_, unary(shapes=[(3, 3), (2, 4)]))
case(fns.trace_axes_, unary(shapes=[(3, 2, 4)]))
case(fns.sort_, unary(far_apart, shapes=[(3,), (2, 4)]), float32=False)
case(fns.sort_axis_, unary(far_apart, shapes=[(3, 2)]), float32=False)
case(fns.sort_flat_, unary(far_apart, shapes=[(2, 3)]), float32=False)
case(fns.partition_, unary(far_apart, shapes=[(4,), (2, 4)]))
case(fns.take_, unary(shapes=[(3,), (2, 2)]))
case(fns.take_axis_, unary(shapes=[(2, 3), (2, 2, 2)]))
case(fns.take_method_, unary(shapes=[(3,), (2, 3)]), eager=False)
case(fns.take_along_axis_, unary(shapes=[(2, 3)]))
case(fns.select_, binary(quarter_steps, normal, shapes=[((3,), (3,)), ((2, 3), (3,))]))
case(fns.select_default_, binary(quarter_steps, normal, shapes=[((3,), (3,)), ((2, 3), (3,)), ((3,), ())]))
# np.full and np.asarray do not dispatch to a Tensor (np.asarray takes its data out).
# np.r_ and np.c_ build NumPy arrays from whatever they get: the transformer only.
case(fns.r_, shaped(((3,), (2,)), ((), (2,))), eager=False)
case(fns.c_, shaped(((3,), (3,)), ((2, 2), (2, 2))), eager=False)
case(fns.split_, unary(shapes=[(6,), (3, 2)]))
case(fns.array_split_, unary(shapes=[(5,), (2, 3)]))
case(fns.vsplit_, unary(shapes=[(3, 2)]))
case(fns.hsplit_, unary(shapes=[(4,), (2, 4)]))
case(fns.dsplit_, unary(shapes=[(2, 2, 4)]))
case(fns.full_, fixed((0.3,), (-1.2,)), eager=False, float32=False)
case(fns.full_like_, unary(shapes=[(3,), (3, 2)]))
case(fns.linspace_, fixed((0.3, 1.7), (-1.0, 0.5)), float32=False)
case(fns.linspace_open_, fixed((0.3, 1.7)), float32=False)
for _f in (fns.asarray_, fns.asanyarray_, fns.ascontiguousarray_):
    case(_f, unary(), eager=False)


# --- linear algebra ----------------------------------------------------------------------------
def well_conditioned(rng, shape):
    """Random square matrices near 3 I (far from singular)."""
    return rng.standard_normal(shape) * 0.5 + 3.0 * np.eye(shape[-1])


def positive_definite(rng, shape):
    """Symmetric positive definite matrices with well separated eigenvalues."""
    b = rng.standard_normal(shape) * 0.5
    return b @ np.swapaxes(b, -1, -2) + np.diag(np.arange(1.0, shape[-1] + 1.0))


def separated_singular_values(rng, shape):
    m, n = shape[-2:]
    k = min(m, n)
    u = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))[0]
    v = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))[0]
    s = np.arange(1.0, k + 1.0) + rng.uniform(0.0, 0.2, k)
    return (u * s) @ np.swapaxes(v, -1, -2)


case(fns.half_dot_, unary(shapes=[(3,)]))
case(fns.dot_, shaped(((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                      ((2, 2, 3), (3, 2)), ((), (3,))))
case(fns.matmul_, shaped(((3,), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (3,)), ((2, 1, 3), (2, 3, 2))))
case(fns.outer_, shaped(((3,), (2,)), ((2, 2), (3,))))
case(fns.tensordot_, shaped(((2, 3), (3, 4)), ((3,), (3, 2))))
case(fns.tensordot2_, shaped(((2, 3, 4), (3, 4, 2)), ((3, 4), (3, 4))))
case(fns.tensordot_lists_, shaped(((2, 3, 4), (4, 2))))
case(fns.tensordot0_, shaped(((2,), (3,)), ((), (2, 2))))
case(fns.inner_, shaped(((3,), (3,)), ((2, 3), (4, 3)), ((), (3,))))
case(fns.vdot_, shaped(((2, 3), (3, 2)), ((3,), (3,))))
case(fns.kron_, shaped(((2,), (3,)), ((2, 2), (3, 1)), ((2,), (2, 3))))
for _f in (fns.add_outer_, fns.subtract_outer_, fns.multiply_outer_):
    case(_f, shaped(((3,), (2,)), ((2, 2), (3,)), ((), (2, 2)), ((2,), ())))
case(fns.cross_, shaped(((3,), (3,)), ((2, 3), (3,))))
case(fns.matrix_power_, unary(lambda rng, s: normal(rng, s) * 0.5, shapes=[(3, 3), (2, 2, 2)]))
case(fns.matrix_power_negative_, unary(well_conditioned, shapes=[(3, 3)]))
case(fns.matrix_power_zero_, unary(shapes=[(2, 2)]))
for _f in (fns.convolve_, fns.convolve_same_, fns.convolve_valid_, fns.correlate_,
           fns.correlate_full_, fns.correlate_same_):
    case(_f, shaped(((5,), (3,)), ((3,), (5,)), ((4,), (4,)), ((2,), (5,))))
case(fns.einsum_matmul_, shaped(((2, 3), (3, 4))))
case(fns.einsum_implicit_, shaped(((2, 3), (3, 4))))
case(fns.einsum_dot_, unary(shapes=[(3,)]))
case(fns.einsum_sum_away_, shaped(((2, 3), (4,))))
case(fns.einsum_three_, shaped(((2, 3), (3, 4), (4, 2))))
case(fns.einsum_transpose_, unary(shapes=[(2, 3)]))
case(fns.einsum_trace_, unary(shapes=[(3, 3)]))
case(fns.einsum_diagonal_, unary(shapes=[(3, 3)]))
case(fns.einsum_diagonal_batch_, shaped(((2, 3, 3), (3,)), ((2, 3, 3), (1,))))
case(fns.einsum_elementwise_sum_, shaped(((2, 3), (2, 3)), ((1, 3), (2, 3)), ((2, 3), (2, 1))))
case(fns.einsum_ellipsis_, shaped(((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 2)), ((1, 2, 3), (2, 3, 2))))
case(fns.einsum_ellipsis_implicit_, shaped(((2, 3), (3,)), ((3,), (3,))))
case(fns.einsum_ellipsis_sum_, unary(shapes=[(2, 3, 2), (3,)]))
case(fns.inv_, unary(well_conditioned, shapes=[(3, 3), (2, 3, 3)]))
case(fns.solve_, lambda rng: [(well_conditioned(rng, (3, 3)), normal(rng, (3,))),
                              (well_conditioned(rng, (3, 3)), normal(rng, (3, 2))),
                              (well_conditioned(rng, (2, 3, 3)), normal(rng, (2, 3, 2)))])
case(fns.det_, unary(well_conditioned, shapes=[(3, 3), (2, 3, 3)]))
case(fns.slogdet_, unary(well_conditioned, shapes=[(3, 3), (2, 3, 3)]))
case(fns.cholesky_, unary(positive_definite, shapes=[(3, 3), (2, 3, 3)]))
case(fns.eigh_, unary(positive_definite, shapes=[(3, 3), (2, 3, 3)]))
case(fns.eigh_upper_, unary(positive_definite, shapes=[(3, 3)]))
case(fns.eigvalsh_, unary(positive_definite, shapes=[(3, 3), (2, 3, 3)]))
case(fns.svd_, unary(separated_singular_values, shapes=[(3, 2), (2, 3), (3, 3), (2, 3, 2)]))
case(fns.svdvals_, unary(separated_singular_values, shapes=[(3, 2), (2, 3)]))
case(fns.svd_values_, unary(separated_singular_values, shapes=[(3, 2), (2, 3), (2, 3, 2)]))
case(fns.nuclear_norm_, unary(separated_singular_values, shapes=[(3, 2), (3, 3)]))
case(fns.svd_full_, unary(separated_singular_values, shapes=[(3, 2), (2, 3), (3, 3), (2, 3, 2)]))
case(fns.qr_r_, unary(separated_singular_values, shapes=[(3, 2), (3, 3), (2, 3, 2)]))
case(fns.qr_r_positional_, unary(separated_singular_values, shapes=[(3, 2)]))
case(fns.qr_complete_, unary(separated_singular_values, shapes=[(3, 2), (3, 3), (2, 3, 2)]))
case(fns.qr_, unary(separated_singular_values, shapes=[(3, 2), (3, 3), (2, 3, 2)]))
case(fns.pinv_, unary(separated_singular_values, shapes=[(3, 2), (2, 3), (3, 3)]))
for _f in (fns.norm_, fns.norm_1_, fns.norm_inf_, fns.norm_minus_inf_, fns.norm_3_,
           fns.norm_half_, fns.norm_minus_1_):
    case(_f, unary(distinct, shapes=[(3,), (4,)]))
case(fns.norm_axis_, unary(distinct, shapes=[(2, 3)]))
for _f in (fns.norm_fro_, fns.norm_1_matrix_, fns.norm_minus_1_matrix_, fns.norm_inf_matrix_,
           fns.norm_minus_inf_matrix_):
    case(_f, unary(distinct, shapes=[(3, 2), (2, 3)]))
for _f in (fns.norm_nuc_, fns.norm_2_matrix_, fns.norm_minus_2_matrix_):
    case(_f, unary(separated_singular_values, shapes=[(3, 2), (3, 3)]))
case(fns.norm_axes_keepdims_, unary(distinct, shapes=[(2, 3, 2)]))


# --- building arrays from Python values, and indexing ------------------------------------------
# np.array of Tensors takes their data out (PyTorch's answer is torch.stack): the transformer only.
case(fns.array_of_values_, unary(shapes=[(3,)]), eager=False)
case(fns.array_of_scalars_, fixed((0.5, 1.2), (-0.7, 0.3)), eager=False, float32=False)
case(fns.array_nested_, unary(shapes=[(3,)]), eager=False)
case(fns.array_of_rows_, shaped(((3,), (3,)), ((2, 2), ())), eager=False)
case(fns.array_comprehension_, unary(shapes=[(3,), (2, 2)]), eager=False)
case(fns.array_loop_, unary(shapes=[(3,)]), eager=False)
case(fns.stack_loop_, unary(shapes=[(3,), (2, 2)]))
case(fns.index_basic_, unary(shapes=[(3, 4)]))
case(fns.index_newaxis_, unary(shapes=[(3,), (2, 3)]))
case(fns.index_fancy_, unary(shapes=[(3, 3)]))
case(fns.index_arrays_, unary(shapes=[(2, 3), (2, 3, 2)]))
case(fns.index_mask_, unary(signed(0.3, 2.0), shapes=[(4,), (2, 3)]))
case(fns.index_ellipsis_, unary(shapes=[(3, 3), (3, 2, 3)]))
case(fns.reshape_family_, unary(shapes=[(2, 3)]))
case(fns.elementwise_family_, binary(uniform(0.5, 2.0), distinct, shapes=[((3,), (3,)), ((2, 3), (3,))]))
case(fns.astype_float64_, unary(), eager=False, float32=False)

# --- NumPy's and the array API's further functions ------------------------------------------
case(fns.multi_dot_, shaped(((2, 3), (3, 3), (3, 2)), ((3,), (3, 2), (2, 3)), ((2, 3), (3, 2), (2,)),
                            ((3,), (3, 3), (3,))))
# np.interp computes in float64 whatever the input.
case(fns.interp_fp_, unary(shapes=[(4,)]), eager=False, float32=False)
case(fns.interp_x_, unary(lambda rng, s: rng.choice([-1.7, -0.6, 0.2, 1.1, 2.6], s) +
                          rng.uniform(-0.05, 0.05, s), shapes=[(5,), (2, 3)]), eager=False,
     float32=False)
case(fns.interp_both_, lambda rng: [(np.array([-1.6, -0.4, 0.3, 1.2, 2.5]), normal(rng, (4,)))],
     eager=False, float32=False)
if hasattr(np, "trapezoid"):  # NumPy 2.0; the Tensor's np.full_like takes no shape, which the
    # weights of a second derivative on the tape need: first order there
    case(fns.trapezoid_, unary(shapes=[(3,), (2, 3)]), eager_second_order=False)
    case(fns.trapezoid_x_, unary(shapes=[(3,), (3, 2)]), float32=False,  # float64 x
         eager_second_order=False)
case(fns.nancumsum_, unary(lambda rng, s: distinct(rng, s) * 0.5 + 0.5, shapes=[(3, 2), (4, 3)]))
if hasattr(np.linalg, "matmul"):  # the array API's forms, NumPy 2.0
    case(fns.linalg_matmul_, shaped(((2, 3), (3, 4)), ((2, 2, 3), (3,))), eager=False)
    case(fns.linalg_outer_, shaped(((3,), (2,))), eager=False)
    case(fns.linalg_trace_, unary(shapes=[(3, 3), (2, 3, 4)]), eager=False)
    case(fns.linalg_diagonal_, unary(shapes=[(3, 3), (2, 4, 3)]), eager=False)
    case(fns.matrix_transpose_, unary(shapes=[(2, 3), (2, 3, 2)]), eager=False, float32=False)

# --- scipy (only where it imports) ------------------------------------------------------------
try:
    import systematic_scipy_cases as sfns
except ImportError:
    sfns = None

if sfns is not None:
    for _f in (sfns.erf_, sfns.erfc_, sfns.erfcx_, sfns.ndtr_, sfns.log_ndtr_, sfns.expit_,
               sfns.log_expit_, sfns.j0_, sfns.i0_, sfns.i0e_, sfns.i1_, sfns.i1e_, sfns.j1_):
        case(_f, unary())
    for _f in (sfns.y0_, sfns.y1_):
        case(_f, unary(uniform(0.5, 3.0)))
    case(sfns.erfinv_, unary(uniform(-0.8, 0.8)))
    case(sfns.erfcinv_, unary(uniform(0.2, 1.8)))
    case(sfns.ndtri_, unary(uniform(0.1, 0.9)))
    case(sfns.logit_, unary(uniform(0.1, 0.9)))
    for _f in (sfns.gammaln_, sfns.gamma_, sfns.rgamma_, sfns.entr_):
        case(_f, unary(uniform(0.5, 3.0)))
    # polygamma is Python code that takes the data out of a Tensor: first order only there.
    # (and scipy.special.polygamma, which their rule calls, is NumPy-only code)
    for _f in (sfns.digamma_, sfns.psi_):
        case(_f, unary(uniform(0.5, 3.0)), eager_second_order=False, duck=False)
    case(sfns.polygamma_, unary(uniform(0.5, 3.0)), eager=False, float32=False)
    for _f in (sfns.betaln_, sfns.beta_, sfns.xlogy_, sfns.xlog1py_):
        case(_f, binary(uniform(0.5, 3.0), uniform(0.5, 3.0)))
    # SciPy functions written in Python (logsumexp, softmax, stats.norm, scipy.linalg) take the
    # data out of a Tensor with np.asarray: their rules serve the transformer, not the tape.
    # scipy.stats computes in float64 whatever the input.
    for _f in (sfns.norm_logpdf_, sfns.norm_logpdf_loc_scale_, sfns.norm_pdf_, sfns.norm_cdf_,
               sfns.norm_logcdf_):
        case(_f, unary(), eager=False, float32=False)
    for _f in (sfns.norm_logpdf_all_, sfns.norm_pdf_all_, sfns.norm_cdf_all_,
               sfns.norm_logcdf_all_):
        case(_f, lambda rng: [(normal(rng, (3,)), normal(rng, ()), uniform(0.5, 2.0)(rng, ())),
                              (normal(rng, (2, 3)), normal(rng, (3,)),
                               uniform(0.5, 2.0)(rng, (2, 1)))], eager=False, float32=False)
    for _f in (sfns.logsumexp_, sfns.softmax_):
        case(_f, unary(), eager=False)
    for _f in (sfns.logsumexp_axis_, sfns.logsumexp_keepdims_, sfns.softmax_axis_,
               sfns.log_softmax_):
        case(_f, unary(shapes=[(3,), (2, 3)]), eager=False)
    case(sfns.logsumexp_weights_, unary(shapes=[(3,), (2, 3)]), eager=False, float32=False)
    case(sfns.linalg_cholesky_, unary(positive_definite, shapes=[(3, 3)]), eager=False)
    case(sfns.linalg_cholesky_lower_, unary(positive_definite, shapes=[(3, 3)]), eager=False)
    for _f in (sfns.solve_triangular_, sfns.solve_triangular_lower_t_, sfns.solve_triangular_unit_):
        case(_f, lambda rng: [(well_conditioned(rng, (3, 3)), normal(rng, (3,))),
                              (well_conditioned(rng, (3, 3)), normal(rng, (3, 2)))], eager=False)


# --- the checks --------------------------------------------------------------------------------

def argument_sets(name):
    spec = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    return [tuple(np.asarray(a, dtype=np.float64) if np.ndim(a) else np.float64(a)
                  for a in args) for args in spec["build"](rng)]


def expand(names):
    return [(name, k) for name in names for k in range(len(argument_sets(name)))]


ALL = expand(sorted(CASES))


def ids(entries):
    return [f"{name}-{k}" for name, k in entries]


SECOND = [e for e in ALL if CASES[e[0]]["second_order"]]
EAGER = [e for e in ALL if CASES[e[0]]["eager"]]
FLOAT32 = [e for e in ALL if CASES[e[0]]["float32"]]


@pytest.mark.parametrize("name, k", ALL, ids=ids(ALL))
def test_reverse_forward_and_value(name, k):
    spec = CASES[name]
    f, args = spec["function"], argument_sets(name)[k]
    rtol, atol = spec["rtol"], spec["atol"]
    positions = tuple(range(len(args)))
    expected = [numerical_gradient(f, args, p) for p in positions]
    value, gradients = sg.value_and_grad(f, wrt=positions)(*args)
    close(value, f(*args), what="value")
    for p in positions:
        close(gradients[p], expected[p], rtol, atol, f"reverse, argument {p}")
    rng = np.random.default_rng(k)
    tangents = tuple(rng.standard_normal(np.shape(a)) for a in args)
    value, tangent = sg.jvp(f, args, tangents)
    close(value, f(*args), what="jvp value")
    dot = sum(float(np.sum(g * t)) for g, t in zip(gradients, tangents))
    close(tangent, dot, 1e-8, 1e-9, "forward against reverse (dot-product test)")


@pytest.mark.parametrize("name, k", SECOND, ids=ids(SECOND))
def test_second_order(name, k):
    spec = CASES[name]
    f, args = spec["function"], argument_sets(name)[k]
    rng = np.random.default_rng(k + 100)
    for p in range(len(args)):
        v = rng.standard_normal(np.shape(args[p]))
        hv = sg.hvp(f, wrt=p)(*args, v)
        gradient = sg.grad(f, wrt=p)
        step = 1e-5
        up = [np.array(a, dtype=np.float64) for a in args]
        down = [np.array(a, dtype=np.float64) for a in args]
        up[p] = up[p] + step * v
        down[p] = down[p] - step * v
        expected = (gradient(*up) - gradient(*down)) / (2 * step)
        close(hv, expected, 1e-4, 1e-5, f"hvp, argument {p}")


@pytest.mark.parametrize("name, k", EAGER, ids=ids(EAGER))
def test_eager_tensor(name, k):
    spec = CASES[name]
    f, args = spec["function"], argument_sets(name)[k]
    inputs = [sg.tensor(a, requires_grad=True) for a in args]
    out = f(*inputs)
    close(np.asarray(out.data), f(*args), what="eager value")
    gradients = sg.autograd.grad(out, inputs, create_graph=spec["eager_second_order"])
    for p, gradient in enumerate(gradients):
        close(gradient.data, numerical_gradient(f, args, p), spec["rtol"], spec["atol"],
              f"eager, argument {p}")
    if not spec["eager_second_order"]:
        return
    rng = np.random.default_rng(k + 200)
    vs = [rng.standard_normal(np.shape(a)) for a in args]
    total = sum(np.sum(g * v) for g, v in zip(gradients, vs))
    second = sg.autograd.grad(total, inputs, allow_unused=True)
    for p in range(len(args)):
        gp = sg.grad(f, wrt=p)
        # the mixed term: d/dx_p sum_q <grad_q f, v_q>, by differences of the gradients
        step = 1e-5
        up = [np.array(a, dtype=np.float64) for a in args]
        down = [np.array(a, dtype=np.float64) for a in args]
        for q in range(len(args)):
            up[q] = up[q] + step * vs[q]
            down[q] = down[q] - step * vs[q]
        expected = (gp(*up) - gp(*down)) / (2 * step)
        actual = 0.0 if second[p] is None else second[p].data
        close(np.broadcast_to(actual, np.shape(args[p])), expected, 1e-4, 1e-5,
              f"eager second order, argument {p}")


@pytest.mark.parametrize("name, k", FLOAT32, ids=ids(FLOAT32))
def test_float32_stays_float32(name, k):
    spec = CASES[name]
    f, args = spec["function"], argument_sets(name)[k]
    args32 = tuple(np.float32(a) if np.ndim(a) == 0 else a.astype(np.float32) for a in args)
    positions = tuple(range(len(args)))
    gradients = sg.grad(f, wrt=positions)(*args32)
    expected = sg.grad(f, wrt=positions)(*args)
    for p in positions:
        assert np.asarray(gradients[p]).dtype == np.float32, (p, np.asarray(gradients[p]).dtype)
        close(gradients[p], expected[p], 2e-3, 2e-3, f"float32, argument {p}")


# --- coverage: every rule is exercised here or in test_rules.py ---------------------------------

def primitives_called(function):
    """The functions and operators a case function applies, resolved in its module."""
    import ast
    import inspect
    import operator
    operators = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                 ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul,
                 ast.Mod: operator.mod, ast.USub: operator.neg}
    found = set()
    for node in ast.walk(ast.parse(inspect.getsource(function))):
        if isinstance(node, ast.Call):
            try:
                found.add(eval(ast.unparse(node.func), vars(inspect.getmodule(function))))
            except Exception:
                pass
        elif isinstance(node, (ast.BinOp, ast.UnaryOp)) and type(node.op) in operators:
            found.add(operators[type(node.op)])
    return found


COVERED = set().union(*(primitives_called(spec["function"]) for spec in CASES.values()))
COVERED |= {PACKED_ARGUMENTS[p][0] for p in list(COVERED) if p in PACKED_ARGUMENTS}
# np.linalg.svd(a, compute_uv=False) ... reach srcgrad as their keyword variants (svd_values ...);
# each variant has cases of its own above (svd_values_, qr_r_, qr_complete_, gradient_axes_).
COVERED |= {v.target for p in list(COVERED) for v in KEYWORD_VARIANTS.get(p, ())}


@functools.lru_cache(maxsize=None)
def runtime_helpers_called_by_rules():
    """Runtime helpers that rules call: generated gradients call them, so the second-order tests
    of those rules go through the helpers' own rules."""
    import inspect
    from srcgrad import runtime
    sources = "\n".join(inspect.getsource(rule.function) for table in (VJP_RULES, JVP_RULES)
                        for rule in table.values())
    functions = {name: f for name, f in vars(runtime).items()
                 if inspect.isfunction(f) and f.__module__ == runtime.__name__}
    helpers, pending = set(), [sources]
    while pending:  # helpers the rules call, and the helpers those call
        text = pending.pop()
        for name, f in functions.items():
            if f not in helpers and f"{name}(" in text:
                helpers.add(f)
                pending.append(inspect.getsource(f))
    return frozenset(helpers | {runtime.add_each})  # generated code adds list adjoints with it


def is_covered(primitive):
    from test_rules import CASES as RULE_CASES
    return (primitive in COVERED or primitive in RULE_CASES
            or primitive in runtime_helpers_called_by_rules())


def test_every_rule_is_covered_here_or_in_test_rules():
    missing = [p for table in (VJP_RULES, JVP_RULES) for p, rule in table.items()
               if rule.function.__module__.startswith("srcgrad.") and not is_covered(p)]
    assert not missing, f"rules no test exercises: {missing}"


# --- dispatch: the generated derivatives run on an array type that is not NumPy's ----------------

@pytest.mark.parametrize("name, k", [e for e in ALL if e[1] == 0], ids=ids([e for e in ALL if e[1] == 0]))
def test_derivative_runs_on_a_duck_array(name, k):
    """Rules call only NumPy functions that dispatch on their arguments (np.zeros_like(x), never
    np.zeros(x.shape); no np.asarray on user data), so a CuPy-like array goes through unchanged.
    Cases whose own code builds NumPy constants (np.arange ...) cannot run on it and are skipped."""
    from test_rules import StrictDuckArray, to_duck, unwrap
    spec = CASES[name]
    if not spec["duck"]:
        pytest.skip("the rule calls SciPy code that works on NumPy arrays only")
    f, args = spec["function"], argument_sets(name)[k]
    duck_args = tuple(to_duck(np.asarray(a)) for a in args)
    try:
        f(*duck_args)
    except (TypeError, ValueError, AttributeError):
        pytest.skip("the case's own code mixes NumPy constants with the array")
    positions = tuple(range(len(args)))
    gradients = sg.grad(f, wrt=positions)(*duck_args)
    expected = sg.grad(f, wrt=positions)(*args)
    for p in positions:
        assert isinstance(gradients[p], StrictDuckArray), (p, type(gradients[p]))
        close(unwrap(gradients[p]), expected[p], 1e-10, 1e-12, f"duck array, argument {p}")


# --- kinks and ties: both engines and both modes pick the same documented subgradient -----------

TIES = [
    # sort: a stable sort, so of tied elements the first stays first
    (fns.sort_weighted_, ([1.0, 3.0, 1.0, 2.0],), [[1.0, 4.0, 2.0, 3.0]]),
    # max: tied maxima share the adjoint evenly
    (fns.max_, ([1.0, 3.0, 3.0],), [[0.0, 0.5, 0.5]]),
    (fns.max_axis_, ([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]],), [[[0.5, 0.5, 0.0], [0.0, 5.0, 5.0]]]),
    # abs: the subgradient 0 at 0
    (fns.abs_sum_, ([-2.0, 0.0, 3.0],), [[-1.0, 0.0, 1.0]]),
    # clip: at a bound, x itself carries the derivative
    (fns.clip_sum_, ([-1.0, 0.0, 1.0, 2.0],), [[1.0, 1.0, 1.0, 0.0]]),
    # maximum: ties split evenly between the arguments
    (fns.maximum_sum_, ([1.0, 2.0], [1.0, 3.0]), [[0.5, 0.0], [0.5, 1.0]]),
    # median: with an even count the two middle values half each; ties share their part
    (fns.median_tie_, ([3.0, 1.0, 2.0, 5.0],), [[0.5, 0.0, 0.5, 0.0]]),
    (fns.median_tie_, ([2.0, 1.0, 2.0, 5.0],), [[0.5, 0.0, 0.5, 0.0]]),
    # ptp: max minus min, each tie split evenly
    (fns.ptp_tie_, ([1.0, 4.0, 1.0, 4.0],), [[-0.5, 0.5, -0.5, 0.5]]),
]


@pytest.mark.parametrize("f, args, expected", TIES, ids=[t[0].__name__ for t in TIES])
def test_kinks_and_ties(f, args, expected):
    args = tuple(np.array(a) for a in args)
    positions = tuple(range(len(args)))
    gradients = sg.grad(f, wrt=positions)(*args)
    for p in positions:
        np.testing.assert_allclose(gradients[p], expected[p], err_msg=f"reverse, argument {p}")
    tangents = tuple(np.linspace(0.5, 1.5, a.size).reshape(a.shape) for a in args)
    _, tangent = sg.jvp(f, args, tangents)
    assert np.isclose(tangent, sum(np.sum(g * t) for g, t in zip(expected, tangents)))
    inputs = [sg.tensor(a, requires_grad=True) for a in args]
    eager = sg.autograd.grad(f(*inputs), inputs)
    for p in positions:
        np.testing.assert_allclose(eager[p].data, expected[p], err_msg=f"eager, argument {p}")


@pytest.mark.parametrize("name, k", SECOND, ids=ids(SECOND))
def test_reverse_over_reverse(name, k):
    """The generated gradient transformed again in reverse mode: sg.grad(sg.grad(f)) for
    numbers, the pullback of sg.vjp(sg.grad(f)) (a Hessian-vector product) for arrays. It goes
    through the rules of the helpers the generated gradient calls."""
    f, args = CASES[name]["function"], argument_sets(name)[k]
    rng = np.random.default_rng(k + 300)
    for p in range(len(args)):
        gradient = sg.grad(f, wrt=p)
        if np.ndim(args[p]) == 0:
            v = 1.0
            second = sg.grad(gradient, wrt=p)(*args)
        else:
            v = rng.standard_normal(np.shape(args[p]))
            _, pullback = sg.vjp(gradient, wrt=p)(*args)
            second = pullback(v)
        step = 1e-5
        up = [np.array(a, dtype=np.float64) for a in args]
        down = [np.array(a, dtype=np.float64) for a in args]
        up[p] = up[p] + step * v
        down[p] = down[p] - step * v
        expected = (gradient(*up) - gradient(*down)) / (2 * step)
        close(second, expected, 1e-4, 1e-5, f"reverse over reverse, argument {p}")


# Cases whose rules go through runtime helpers (index writes, joins, padding, norms ...), where
# Dask, which lacks ufunc.at and assignment through two index arrays, would show a difference.
# Left out: what Dask itself does not do lazily or at all (np.split, np.sort, np.ptp, np.r_,
# most of np.linalg, repeat counts, nested take indices, det on non-square chunks) and its
# np.gradient, which returns a list.
DASK_CASES = ["take_", "take_along_axis_", "diagonal_", "diag_matrix_", "trace_axes_",
              "tile_2d_", "pad_widths_", "vstack_", "dstack_", "append_", "einsum_three_",
              "cumsum_axis_", "cumprod_", "var_axis_", "max_axes_", "norm_axis_", "norm_nuc_",
              "svd_", "select_", "tensordot_lists_", "kron_", "linspace_", "nanmean_",
              "full_like_"]


@pytest.mark.parametrize("name", DASK_CASES)
def test_derivative_runs_on_dask(name):
    da = pytest.importorskip("dask.array")
    spec = CASES[name]
    args = argument_sets(name)[0]
    chunked = tuple(da.from_array(np.asarray(a), chunks=2) for a in args)
    positions = tuple(range(len(args)))
    gradients = sg.grad(spec["function"], wrt=positions)(*chunked)
    expected = sg.grad(spec["function"], wrt=positions)(*args)
    for p in positions:
        assert hasattr(gradients[p], "compute"), type(gradients[p])
        close(gradients[p].compute(), expected[p], 1e-10, 1e-12, f"dask, argument {p}")


# --- the helpers generated gradients call: rules of their own, or walked and checked here --------

def helpers_bound_by_rules():
    """runtime helper -> the primitives whose rules (reverse or forward) call it: the generated
    first derivative binds and calls it, so a second derivative differentiates it."""
    import inspect
    import re
    from srcgrad import runtime
    functions = {name: f for name, f in vars(runtime).items()
                 if inspect.isfunction(f) and f.__module__ == runtime.__name__}
    bound = {}
    for table in (VJP_RULES, JVP_RULES):
        for primitive, rule in table.items():
            if getattr(primitive, "__module__", None) == runtime.__name__:
                continue  # rules of helpers: what they call is reached at the third order
            text = inspect.getsource(rule.function)
            for name, f in functions.items():
                if re.search(rf"(?<![\w.]){name}\(", text):
                    bound.setdefault(f, set()).add(primitive)
    return bound


def test_every_helper_a_gradient_calls_has_rules_or_a_second_order_case():
    """A helper without rules is walked like the user's code at second order: then a rule that
    calls it must have a systematic case checked at second order (both modes over reverse),
    so that walking it is known to work; else it needs rules of its own (reverse and forward)
    or to be declared without derivative (shapes, options)."""
    from srcgrad.rules import NON_DIFFERENTIABLE
    second = set().union(*(primitives_called(CASES[name]["function"]) for name, _ in SECOND))
    second |= {PACKED_ARGUMENTS[p][0] for p in list(second) if p in PACKED_ARGUMENTS}
    missing = {}
    for helper, primitives in helpers_bound_by_rules().items():
        if helper in NON_DIFFERENTIABLE or (helper in VJP_RULES and helper in JVP_RULES):
            continue
        if not primitives & second:
            missing[helper.__name__] = sorted(map(str, primitives))
    assert not missing, f"helpers walked at second order that no case checks: {missing}"


def test_a_helper_has_both_rules_or_none():
    from srcgrad import runtime
    one_sided = [f.__name__ for f in set(VJP_RULES) ^ set(JVP_RULES)
                 if getattr(f, "__module__", None) == runtime.__name__]
    assert not one_sided, one_sided
