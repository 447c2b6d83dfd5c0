"""Every derivative rule in the table against central finite differences, in float64.

Each primitive has one or more case builders: ``builder(draw, rng)`` returns the positional
arguments and keyword options of one call, drawing shapes and axes with hypothesis and values
with a NumPy generator seeded by hypothesis. ``check_rule`` then compares each adjoint the rule
returns with the numerical gradient of ``sum(g * primitive(...))`` with respect to that argument.
Domains avoid the kinks of each function (abs at 0, ties of max); ties get tests of their own.
"""
import ast
import builtins
import inspect
import math
import operator
import os
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from srcgrad.rules import NON_DIFFERENTIABLE, VJP_RULES
from srcgrad.rules.activations import log_softmax, sigmoid, softmax
from srcgrad.runtime import einsum_of as einsum
from srcgrad.rules.shape import astype, item_of, transpose_attribute
from srcgrad.runtime import (broadcast_like, cast_like, copy_of, expand_reduced, ravel_in,
                             reshape_to, shape_of, unbroadcast)

EPS = 1e-6
RTOL, ATOL = 1e-5, 1e-6
# RULE_EXAMPLES=400 python -m pytest tests/rules searches longer than the default run.
EXAMPLES = settings(max_examples=int(os.environ.get("RULE_EXAMPLES", "25")), deadline=None)


# --- the checking helper -------------------------------------------------------------------------

def numerical_gradient(f, x):
    """Central differences of the scalar function ``f`` at the float64 array ``x``."""
    x = np.array(x, dtype=np.float64)
    gradient = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + EPS
        above = f(x.copy())
        x[i] = original - EPS
        below = f(x.copy())
        x[i] = original
        gradient[i] = (above - below) / (2 * EPS)
    return gradient


def random_cotangent(rng, shape):
    """A random adjoint for a result of this shape; a Python float for a scalar, like the seed."""
    if shape == ():
        return float(rng.standard_normal())
    return rng.standard_normal(shape)


def is_float_array(value):
    return isinstance(value, (float, np.floating)) or (
        isinstance(value, np.ndarray) and value.dtype.kind == "f")


def check_rule(primitive, args, options, rng, unchecked=()):
    """Compare the rule of ``primitive`` at ``primitive(*args, **options)`` with finite
    differences, for every argument the rule gives an adjoint (except those named in
    ``unchecked``, whose derivative does not exist at this point)."""
    rule = VJP_RULES[primitive]
    ans = primitive(*args, **options)
    g = random_cotangent(rng, shape_of(ans))

    def objective(name, new_value):
        call_args, call_options = list(args), dict(options)
        position = rule.params.index(name)
        if position < len(call_args):
            call_args[position] = new_value
        else:
            call_options[name] = new_value
        return np.sum(g * primitive(*call_args, **call_options))

    bound = dict(zip(rule.params, args), **options)
    if rule.accumulates:
        # rule(dx, g, ans, x, ...) adds the adjoint of x into dx in place.
        name = rule.differentiable[0]
        dx_before = rng.standard_normal(shape_of(bound[name]))
        dx = dx_before.copy()
        assert rule.function(dx, g, ans, *args, **options) is None
        adjoints = {name: dx - dx_before}
    else:
        returned = rule.function(g, ans, *args, **options)
        if len(rule.differentiable) == 1:
            returned = (returned,)
        assert isinstance(returned, tuple) and len(returned) == len(rule.differentiable)
        adjoints = dict(zip(rule.differentiable, returned))

    checked = 0
    for name, adjoint in adjoints.items():
        value = bound[name]
        if name in unchecked:
            continue
        if adjoint is None:
            assert not is_float_array(value), f"{rule.name} gave no adjoint for float {name}"
            continue
        if isinstance(value, (list, tuple)):  # a sequence parameter: one adjoint per element
            assert len(adjoint) == len(value)
            for k, (element_adjoint, element) in enumerate(zip(adjoint, value)):
                def element_objective(new_element, k=k):
                    elements = list(value)
                    elements[k] = new_element
                    return objective(name, elements)
                assert shape_of(element_adjoint) == shape_of(element)
                np.testing.assert_allclose(element_adjoint,
                                           numerical_gradient(element_objective, element),
                                           rtol=RTOL, atol=ATOL, err_msg=f"{name}[{k}]")
                checked += 1
            continue
        assert shape_of(adjoint) == shape_of(value), (
            f"adjoint of {name} has shape {shape_of(adjoint)}, {name} has {shape_of(value)}")
        np.testing.assert_allclose(adjoint,
                                   numerical_gradient(lambda v: objective(name, v), value),
                                   rtol=RTOL, atol=ATOL, err_msg=name)
        checked += 1
    assert checked, "the case checked no adjoint at all"


