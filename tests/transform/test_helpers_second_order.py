"""Second and higher derivatives of functions that call the user's own functions.

Generated code meant to be differentiated again calls ``helper(a)`` in its primal and
``helper_adjoint(dy, a)`` in its adjoint (no pullback closures), so each further derivative goes
through the user's functions, recursion included, as through any other code.
"""
import math

import numpy as np
import pytest

import srcgrad as sg
from checks import check_grads


def cube(x):
    return x * x * x


def weighted(x, w):
    return np.sin(x) * w + x * x


def both(x, y):
    return x * y, np.exp(x) - y


def through_another(x):
    return cube(np.tanh(x)) + weighted(x, 2.0)


def power(x, n):  # recursion on a Python integer
    if n == 0:
        return np.ones_like(x)
    return x * power(x, n - 1)


def scaled(x, scale=3.0):
    return scale * np.log1p(x * x)


def sum_of_cubes(x):
    return np.sum(cube(x) * 2.0)


def helper_of_two(x):
    return np.sum(weighted(x, x + 1.0))


def tuple_returning(x):
    p, q = both(x, x * 0.5)
    return np.sum(p * q)


def nested_helpers(x):
    return np.sum(through_another(x))


def recursive(x):
    return np.sum(power(x, 4))


def keyword_and_default(x):
    return np.sum(scaled(x) + scaled(x, scale=0.5))


def rebinds_argument_in_a_loop(x):
    for _ in range(3):
        x = weighted(x, 0.7)
    return np.sum(x)


def helper_in_a_branch(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            total = total + cube(x[i])
        else:
            total = total + weighted(x[i], 2.0)
    return total


def scalar_math(x):
    return math.exp(scaled(x, 0.5)) + cube(x)


@pytest.mark.parametrize("f", [sum_of_cubes, helper_of_two, tuple_returning, nested_helpers,
                               recursive, keyword_and_default, rebinds_argument_in_a_loop,
                               helper_in_a_branch])
def test_second_order_through_helpers_matches_finite_differences(f):
    x = np.array([0.3, -0.8, 1.2])
    check_grads(f, x, order=2)


def test_hessian_of_a_helper_has_the_closed_form():
    x = np.array([1.0, 2.0, -0.5])
    np.testing.assert_allclose(sg.hessian(sum_of_cubes)(x), np.diag(12.0 * x), rtol=1e-12)
    np.testing.assert_allclose(sg.hessian(recursive)(x), np.diag(12.0 * x ** 2), rtol=1e-12)


def test_hvp_and_forward_over_reverse_through_helpers():
    x, v = np.array([1.0, 2.0, -0.5]), np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(sg.hvp(sum_of_cubes)(x, v), 12.0 * x * v, rtol=1e-12)
    value, tangent = sg.jvp(sg.grad(recursive), (x,), (v,))
    np.testing.assert_allclose(value, 4.0 * x ** 3, rtol=1e-12)
    np.testing.assert_allclose(tangent, 12.0 * x ** 2 * v, rtol=1e-12)


def test_reverse_over_forward_through_helpers():
    # d/dx of the directional derivative of sum(x^4) along v: 12 x^2 v
    def directional(x, v):
        return np.sum(sg.jvp(recursive, wrt=0)(x, v)[1])
    x, v = np.array([1.0, 2.0, -0.5]), np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(sg.grad(directional)(x, v), 12.0 * x ** 2 * v, rtol=1e-12)


def test_third_derivative_through_a_recursive_helper():
    def f(x):
        return power(x, 5)
    third = sg.grad(sg.grad(sg.grad(f)))
    assert third(1.5) == pytest.approx(60.0 * 1.5 ** 2, rel=1e-12)


def test_second_derivative_of_numbers_through_a_helper_using_math():
    second = sg.grad(sg.grad(scalar_math))
    x, eps = 0.4, 1e-5
    first = sg.grad(scalar_math)
    assert second(x) == pytest.approx((first(x + eps) - first(x - eps)) / (2 * eps), rel=1e-6)


def test_grad_called_inside_a_differentiated_function():
    # a gradient the user computes and differentiates again (a gradient penalty)
    inner = sg.grad(recursive)

    def penalty(x):
        g = inner(x)
        return np.sum(g * g)
    x = np.array([0.5, -1.5])
    # g = 4 x^3; sum(g^2) = 16 sum(x^6); gradient 96 x^5
    np.testing.assert_allclose(sg.grad(penalty)(x), 96.0 * x ** 5, rtol=1e-12)


class Layer:
    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return np.tanh(self.w * x)


def test_second_order_through_a_callable_object_is_refused_at_the_users_line():
    layer = Layer(0.5)

    def f(x):
        return np.sum(layer(x))
    with pytest.raises(sg.SrcgradError) as raised:
        sg.hessian(f)(np.array([1.0, 2.0]))
    message = str(raised.value)
    assert "second derivative through the call layer(x)" in message
    assert "known only when it runs" in message
    assert __file__ in message


def layers_loss(weights, x):
    out = x
    for W in weights:
        out = np.tanh(out @ W)
    return np.sum(out)


def two_layers(W1, W2, x):
    return layers_loss([W1, W2], x)


def predict(params, x):
    return params["a"] * x ** 2 + params["b"] * x


def dict_loss(a, b, x, y):
    params = {"a": a, "b": b}
    return np.mean((predict(params, x) - y) ** 2)


def test_second_order_through_helpers_taking_containers():
    rng = np.random.default_rng(0)
    check_grads(two_layers, rng.normal(size=(3, 3)), rng.normal(size=(3, 2)),
                rng.normal(size=(2, 3)), order=2)
    x, y = rng.normal(size=5), rng.normal(size=5)
    check_grads(dict_loss, -0.1, 0.3, x, y, wrt=(0, 1), order=2)
    # d2/da2 mean((a x^2 + b x - y)^2) = 2 mean(x^4)
    second = sg.grad(sg.grad(dict_loss))(-0.1, 0.3, x, y)
    assert second == pytest.approx(2 * np.mean(x ** 4), rel=1e-12)
