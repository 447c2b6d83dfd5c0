"""Callables other than plain functions: differentiated directly, and called inside a loss."""
import functools

import numpy as np
import pytest

import srcgrad as sg
from checks import check_grads

X = np.array([[0.1, -0.3, 0.5], [0.2, 0.4, -0.1]])


class Dense:
    """A layer: an object whose __call__ the loss calls."""

    def __init__(self, n_in, n_out, seed):
        rng = np.random.default_rng(seed)
        self.W = rng.standard_normal((n_in, n_out)) * 0.5
        self.b = np.linspace(-0.2, 0.2, n_out)

    def __call__(self, x):
        return np.tanh(x @ self.W + self.b)


class Net:
    def __init__(self):
        self.first, self.second = Dense(3, 4, 0), Dense(4, 2, 1)
        self.activation = np.tanh

    def helper(self, h, scale):
        return self.activation(h) * scale

    def loss(self, x):
        out = self.second(self.first(x))
        return np.sum(self.helper(out, 2.0) ** 2)

    def __call__(self, x):
        return self.loss(x)

    @staticmethod
    def squares(x):
        return np.sum(x * x)

    @classmethod
    def cubes(cls, x):
        return np.sum(x ** 3)


def weighted(a, x, b=1.0):
    return np.sum(a * x ** 2) * b


NET = Net()
LAYER = Dense(3, 2, 5)


def through_a_global_layer(x):
    return np.sum(LAYER(x) ** 2)


def through_a_partial(x, f):
    return np.sum(f(x) * x)


def through_a_local_function(x, use_sin):
    activation = np.sin if use_sin else np.cos
    return np.sum(activation(x) * x)


def manual_expected_net_gradient(x, eps=1e-6):
    out = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = eps
        out.flat[k] = (NET.loss(x + e) - NET.loss(x - e)) / (2 * eps)
    return out


@pytest.mark.parametrize("function", [NET.loss, NET, Net.squares, Net.cubes,
                                      functools.partial(weighted, 2.0),
                                      functools.partial(weighted, 2.0, b=3.0)],
                         ids=["bound method", "callable object", "staticmethod", "classmethod",
                              "partial", "partial with keyword"])
def test_callables_in_every_mode(function):
    check_grads(function, X)


def test_a_lambda_is_read_from_its_line():
    square_sum = lambda x: np.sum(x * x)  # noqa: E731
    pair = (lambda a: a * 3.0, lambda b: np.sum(np.exp(b)))
    np.testing.assert_allclose(sg.grad(square_sum)(X), 2 * X)
    assert sg.grad(pair[0])(1.5) == pytest.approx(3.0)
    np.testing.assert_allclose(sg.grad(pair[1])(X), np.exp(X))
    scale = 2.5
    np.testing.assert_allclose(sg.grad(lambda x: np.sum(scale * x ** 2))(X), 2 * scale * X)


def test_a_primitive_with_a_rule_is_differentiated_by_it():
    assert sg.grad(np.sin)(0.5) == pytest.approx(np.cos(0.5))
    value, tangent = sg.jvp(np.tanh, (0.3,), (2.0,))
    assert tangent == pytest.approx(2.0 * (1 - np.tanh(0.3) ** 2))


@pytest.mark.parametrize("function, args", [
    (through_a_global_layer, (X,)),
    (through_a_partial, (np.array([0.3, 0.7]), functools.partial(np.power, 2.0))),
    (through_a_local_function, (np.array([0.3, -0.7]), True)),
    (through_a_local_function, (np.array([0.3, -0.7]), False)),
])
def test_callables_called_inside_a_loss(function, args):
    check_grads(function, *args, wrt=0)


def test_methods_and_layers_called_through_self_read_like_the_users_code():
    np.testing.assert_allclose(sg.grad(NET.loss)(X), manual_expected_net_gradient(X),
                               rtol=1e-6, atol=1e-9)
    text = sg.source(sg.grad(NET.loss), X)
    assert "call_vjp(self.first, 0, x)" in text and "call_vjp(self.helper, 0, out, 2.0)" in text


class Scaled:
    def __init__(self, scale):
        self.scale = scale

    def loss(self, w, x):
        return np.sum(np.sin(x * w) * self.scale)


def _scaled_loss_hessian_diagonal(w, x, scale):
    return -scale * x * x * np.sin(x * w)


def test_second_derivatives_of_a_method_keep_its_self():
    model, w, x = Scaled(0.7), np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 3.0])
    expected = _scaled_loss_hessian_diagonal(w, x, 0.7)
    np.testing.assert_allclose(sg.hessian(model.loss)(w, x), np.diag(expected), atol=1e-12)
    np.testing.assert_allclose(
        sg.grad(lambda v: np.sum(sg.grad(model.loss)(v, x)))(w), expected, atol=1e-12)
    half = functools.partial(model.loss, x=x)
    np.testing.assert_allclose(sg.hessian(half)(w), np.diag(expected), atol=1e-12)


_model_gradient = sg.grad(Scaled(0.7).loss)


def _sum_of_model_gradient(w, x):
    return np.sum(_model_gradient(w, x))


def test_a_derivative_of_a_method_called_in_differentiated_code():
    w, x = np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(sg.grad(_sum_of_model_gradient)(w, x),
                               _scaled_loss_hessian_diagonal(w, x, 0.7), atol=1e-12)
    check_grads(_sum_of_model_gradient, w, x, wrt=0, order=1, eager=False)


def test_a_lambda_on_a_continuation_line_of_a_call_is_found():
    x = np.array([0.5, -1.0])
    gradient = np.round(
        sg.grad(lambda v: np.sum(v ** 3))(x), 12)
    np.testing.assert_allclose(gradient, 3 * x ** 2)