# --- drawing inputs ------------------------------------------------------------------------------

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def away_from_zero(rng, shape, low=0.3, high=2.0):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def distinct(rng, shape):
    """Values at least 0.3 apart from each other, so that max and min have no ties."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.5 - size * 0.25 + rng.uniform(-0.1, 0.1, size)).reshape(shape)


def reduction_axis(draw, ndim):
    """None, an int (maybe negative) or a tuple of distinct axes (maybe negative, maybe empty)."""
    if ndim == 0:
        return None
    return draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1), hnp.valid_tuple_axes(ndim)))


CASES = {}  # primitive -> list of builder(draw, rng) -> (args, options[, unchecked names])


def case(*primitives):
    def register(builder):
        for primitive in primitives:
            CASES.setdefault(primitive, []).append(builder)
        return builder
    return register


# --- arithmetic and ufuncs -----------------------------------------------------------------------

def binary_shapes(draw, num_shapes=2):
    return draw(hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=0, max_dims=3,
                                                  max_side=3)).input_shapes


@case(operator.add, np.add, operator.sub, np.subtract, operator.mul, np.multiply,
      np.logaddexp)
def binary_anywhere(draw, rng):
    x_shape, y_shape = binary_shapes(draw)
    return (rng.standard_normal(x_shape), rng.standard_normal(y_shape)), {}


@case(operator.mul, operator.add)
def binary_with_python_scalar(draw, rng):
    x_shape = draw(shapes)
    scalar = float(rng.standard_normal())
    return (rng.standard_normal(x_shape), scalar) if draw(st.booleans()) else (
        scalar, rng.standard_normal(x_shape)), {}


@case(operator.truediv, np.divide, np.true_divide)
def divide_by_nonzero(draw, rng):
    x_shape, y_shape = binary_shapes(draw)
    return (rng.standard_normal(x_shape), away_from_zero(rng, y_shape, 0.5)), {}


@case(operator.pow, np.power)
def power_of_positive(draw, rng):
    x_shape, y_shape = binary_shapes(draw)
    return (rng.uniform(0.5, 2.0, x_shape), rng.uniform(-2.0, 2.0, y_shape)), {}


@case(operator.pow, np.power)
def integer_power_of_any_sign(draw, rng):
    # Only the adjoint of x is checked here: x ** 3 with x < 0 has no real derivative in y.
    x_shape = draw(shapes)
    return (rng.standard_normal(x_shape), 3.0), {}, {"y"}


@case(np.maximum, np.minimum)
def without_ties(draw, rng):
    # x sits at integers + 0.25, y at integers + 0.75 (give or take 0.1): never closer than 0.3.
    x_shape, y_shape = binary_shapes(draw)
    x = rng.integers(-3, 3, x_shape) + 0.25 + rng.uniform(-0.1, 0.1, x_shape)
    y = rng.integers(-3, 3, y_shape) + 0.75 + rng.uniform(-0.1, 0.1, y_shape)
    return (x, y), {}


@case(np.where)
def where(draw, rng):
    condition_shape, x_shape, y_shape = binary_shapes(draw, 3)
    condition = rng.random(condition_shape) < 0.5
    return (condition, rng.standard_normal(x_shape), rng.standard_normal(y_shape)), {}


@case(np.clip)
def clip_away_from_bounds(draw, rng):
    x_shape, low_shape, high_shape = binary_shapes(draw, 3)
    x = rng.choice([-2.5, 0.0, 2.5], size=x_shape) + rng.uniform(-0.4, 0.4, x_shape)
    low = -1.0 + rng.uniform(-0.2, 0.2, low_shape)
    high = 1.0 + rng.uniform(-0.2, 0.2, high_shape)
    return (x, low, high), {}


def unary(*primitives, values):
    @case(*primitives)
    def unary_case(draw, rng):
        return (values(rng, draw(shapes)),), {}
    unary_case.__name__ = "_".join(getattr(p, "__name__", "f") for p in primitives)
    return unary_case


unary(operator.neg, np.negative, operator.pos, np.positive, np.exp, np.expm1, np.sin, np.cos,
      np.tanh, np.arctan, np.sinh, np.cosh, np.square,
      values=lambda rng, shape: rng.standard_normal(shape))
unary(np.log, np.sqrt, np.log1p, values=lambda rng, shape: rng.uniform(0.3, 3.0, shape))
unary(np.tan, values=lambda rng, shape: rng.uniform(-1.2, 1.2, shape))
unary(np.abs, abs, values=away_from_zero)
unary(sigmoid, values=lambda rng, shape: 3 * rng.standard_normal(shape))


@case(softmax, log_softmax)
def softmax_along_an_axis(draw, rng):
    shape = draw(nonscalar_shapes)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return (3 * rng.standard_normal(shape), axis), {}


EINSUM_SPECS = [("ij,jk->ik", [(2, 3), (3, 4)]), ("i,i->", [(3,), (3,)]), ("ij->j", [(2, 3)]),
                ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("i,j->ij", [(2,), (3,)]),
                ("ij,j", [(2, 3), (3,)]), ("ijk,k,j->i", [(2, 3, 4), (4,), (3,)]),
                ("ij->ji", [(2, 3)])]


@case(einsum)
def einsum_products(draw, rng):
    subscripts, operand_shapes = draw(st.sampled_from(EINSUM_SPECS))
    return (subscripts, [rng.standard_normal(shape) for shape in operand_shapes]), {}


# --- Python's functions of numbers (srcgrad/rules/python_numbers.py) ------------------------------

def number(rng, low=-1.5, high=1.5):
    return float(rng.uniform(low, high))


@case(float, math.sin, math.cos, math.exp, math.expm1, math.tanh, math.sinh, math.cosh,
      math.atan, math.erf)
def number_anywhere(draw, rng):
    return (number(rng),), {}


@case(math.log, math.log1p, math.log10, math.log2, math.sqrt)
def positive_number(draw, rng):
    return (number(rng, 0.3, 3.0),), {}


@case(math.tan, math.asin, math.acos)
def number_inside_the_unit_interval(draw, rng):
    return (number(rng, -0.8, 0.8),), {}


@case(math.fabs)
def number_away_from_zero(draw, rng):
    return (float(rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 2.0)),), {}


@case(math.atan2, math.hypot)
def two_numbers(draw, rng):
    return (number(rng, 0.3, 2.0), number(rng, -2.0, 2.0)), {}


@case(math.pow)
def power_of_positive_number(draw, rng):
    return (number(rng, 0.5, 2.0), number(rng)), {}


@case(math.copysign)
def copysign_away_from_zero(draw, rng):
    return (float(rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 2.0)),
            float(rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 2.0))), {}, {"y"}


@case(max, min)
def two_numbers_apart(draw, rng):
    low = number(rng, -2.0, -0.5)
    high = number(rng, 0.5, 2.0)
    return ((low, high) if draw(st.booleans()) else (high, low)), {}


# --- reductions ----------------------------------------------------------------------------------

@case(np.sum, np.mean)
def reduce_anything(draw, rng):
    shape = draw(shapes)
    options = {"axis": reduction_axis(draw, len(shape)), "keepdims": draw(st.booleans())}
    return (rng.standard_normal(shape),), options


@case(np.sum, np.mean, np.max, np.min)
def reduce_with_positional_axis(draw, rng):
    shape = draw(nonscalar_shapes)
    return (distinct(rng, shape), draw(st.integers(-len(shape), len(shape) - 1))), {}


@case(np.prod)
def prod_with_some_zeros(draw, rng):
    # prod is linear in each element, so central differences are exact even at zeros; slices
    # with no zero, one zero and several zeros all come up.
    shape = draw(shapes)
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    x = np.where(rng.random(shape) < draw(st.sampled_from([0.0, 0.2, 0.5])), 0.0, x)
    options = {"axis": reduction_axis(draw, len(shape)), "keepdims": draw(st.booleans())}
    return (x,), options


@case(np.max, np.amax, np.min, np.amin)
def extreme_without_ties(draw, rng):
    shape = draw(shapes)
    options = {"axis": reduction_axis(draw, len(shape)), "keepdims": draw(st.booleans())}
    return (distinct(rng, shape),), options


@pytest.mark.parametrize("reduce", [np.max, np.min])
def test_max_min_split_the_adjoint_evenly_between_ties(reduce):
    rule = VJP_RULES[reduce]
    x = np.array([[1.0, 3.0, 3.0, 0.0],
                  [2.0, 2.0, 2.0, 2.0],
                  [0.0, 5.0, -1.0, -1.0]])
    g = np.array([1.0, 2.0, 3.0])
    dx = rule.function(g, reduce(x, axis=1), x, axis=1)
    is_extreme = x == reduce(x, axis=1, keepdims=True)
    expected = is_extreme * (g / is_extreme.sum(axis=1))[:, None]
    np.testing.assert_allclose(dx, expected)
    # Moving all tied elements together moves the extreme at the same rate: shares sum to g.
    np.testing.assert_allclose(dx.sum(axis=1), g)
    whole = rule.function(1.0, reduce(x), x)
    assert whole.sum() == pytest.approx(1.0)
    assert np.count_nonzero(whole) == np.count_nonzero(x == reduce(x))


def test_prod_adjoint_at_one_and_two_zeros_is_exact():
    rule = VJP_RULES[np.prod]
    x = np.array([[2.0, 0.0, 3.0], [0.0, 4.0, 0.0], [2.0, 3.0, 4.0]])
    dx = rule.function(np.ones(3), np.prod(x, axis=1), x, axis=1)
    np.testing.assert_array_equal(dx, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [12.0, 8.0, 6.0]])
    assert not np.isnan(dx).any()


# --- products and norms --------------------------------------------------------------------------

@st.composite
def matmul_shapes(draw):
    """Shapes of a and b for a @ b: 1-D or 2-D cores, batch axes that broadcast."""
    n, k, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a_batch, b_batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                               max_side=3)).input_shapes
    a_is_vector, b_is_vector = draw(st.booleans()), draw(st.booleans())
    a_shape = (k,) if a_is_vector else a_batch + (n, k)
    b_shape = (k,) if b_is_vector else b_batch + (k, m)
    return a_shape, b_shape


@case(operator.matmul, np.matmul)
def matmul_any(draw, rng):
    a_shape, b_shape = draw(matmul_shapes())
    return (rng.standard_normal(a_shape), rng.standard_normal(b_shape)), {}


@case(np.dot)
def dot_any(draw, rng):
    # np.dot: a scalar operand multiplies; else a's last axis meets b's second to last (or only).
    k = draw(st.integers(1, 3))
    a_shape = draw(st.sampled_from([(), (k,), (2, k), (3, 2, k)]))
    b_shape = draw(st.sampled_from([(), (k,), (k, 2), (2, k, 3)]))
    if a_shape == () and b_shape == ():
        b_shape = (k,)
    return (rng.standard_normal(a_shape), rng.standard_normal(b_shape)), {}


@case(np.outer)
def outer_any(draw, rng):
    return (rng.standard_normal(draw(shapes)), rng.standard_normal(draw(shapes))), {}


VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1.5]
MATRIX_ORDS = [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]


@case(np.linalg.norm)
def vector_norm(draw, rng):
    shape = draw(nonscalar_shapes)
    ord = draw(st.sampled_from(VECTOR_ORDS))
    if len(shape) == 1 and draw(st.booleans()):
        axis = None
    else:
        axis = draw(st.integers(-len(shape), len(shape) - 1))
    x = away_from_zero(rng, shape) if ord not in (np.inf, -np.inf) else distinct(rng, shape)
    return (x,), {"ord": ord, "axis": axis, "keepdims": draw(st.booleans())}


@case(np.linalg.norm)
def matrix_norm(draw, rng):
    ord = draw(st.sampled_from(MATRIX_ORDS))
    if draw(st.booleans()):
        shape, axis = draw(hnp.array_shapes(min_dims=2, max_dims=2, max_side=4)), None
    else:
        shape = draw(hnp.array_shapes(min_dims=3, max_dims=3, max_side=3))
        axis = tuple(draw(st.permutations([0, 1, 2, -1, -2]).map(lambda p: p[:2])))
        if axis[0] % 3 == axis[1] % 3:
            axis = (0, 1)
    # Distinct magnitudes keep column/row sums and singular values apart (almost surely).
    x = away_from_zero(rng, shape) + 0.01 * rng.standard_normal(shape)
    return (x,), {"ord": ord, "axis": axis, "keepdims": draw(st.booleans())}


@case(np.linalg.norm)
def frobenius_of_any_array(draw, rng):
    shape = draw(shapes)
    return (rng.standard_normal(shape),), {"keepdims": draw(st.booleans())}


@pytest.mark.parametrize("ord", [None, 2, 1, np.inf, 3])
def test_norm_of_zero_vector_has_zero_subgradient(ord):
    x = np.zeros(4)
    dx = VJP_RULES[np.linalg.norm].function(1.0, np.linalg.norm(x, ord), x, ord)
    np.testing.assert_array_equal(dx, np.zeros(4))


# --- shapes, joining, indexing -------------------------------------------------------------------

@case(np.reshape, reshape_to)
def reshape_any(draw, rng):
    shape = draw(shapes)
    size = int(np.prod(shape))
    new_shape = draw(st.sampled_from([(size,), (-1,), (1, size), (size, 1, 1), shape[::-1],
                                      (-1, 1)]))
    options = {"order": draw(st.sampled_from(["C", "F"]))}
    if draw(st.booleans()):
        return (rng.standard_normal(shape), new_shape), options
    return (rng.standard_normal(shape),), dict(options, shape=new_shape)  # keyword call binds


@case(np.ravel, ravel_in)
def ravel_any(draw, rng):
    return (rng.standard_normal(draw(shapes)),), {"order": draw(st.sampled_from(["C", "F"]))}


@case(builtins.sum)
def builtin_sum_of_pieces(draw, rng):
    # Python's sum over a list of arrays that broadcast together, as `sum(items)` does.
    shape = draw(shapes)
    pieces = [rng.standard_normal(shape[k:]) for k in range(draw(st.integers(0, len(shape))) + 1)]
    return (pieces,), {}


@case(np.array)
def array_of_pieces(draw, rng):
    shape = draw(shapes)
    if draw(st.booleans()):
        return ([rng.standard_normal(shape) for _ in range(draw(st.integers(1, 3)))],), {}
    return (rng.standard_normal(shape),), {}


@case(unbroadcast)
def unbroadcast_to_smaller(draw, rng):
    value_shape = draw(shapes)
    dropped = draw(st.integers(0, len(value_shape)))
    like_shape = tuple(1 if draw(st.booleans()) else n for n in value_shape[dropped:])
    return (rng.standard_normal(value_shape), rng.standard_normal(like_shape)), {}, {"like"}


@case(broadcast_like)
def broadcast_like_larger(draw, rng):
    like_shape = draw(shapes)
    dropped = draw(st.integers(0, len(like_shape)))
    term_shape = tuple(1 if draw(st.booleans()) else n for n in like_shape[dropped:])
    return (rng.standard_normal(term_shape), rng.standard_normal(like_shape)), {}, {"like"}


@case(expand_reduced)
def expand_reduced_any(draw, rng):
    like_shape = draw(nonscalar_shapes)
    axis = draw(st.one_of(st.none(), st.integers(-len(like_shape), len(like_shape) - 1)))
    keepdims = draw(st.booleans())
    reduced_shape = np.shape(np.sum(np.zeros(like_shape), axis=axis, keepdims=keepdims))
    args = (rng.standard_normal(reduced_shape), rng.standard_normal(like_shape), axis, keepdims)
    return args, {}, {"like", "axis", "keepdims"}


@case(cast_like)
def cast_like_same_kind(draw, rng):
    shape = draw(shapes)
    return (rng.standard_normal(shape), rng.standard_normal(shape)), {}, {"like"}


@case(np.copy, copy_of)
def copy_any(draw, rng):
    return (rng.standard_normal(draw(shapes)),), {}


@case(astype)
def astype_to_float(draw, rng):
    # The dtype is an option in the eyes of the check: only the array gets an adjoint.
    return (rng.standard_normal(draw(shapes)), np.float64), {}, {"dtype"}


@case(item_of)
def item_of_one_element(draw, rng):
    shape = draw(st.sampled_from([(), (1,), (1, 1)]))
    return (rng.standard_normal(shape),), {}


@case(np.transpose)
def transpose_any(draw, rng):
    shape = draw(shapes)
    axes = draw(st.one_of(st.none(), st.permutations(range(len(shape))).map(tuple)))
    if axes is not None and axes and draw(st.booleans()):
        axes = tuple(axis - len(shape) for axis in axes)  # negative axes
    return (rng.standard_normal(shape),), {"axes": axes}


@case(transpose_attribute)
def transpose_attribute_any(draw, rng):
    return (rng.standard_normal(draw(shapes)),), {}


@case(np.swapaxes)
def swapaxes_any(draw, rng):
    shape = draw(nonscalar_shapes)
    axes = st.integers(-len(shape), len(shape) - 1)
    return (rng.standard_normal(shape), draw(axes), draw(axes)), {}


@case(np.moveaxis)
def moveaxis_any(draw, rng):
    shape = draw(nonscalar_shapes)
    source = draw(hnp.valid_tuple_axes(len(shape)))
    destination = draw(st.permutations(range(len(shape))).map(lambda p: tuple(p[:len(source)])))
    return (rng.standard_normal(shape), source, destination), {}


@case(np.squeeze)
def squeeze_some(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = draw(st.one_of(st.none(), st.lists(st.sampled_from(ones), unique=True).map(tuple)
                          if ones else st.none()))
    if axis is not None and len(axis) == 1 and draw(st.booleans()):
        axis = axis[0] - len(shape)  # a single negative int
    return (rng.standard_normal(shape),), {"axis": axis}


@case(np.expand_dims)
def expand_dims_any(draw, rng):
    shape = draw(shapes)
    axis = draw(st.one_of(st.integers(-len(shape) - 1, len(shape)),
                          hnp.valid_tuple_axes(len(shape) + 2, min_size=2, max_size=2)))
    return (rng.standard_normal(shape), axis), {}


@case(np.broadcast_to)
def broadcast_to_larger(draw, rng):
    target = draw(shapes)
    dropped = draw(st.integers(0, len(target)))
    shape = tuple(1 if draw(st.booleans()) else n for n in target[dropped:])
    return (rng.standard_normal(shape), target), {}


@case(np.flip)
def flip_any(draw, rng):
    shape = draw(shapes)
    return (rng.standard_normal(shape),), {"axis": reduction_axis(draw, len(shape))}


@case(np.concatenate)
def concatenate_pieces(draw, rng):
    shape = draw(nonscalar_shapes)
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        piece_shape = list(shape)
        if axis is not None:
            piece_shape[axis] = draw(st.integers(1, 3))
        else:
            piece_shape = draw(shapes)  # axis None flattens: any shapes join
        pieces.append(rng.standard_normal(piece_shape))
    if draw(st.booleans()):
        return (pieces,), {"axis": axis}
    return (pieces, axis), {}


@case(np.stack)
def stack_pieces(draw, rng):
    shape = draw(shapes)
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    pieces = [rng.standard_normal(shape) for _ in range(draw(st.integers(1, 3)))]
    return (pieces,), {"axis": axis}


@st.composite
def indices(draw, shape):
    """Basic (slices, ints, Ellipsis, None) and fancy (int arrays with repeats, masks) indices."""
    kinds = ["basic", "int", "fancy", "mask"] + (["fancy+slice"] if len(shape) >= 2 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "basic":
        return draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "int":
        return draw(st.integers(-shape[0], shape[0] - 1))
    if kind == "fancy":  # repeats accumulate
        return np.array(draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1,
                                      max_size=6)))
    if kind == "mask":
        return np.array(draw(st.lists(st.booleans(), min_size=shape[0], max_size=shape[0])))
    rows = np.array(draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5)))
    return (rows, slice(None, None, draw(st.sampled_from([1, -1, 2]))))


@case(operator.getitem)
def getitem_any(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    return (rng.standard_normal(shape), draw(indices(shape))), {}


def test_getitem_accumulates_repeated_fancy_indices():
    x = np.arange(4.0)
    dx = np.zeros(4)
    g = np.array([1.0, 10.0, 100.0, 1000.0])
    VJP_RULES[operator.getitem].function(dx, g, x[[2, 0, 2, 2]], x, np.array([2, 0, 2, 2]))
    np.testing.assert_array_equal(dx, [10.0, 0.0, 1101.0, 0.0])


# --- the tests -----------------------------------------------------------------------------------

def case_id(entry):
    primitive, builder = entry
    module = getattr(primitive, "__module__", None) or "numpy"
    return f"{module}.{getattr(primitive, '__name__', primitive)}-{builder.__name__}"


ALL_CASES = [(primitive, builder) for primitive, builders in CASES.items()
             for builder in builders]


@pytest.mark.parametrize("primitive, builder", ALL_CASES, ids=[case_id(c) for c in ALL_CASES])
@EXAMPLES
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_rule_matches_finite_differences(primitive, builder, data, seed):
    rng = np.random.default_rng(seed)
    args, options, *unchecked = builder(data.draw, rng)
    check_rule(primitive, args, options, rng, *unchecked)


def test_every_rule_has_a_case():
    # Rules users register in other tests (srcgrad.defvjp) are theirs to test; the others have a
    # case here or in test_systematic.py (which goes through both engines).
    from test_systematic import is_covered
    missing = [primitive for primitive, rule in VJP_RULES.items()
               if not is_covered(primitive) and rule.function.__module__.startswith("srcgrad.")]
    assert not missing, f"rules without a finite-difference case: {missing}"


def test_no_function_is_both_differentiable_and_not():
    assert not [f for f in VJP_RULES if f in NON_DIFFERENTIABLE]


@pytest.mark.parametrize("rule", sorted({id(r): r for r in VJP_RULES.values()}.values(),
                                        key=lambda r: r.name), ids=lambda r: r.name)
def test_rule_body_is_straight_line_and_its_names_resolve(rule):
    """The transformer inlines rule bodies: assignments, then one return (or, for an
    accumulating rule, calls); every free name must come from the rule's module or builtins."""
    body = rule.tree.body
    if rule.accumulates:  # statements that add into dx, no return
        assert all(type(s).__name__ in ("Expr", "Assign") for s in body), rule.name
    else:
        assert type(body[-1]).__name__ == "Return", rule.name
        for statement in body[:-1]:
            assert type(statement).__name__ == "Assign", rule.name
            assert len(statement.targets) == 1 and type(statement.targets[0]).__name__ == "Name"
    tree = ast.parse(textwrap.dedent(inspect.getsource(rule.function)))
    parameters = {a.arg for a in tree.body[0].args.args}
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree.body[0]):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            name = node.id
            assert (name in parameters or name in assigned or name in rule.namespace
                    or hasattr(builtins, name)), f"{rule.name}: unknown name {name}"


