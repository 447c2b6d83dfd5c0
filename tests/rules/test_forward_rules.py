"""Every forward-mode rule (jvp) against central differences along a random direction, and
against its reverse rule by the dot-product test ``<jvp(v), w> == sum_i <v_i, vjp_i(w)>``.

The cases are those of test_rules.py (same builders, same domains away from kinks). The
dot-product test also runs at ties and kinks (maximum at x == y, max of tied elements, clip at
its bounds, abs and norms at zero), where finite differences do not apply but forward and reverse
rules must still pick the same subgradient.
"""
import ast
import builtins
import inspect
import operator
import os
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from srcgrad.rules import JVP_RULES, VJP_RULES, ForwardRule, forward_rule_for, jvp
from srcgrad.runtime import broadcast_like, shape_of
from test_rules import (ATOL, CASES, RTOL, StrictDuckArray, binary_shapes, case_id,
                        random_cotangent, to_duck, unwrap, wrap)

EPS = 1e-6
DOT_RTOL = 1e-10
# Drawing a case costs ten times more than checking it; fewer draws than test_rules.py keep this
# file under 20 s. RULE_EXAMPLES=400 python -m pytest tests/rules searches longer.
EXAMPLES = settings(max_examples=int(os.environ.get("RULE_EXAMPLES", "15")), deadline=None)


# --- the checking helpers ------------------------------------------------------------------------

def random_like(rng, value):
    """A random direction with the structure of ``value``: a list for a list, a Python float for a
    Python number, else an array of its shape."""
    if isinstance(value, (list, tuple)):
        return [random_like(rng, item) for item in value]
    if not hasattr(value, "shape"):
        return float(rng.standard_normal())
    return rng.standard_normal(shape_of(value))


def moved(value, direction, step):
    if isinstance(value, (list, tuple)):
        return [moved(v, d, step) for v, d in zip(value, direction)]
    return value + step * direction


def inner(a, b):
    """<a, b> summed over every element (and over every element of a list)."""
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        return builtins.sum(inner(x, y) for x, y in zip(a, b))
    return float(np.sum(np.multiply(a, b)))


def magnitude(a, b):
    """<|a|, |b|>: the scale against which an inner product's rounding is measured."""
    if isinstance(a, (list, tuple)):
        return builtins.sum(magnitude(x, y) for x, y in zip(a, b))
    return float(np.sum(np.abs(a) * np.abs(b)))


class Call:
    """One call ``primitive(*args, **options)`` and its forward rule, with arguments by name."""

    def __init__(self, primitive, args, options):
        self.primitive, self.args, self.options = primitive, list(args), dict(options)
        self.rule = JVP_RULES[primitive]
        self.bound = dict(zip(self.rule.params, args), **options)
        self.ans = primitive(*args, **options)

    def with_values(self, values):
        """The primitive's result with the named arguments replaced."""
        args, options = list(self.args), dict(self.options)
        for name, value in values.items():
            position = self.rule.params.index(name)
            if position < len(args):
                args[position] = value
            else:
                options[name] = value
        return self.primitive(*args, **options)

    def terms(self, tangents):
        """The forward rule's terms, one per tangent, by parameter name; each has ans's shape."""
        keywords = {"d" + name: tangents[name] for name in self.rule.differentiable}
        returned = self.rule.function(self.ans, *self.args, **self.options, **keywords)
        if len(self.rule.differentiable) == 1:
            returned = (returned,)
        assert isinstance(returned, tuple) and len(returned) == len(self.rule.differentiable)
        for name, term in zip(self.rule.differentiable, returned):
            assert shape_of(term) == shape_of(self.ans), (
                f"{self.rule.name}: the term of d{name} has shape {shape_of(term)}, "
                f"ans has {shape_of(self.ans)}")
        return dict(zip(self.rule.differentiable, returned))

    def adjoints(self, g):
        """The reverse rule's adjoints at the same point, by parameter name."""
        rule = VJP_RULES[self.primitive]
        if rule.accumulates:
            name = rule.differentiable[0]
            dx = np.zeros_like(self.bound[name], dtype=np.float64)
            rule.function(dx, g, self.ans, *self.args, **self.options)
            return {name: dx}
        returned = rule.function(g, self.ans, *self.args, **self.options)
        if len(rule.differentiable) == 1:
            returned = (returned,)
        return dict(zip(rule.differentiable, returned))


