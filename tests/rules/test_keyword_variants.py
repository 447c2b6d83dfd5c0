"""Calls whose result changes structure with an option, routed to a rule of their own by the
option's literal value (rules.registry.keyword_variant): np.linalg.svd(a, compute_uv=False),
np.linalg.qr(a, mode="r" / "complete"), np.gradient(f, axis=(i, j)). Their derivatives are
checked with every other rule in test_systematic.py (svd_values_, qr_r_, gradient_axes_ ...);
this file pins the routing and the refusals."""
import numpy as np
import pytest

import srcgrad as sg
from srcgrad.rules.registry import KEYWORD_VARIANTS, keyword_variant, variant_call
from srcgrad.runtime import gradients_along, qr_complete, qr_r, svd_values

RNG = np.random.default_rng(0)
TALL = RNG.standard_normal((4, 3))
WIDE = TALL.T.copy()


def test_routing_by_keyword_position_and_default():
    svd, qr = np.linalg.svd, np.linalg.qr
    assert variant_call(svd, (TALL,), {"compute_uv": False})[:2] == (svd_values, (TALL,))
    # positional options: those after the option's position go by keyword
    target, args, kwargs = variant_call(svd, (TALL, False, False), {})
    assert (target, args, kwargs) == (svd_values, (TALL, False), {})
    target, args, kwargs = variant_call(svd, (TALL, True, False, False), {})
    assert (target, args, kwargs) == (svd_values, (TALL, True), {"hermitian": False})
    assert variant_call(svd, (TALL,), {}) is None  # compute_uv=True: the rule of svd itself
    assert variant_call(qr, (TALL, "r"), {})[0] is qr_r
    assert variant_call(qr, (TALL,), {"mode": "complete"})[0] is qr_complete
    assert variant_call(qr, (TALL,), {"mode": "reduced"}) is None
    # a predicate of the option; the target takes the option too
    target, args, kwargs = variant_call(np.gradient, (TALL, 0.5), {"axis": (0, 1)})
    assert (target, args, kwargs) == (gradients_along, (TALL, 0.5), {"axis": (0, 1)})
    assert variant_call(np.gradient, (TALL,), {"axis": (1,)}) is None
    assert variant_call(np.gradient, (TALL,), {"axis": 0}) is None


def spread(x, parts=False):
    return [x, 2 * x] if parts else 3 * x


def spread_parts(x):
    return [x, 2 * x]


def spread_parts_vjp(g, ans, x):
    return g[0] + 2 * g[1]


def spread_parts_jvp(ans, x, *, dx):
    return [dx, 2 * dx]


def uses_spread_parts(x):
    a, b = spread(x, parts=True)
    return np.sum(a * b)


def test_a_variant_of_a_function_of_ones_own():
    from srcgrad.rules import JVP_RULES, SEQUENCE_RESULTS, VJP_RULES, sequence_result
    keyword_variant(spread, "parts", True)(spread_parts)
    sg.defvjp(spread_parts)(spread_parts_vjp)
    sg.defjvp(spread_parts)(spread_parts_jvp)
    sequence_result(spread_parts)
    try:
        x = np.arange(3.0)
        np.testing.assert_allclose(sg.grad(uses_spread_parts)(x), 4 * x)
        np.testing.assert_allclose(sg.jvp(uses_spread_parts, (x,), (np.ones(3),))[1],
                                   np.sum(4 * x))
    finally:
        del KEYWORD_VARIANTS[spread], VJP_RULES[spread_parts], JVP_RULES[spread_parts]
        SEQUENCE_RESULTS.discard(spread_parts)


def reads_extra_columns_of_u(x):
    u, s, vh = np.linalg.svd(x)
    return np.sum(np.sin(u))


def reads_extra_rows_of_vh(x):
    u, s, vh = np.linalg.svd(x, full_matrices=True)
    return np.sum(vh * vh * s[0])


def reads_extra_columns_of_q(x):
    q, r = np.linalg.qr(x, mode="complete")
    return np.sum(np.sin(q))


@pytest.mark.parametrize("f, x", [(reads_extra_columns_of_u, TALL),
                                  (reads_extra_rows_of_vh, WIDE),
                                  (reads_extra_columns_of_q, TALL)])
def test_a_loss_that_reads_the_extra_vectors_is_refused(f, x):
    with pytest.raises(NotImplementedError, match="no derivative; use only the first"):
        sg.grad(f)(x)
    t = sg.tensor(x, requires_grad=True)
    with pytest.raises(NotImplementedError, match="no derivative"):
        f(t).backward()
    # forward mode cannot tell what reads them: their tangent is NaN, never a wrong number
    assert np.isnan(sg.jvp(f, (x,), (np.ones_like(x),))[1])


def test_forward_mode_of_the_thin_part_of_a_full_svd():
    def thin(x):
        u, s, vh = np.linalg.svd(x)
        return np.sum(np.sin(u[:, :3])) + np.sum(s)
    tangent = RNG.standard_normal(TALL.shape)
    value, derivative = sg.jvp(thin, (TALL,), (tangent,))
    assert np.isfinite(derivative)
    np.testing.assert_allclose(derivative, np.sum(sg.grad(thin)(TALL) * tangent))


def compute_uv_from_a_variable(x, flag=False):
    return np.sum(np.linalg.svd(x, compute_uv=flag))


def gradient_over_every_axis(x):
    d0, d1 = np.gradient(x)
    return np.sum(d0 * d1)


def test_options_not_written_as_literals_are_refused_with_advice():
    with pytest.raises(NotImplementedError, match="literal False"):
        sg.grad(compute_uv_from_a_variable)(TALL)
    with pytest.raises(NotImplementedError, match=r"axis=\(0, 1, \.\.\.\)"):
        sg.grad(gradient_over_every_axis)(TALL)


def test_eager_routes_by_the_options_value():
    t = sg.tensor(TALL, requires_grad=True)
    flag = False  # eager sees the value, literal or not
    s = np.linalg.svd(t, compute_uv=flag)
    np.sum(s).backward()
    u, _, vh = np.linalg.svd(TALL, full_matrices=False)
    np.testing.assert_allclose(t.grad.data, u @ vh, atol=1e-12)
    parts = np.gradient(sg.tensor(TALL), axis=(0, 1))
    assert isinstance(parts, list) and len(parts) == 2