# --- dispatch: rules run unchanged on a foreign array type ---------------------------------------

class StrictDuckArray(np.lib.mixins.NDArrayOperatorsMixin):
    """An array type that, like CuPy, reaches NumPy functions only through
    ``__array_ufunc__``/``__array_function__`` and refuses to mix with or turn into a plain
    ndarray: a rule that builds an array from a shape (np.zeros(x.shape)) or calls np.asarray
    on user data fails on it."""

    def __init__(self, data):
        self.data = data

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)
    T = property(lambda self: StrictDuckArray(self.data.T))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("implicit conversion of a duck array to a NumPy array")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        result = getattr(ufunc, method)(*unwrap(inputs), **unwrap(kwargs))
        return wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        return wrap(func(*unwrap(args), **unwrap(kwargs)))

    def __getitem__(self, index):
        return wrap(self.data[unwrap(index)])

    def __setitem__(self, index, value):  # CuPy arrays take item assignment too
        self.data[unwrap(index)] = unwrap(value)

    def __iter__(self):
        return (wrap(row) for row in self.data)

    def __len__(self):
        return len(self.data)

    def astype(self, dtype, copy=True):  # CuPy and Dask arrays have this method too
        return wrap(self.data.astype(dtype, copy=copy))

    def item(self):  # and this
        return self.data.item()