def check_against_finite_differences(call, rng, unchecked=()):
    """The sum of the terms along a random direction of every checked differentiable argument,
    all moved together, against central differences of the primitive along that direction."""
    names = [name for name in call.rule.differentiable if name not in unchecked]
    assert names, "the case checks no tangent at all"
    directions = {name: random_like(rng, call.bound[name]) for name in names}
    terms = call.terms(dict(directions, **{
        name: random_like(rng, call.bound[name]) for name in unchecked
        if name in call.rule.differentiable}))
    tangent = builtins.sum(terms[name] for name in names)
    above = call.with_values({n: moved(call.bound[n], directions[n], EPS) for n in names})
    below = call.with_values({n: moved(call.bound[n], directions[n], -EPS) for n in names})
    np.testing.assert_allclose(tangent, (above - below) / (2 * EPS), rtol=RTOL, atol=ATOL,
                               err_msg=f"{call.rule.name} along {names}")


def check_against_reverse_rule(call, rng):
    """``<jvp(v), w> == sum_i <v_i, vjp_i(w)>`` for random v and w, each tangent on its own."""
    w = random_cotangent(rng, shape_of(call.ans))
    adjoints = call.adjoints(w)
    directions = {name: random_like(rng, call.bound[name]) for name in call.rule.differentiable}
    terms = call.terms(directions)
    for name in call.rule.differentiable:
        adjoint = adjoints[name]
        assert adjoint is not None, f"the reverse rule gives no adjoint for {name}"
        forward, reverse = inner(terms[name], w), inner(directions[name], adjoint)
        scale = max(magnitude(terms[name], w), magnitude(directions[name], adjoint))
        assert abs(forward - reverse) <= DOT_RTOL * scale, (
            f"{call.rule.name}, d{name}: <jvp(v), w> = {forward!r} but <v, vjp(w)> = {reverse!r}")


# --- the table is complete and consistent --------------------------------------------------------

def srcgrad_rules(table):
    # Rules users register in other tests (srcgrad.defvjp) are theirs to test.
    return {p: r for p, r in table.items() if r.function.__module__.startswith("srcgrad.")}


def test_every_reverse_rule_has_a_forward_rule():
    missing = [p for p in srcgrad_rules(VJP_RULES) if forward_rule_for(p) is None]
    assert not missing, f"primitives without a forward rule: {missing}"


def test_every_forward_rule_has_a_case():
    from test_systematic import is_covered
    missing = [p for p in srcgrad_rules(JVP_RULES) if not is_covered(p)]
    assert not missing, f"forward rules without a case: {missing}"


FORWARD_RULES = sorted({id(r): r for r in srcgrad_rules(JVP_RULES).values()}.values(),
                       key=lambda r: r.name)


def primitive_id(primitive):
    module = getattr(primitive, "__module__", None) or "numpy"
    return f"{module}.{getattr(primitive, '__name__', primitive)}"


@pytest.mark.parametrize("primitive", list(srcgrad_rules(JVP_RULES)), ids=primitive_id)
def test_forward_rule_names_the_parameters_as_the_reverse_rule_does(primitive):
    forward, reverse = JVP_RULES[primitive], VJP_RULES[primitive]
    assert isinstance(forward, ForwardRule)
    assert forward.params == reverse.params, forward.name
    assert forward.defaults == reverse.defaults, forward.name
    assert set(forward.differentiable) <= set(reverse.differentiable), forward.name


@pytest.mark.parametrize("rule", FORWARD_RULES, ids=lambda r: r.name)
def test_forward_rule_body_is_straight_line_and_its_names_resolve(rule):
    """The transformer inlines rule bodies: assignments, then one return; every free name must
    come from the rule's module or builtins."""
    body = rule.tree.body
    assert type(body[-1]).__name__ == "Return", rule.name
    for statement in body[:-1]:
        assert type(statement).__name__ == "Assign", rule.name
        assert len(statement.targets) == 1 and type(statement.targets[0]).__name__ == "Name"
    tree = ast.parse(textwrap.dedent(inspect.getsource(rule.function))).body[0]
    parameters = {a.arg for a in tree.args.args + tree.args.kwonlyargs}
    assert {a.arg for a in tree.args.kwonlyargs} == set(rule.tangents)
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            assert (node.id in parameters or node.id in assigned or node.id in rule.namespace
                    or hasattr(builtins, node.id)), f"{rule.name}: unknown name {node.id}"


