"""Second and third derivatives by transforming generated code again; Hessians and their
products by forward mode over the generated gradient."""
import numpy as np
import pytest

import srcgrad as sg
from checks import numeric_gradient


def cubic_and_sine(x):
    return x ** 3 + np.sin(x) * x


def recurrence(x):
    y = x
    for _ in range(3):
        if y > 0:
            y = np.tanh(y) * x + 0.5 * y
        else:
            y = y * y
    return y


def test_second_derivative_of_a_scalar_function():
    second = sg.grad(sg.grad(cubic_and_sine))
    for x in (0.7, -1.3):
        assert second(x) == pytest.approx(6 * x + 2 * np.cos(x) - x * np.sin(x), rel=1e-12)


def test_third_derivative():
    third = sg.grad(sg.grad(sg.grad(cubic_and_sine)))
    assert third(0.7) == pytest.approx(6 - 3 * np.sin(0.7) - 0.7 * np.cos(0.7), rel=1e-12)


def test_second_derivative_through_a_loop_and_a_branch():
    first = sg.grad(recurrence)
    second = sg.grad(first)
    for x in (0.4, 1.1):
        eps = 1e-6
        expected = (first(x + eps) - first(x - eps)) / (2 * eps)
        assert second(x) == pytest.approx(expected, rel=1e-6)


def vector_function(x):
    total = np.sum(x ** 4) + x[0] * x[1] * np.sin(x[2])
    for i in range(x.shape[0] - 1):
        total = total + np.exp(x[i] * x[i + 1])
    return total


def test_hessian_is_symmetric_and_matches_differences_of_the_gradient():
    x = np.array([0.3, -0.5, 0.8, 0.1])
    hessian = sg.hessian(vector_function)(x)
    assert hessian.shape == (4, 4)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-12, atol=1e-12)
    gradient = sg.grad(vector_function)
    expected = np.stack([numeric_gradient(lambda v: gradient(v)[k], [x], 0) for k in range(4)])
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-6)


def test_hessian_vector_product():
    x, v = np.array([0.3, -0.5, 0.8, 0.1]), np.array([1.0, -2.0, 0.5, 0.3])
    np.testing.assert_allclose(sg.hvp(vector_function)(x, v),
                               sg.hessian(vector_function)(x) @ v, rtol=1e-12, atol=1e-12)


def least_squares(w, x, y):
    residual = np.tanh(x @ w) - y
    return np.sum(residual * residual) + 0.1 * np.sum(w * w)


def test_hessian_through_matmul_and_other_arguments():
    rng = np.random.default_rng(1)
    w, x, y = rng.normal(size=3), rng.normal(size=(5, 3)), rng.normal(size=5)
    hessian = sg.hessian(least_squares)(w, x, y)
    gradient = sg.grad(least_squares)
    expected = np.stack([numeric_gradient(lambda v: gradient(v, x, y)[k], [w], 0)
                         for k in range(3)])
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-6)