def unwrap(value):
    if isinstance(value, StrictDuckArray):
        return value.data
    if isinstance(value, np.ndarray):
        raise TypeError("a plain NumPy array met a duck array")
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    return value


def wrap(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return StrictDuckArray(np.asarray(value))
    if isinstance(value, list):
        return [wrap(v) for v in value]
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    return value


def to_duck(value):
    """Every ndarray inside ``value`` (arrays, indices, lists of arrays) as a duck array."""
    if isinstance(value, (np.ndarray, np.generic)):
        return StrictDuckArray(np.asarray(value))
    if isinstance(value, (list, tuple)):
        return type(value)(to_duck(v) for v in value)
    return value


def assert_same_adjoint(duck_adjoint, adjoint):
    if adjoint is None:
        assert duck_adjoint is None
    elif isinstance(adjoint, (list, tuple)):
        assert len(duck_adjoint) == len(adjoint)
        for d, a in zip(duck_adjoint, adjoint):
            assert_same_adjoint(d, a)
    else:
        assert isinstance(duck_adjoint, StrictDuckArray) or not isinstance(adjoint, np.ndarray)
        np.testing.assert_allclose(unwrap(duck_adjoint), adjoint, rtol=1e-12, atol=1e-12)


# np.array builds a NumPy array from whatever it is given (it does not dispatch), so only its
# rule, not the primitive, could keep a duck array's type; it is left out here.
# Python's functions of numbers (math.*, float, max, min) take numbers, not arrays; x.item()
# makes a Python number of any array.
PYTHON_NUMBER_FUNCTIONS = {float, max, min, item_of} | {f for f in vars(math).values() if callable(f)}
DISPATCHING_CASES = [(p, b) for p, b in ALL_CASES
                     if p is not np.array and p not in PYTHON_NUMBER_FUNCTIONS]


@pytest.mark.parametrize("primitive, builder", DISPATCHING_CASES,
                         ids=[case_id(c) for c in DISPATCHING_CASES])
@settings(max_examples=3, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_rule_runs_on_a_duck_array(primitive, builder, data, seed):
    rule = VJP_RULES[primitive]
    rng = np.random.default_rng(seed)
    args, options, *_ = builder(data.draw, rng)
    ans = primitive(*args, **options)
    g = rng.standard_normal(shape_of(ans))
    duck_args, duck_g, duck_ans = to_duck(args), to_duck(np.asarray(g)), wrap(ans)
    assert isinstance(primitive(*duck_args, **options), StrictDuckArray)
    if rule.accumulates:
        dx = rng.standard_normal(shape_of(args[0]))
        duck_dx = StrictDuckArray(dx.copy())
        rule.function(duck_dx, duck_g, duck_ans, *duck_args, **options)
        rule.function(dx, g, ans, *args, **options)
        np.testing.assert_allclose(duck_dx.data, dx, rtol=1e-12, atol=1e-12)
        return
    assert_same_adjoint(rule.function(duck_g, duck_ans, *duck_args, **options),
                        rule.function(g, ans, *args, **options))


@pytest.mark.parametrize("primitive, args", [
    (np.sum, (np.arange(1.0, 4.0),)),
    (np.mean, (np.arange(1.0, 4.0),)),
    (np.prod, (np.arange(1.0, 4.0),)),
    (np.max, (np.arange(1.0, 4.0),)),
    (operator.matmul, (np.arange(1.0, 4.0), np.arange(2.0, 5.0))),
    (np.dot, (np.arange(1.0, 4.0), np.arange(2.0, 5.0))),
    (np.linalg.norm, (np.arange(1.0, 4.0),)),
], ids=lambda p: getattr(p, "__name__", ""))
def test_python_number_adjoint_of_scalar_output_keeps_the_array_type(primitive, args):
    """A scalar output's adjoint may be a plain Python number; the rule must still answer with
    arrays of the input's kind."""
    rule = VJP_RULES[primitive]
    duck_args = to_duck(args)
    adjoints = rule.function(1.0, wrap(primitive(*args)), *duck_args)
    expected = rule.function(1.0, primitive(*args), *args)
    assert_same_adjoint(adjoints, expected)