def test_registration_checks_the_tangent_parameters():
    def primitive(x, y, axis=0):
        return x

    with pytest.raises(TypeError, match="start with"):
        jvp(primitive)(lambda x, *, dx: dx)
    with pytest.raises(TypeError, match="no keyword-only tangent"):
        jvp(primitive)(lambda ans, x, y, axis=0: x)
    with pytest.raises(TypeError, match="'dz' is not 'd' \\+ one of"):
        jvp(primitive)(lambda ans, x, y, axis=0, *, dz: dz)
    with pytest.raises(TypeError, match="option"):
        jvp(primitive)(lambda ans, x, y, axis=0, *, daxis: daxis)
    with pytest.raises(TypeError, match="order"):
        jvp(primitive)(lambda ans, x, y, axis=0, *, dy, dx: (dy, dx))
    assert primitive not in JVP_RULES

    def only_y(ans, x, y, axis=0, *, dy):
        return dy

    jvp(primitive)(only_y)
    try:
        rule = forward_rule_for(primitive)
        assert (rule.params, rule.differentiable, rule.tangents) == (
            ("x", "y", "axis"), ("y",), ("dy",))
        assert rule.defaults == {"axis": 0}
    finally:
        del JVP_RULES[primitive]
    assert forward_rule_for([]) is None  # unhashable: no rule, no error


# --- every case of test_rules.py -----------------------------------------------------------------

FORWARD_CASES = [(primitive, builder) for primitive in srcgrad_rules(JVP_RULES)
                 for builder in CASES.get(primitive, [])]
FORWARD_CASE_IDS = [case_id(c) for c in FORWARD_CASES]


@pytest.mark.parametrize("primitive, builder", FORWARD_CASES, ids=FORWARD_CASE_IDS)
@EXAMPLES
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_forward_rule_matches_finite_differences_and_the_reverse_rule(primitive, builder, data,
                                                                      seed):
    # One test for both checks: drawing the case costs more than checking it.
    rng = np.random.default_rng(seed)
    args, options, *unchecked = builder(data.draw, rng)
    call = Call(primitive, args, options)
    check_against_finite_differences(call, rng, *unchecked)
    check_against_reverse_rule(call, rng)


# --- ties and kinks: forward and reverse pick the same subgradient -------------------------------

TIE_CASES = {}


def tie_case(*primitives):
    def register(builder):
        for primitive in primitives:
            TIE_CASES.setdefault(primitive, []).append(builder)
        return builder
    return register


@tie_case(np.maximum, np.minimum)
def elementwise_ties(draw, rng):
    x_shape, y_shape = binary_shapes(draw)
    return (rng.integers(-1, 2, x_shape) * 1.0, rng.integers(-1, 2, y_shape) * 1.0), {}


@tie_case(np.max, np.amax, np.min, np.amin)
def reduction_ties(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.one_of(st.none(), hnp.valid_tuple_axes(len(shape))))
    return (rng.integers(0, 3, shape) * 1.0,), {"axis": axis, "keepdims": draw(st.booleans())}


@tie_case(np.clip)
def clip_at_bounds(draw, rng):
    x_shape, low_shape, high_shape = binary_shapes(draw, 3)
    x = rng.choice([-1.0, -0.5, 0.0, 1.0, 2.0], size=x_shape)
    return (x, np.full(low_shape, -1.0), np.full(high_shape, 1.0)), {}


@tie_case(np.abs, abs)
def abs_at_zero(draw, rng):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4))
    return (rng.integers(-1, 2, shape) * 1.0,), {}


@tie_case(np.linalg.norm)
def norm_at_kinks(draw, rng):
    if draw(st.booleans()):  # vectors with zeros and tied magnitudes, or the zero vector
        shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4))
        x = rng.integers(-1, 2, shape) * (0.0 if draw(st.booleans()) else 1.0)
        ord = draw(st.sampled_from([None, 2, 1, np.inf, -np.inf, 0, 3]))
        return (x,), {"ord": ord, "axis": -1, "keepdims": draw(st.booleans())}
    # matrices whose row or column sums tie
    x = rng.choice([-1.0, 1.0], size=draw(st.sampled_from([(2, 2), (3, 2), (2, 3)])))
    ord = draw(st.sampled_from([1, -1, np.inf, -np.inf]))
    return (x,), {"ord": ord, "keepdims": draw(st.booleans())}


TIE_ENTRIES = [(p, b) for p, builders in TIE_CASES.items() for b in builders]


@pytest.mark.parametrize("primitive, builder", TIE_ENTRIES, ids=[case_id(c) for c in TIE_ENTRIES])
@EXAMPLES
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_forward_and_reverse_rules_agree_at_ties_and_kinks(primitive, builder, data, seed):
    rng = np.random.default_rng(seed)
    args, options = builder(data.draw, rng)
    check_against_reverse_rule(Call(primitive, args, options), rng)


# --- closed forms --------------------------------------------------------------------------------

def test_power_carries_the_derivative_of_the_exponent():
    # d/dy 2**y = 2**y log 2, the term a forward mode that only differentiates the base drops.
    y = np.array([-1.0, 0.0, 0.5, 3.0])
    ans = 2.0 ** y
    base_term, exponent_term = JVP_RULES[operator.pow].function(ans, 2.0, y, dx=0.0,
                                                                dy=np.ones(4))
    np.testing.assert_allclose(exponent_term, 2.0 ** y * np.log(2.0))
    np.testing.assert_array_equal(base_term, np.zeros(4))


@pytest.mark.parametrize("reduce", [np.max, np.min])
def test_max_min_move_with_the_mean_tangent_of_their_ties(reduce):
    x = np.array([[1.0, 3.0, 3.0, 0.0],
                  [2.0, 2.0, 2.0, 2.0],
                  [0.0, 5.0, -1.0, -1.0]])
    dx = np.arange(12.0).reshape(3, 4)
    tangent = JVP_RULES[reduce].function(reduce(x, axis=1), x, axis=1, da=dx)
    expected = [1.5, 5.5, 9.0] if reduce is np.max else [3.0, 5.5, 10.5]
    np.testing.assert_allclose(tangent, expected)


def test_prod_tangent_at_one_and_two_zeros_is_exact():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 4.0, 0.0], [2.0, 3.0, 4.0]])
    dx = np.ones_like(x)
    tangent = JVP_RULES[np.prod].function(np.prod(x, axis=1), x, axis=1, da=dx)
    np.testing.assert_array_equal(tangent, [6.0, 0.0, 26.0])


@pytest.mark.parametrize("ord", [None, 2, 1, np.inf, 3])
def test_norm_of_zero_vector_has_zero_tangent(ord):
    x = np.zeros(4)
    tangent = JVP_RULES[np.linalg.norm].function(np.linalg.norm(x, ord), x, ord, dx=np.ones(4))
    assert tangent == 0.0


def test_broadcast_like_keeps_the_dtype_of_ans_for_a_number():
    ans = np.ones((2, 3), dtype=np.float32)
    term = broadcast_like(0.5, ans)
    assert term.shape == (2, 3) and term.dtype == np.float32
    stretched = broadcast_like(np.arange(3.0), ans)
    assert stretched.shape == (2, 3)
    same = np.ones((2, 3))
    assert broadcast_like(same, ans) is same
    assert broadcast_like(2.0, 1.5) == 2.0  # a scalar result keeps a scalar term


# --- dispatch: forward rules run unchanged on a foreign array type -------------------------------

def assert_same_term(duck_term, term):
    assert isinstance(duck_term, StrictDuckArray) or not isinstance(term, np.ndarray)
    np.testing.assert_allclose(unwrap(duck_term), term, rtol=1e-12, atol=1e-12)


# np.array builds a NumPy array from whatever it is given (see test_rules.py).
DISPATCHING_CASES = [(p, b) for p, b in FORWARD_CASES if p is not np.array]


@pytest.mark.parametrize("primitive, builder", DISPATCHING_CASES,
                         ids=[case_id(c) for c in DISPATCHING_CASES])
@settings(max_examples=2, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_forward_rule_runs_on_a_duck_array(primitive, builder, data, seed):
    rng = np.random.default_rng(seed)
    args, options, *_ = builder(data.draw, rng)
    call = Call(primitive, args, options)
    tangents = {name: random_like(rng, call.bound[name]) for name in call.rule.differentiable}
    keywords = {"d" + name: t for name, t in tangents.items()}
    duck_keywords = {"d" + name: to_duck(t) for name, t in tangents.items()}
    duck_ans = wrap(call.ans)
    returned = call.rule.function(call.ans, *args, **options, **keywords)
    duck_returned = call.rule.function(duck_ans, *to_duck(args), **options, **duck_keywords)
    if len(call.rule.differentiable) == 1:
        returned, duck_returned = (returned,), (duck_returned,)
    for duck_term, term in zip(duck_returned, returned):
        assert_same_term(duck_term, term)
