"""Nested functions, closures over outer variables, and lambdas."""
import numpy as np

import srcgrad as sg
from checks import check_grad

values = np.array([0.2, -0.6, 0.9])


def nested_def(x, w):
    def layer(v):
        return np.tanh(v * w)
    h = layer(x)
    return np.sum(layer(h) ** 2)


def closure_sees_late_values(x):
    scale = 1.0

    def scaled(v, power=2):
        return scale * v ** power
    scale = np.sum(x)  # the closure reads scale when called, not when defined
    return np.sum(scaled(x)) + np.sum(scaled(x, power=3))


def lambdas(x, y):
    square = lambda v: v * v  # noqa: E731
    mix = lambda a, b: np.sin(a) * b  # noqa: E731
    return np.sum(mix(square(x), y))


def nested_helpers_call_each_other(x):
    def inner(v):
        return v * np.cos(v)

    def outer(v):
        return inner(v) + inner(v * 2.0)
    return np.sum(outer(x))


def test_nested_def_closing_over_an_argument():
    check_grad(nested_def, values, 0.7)


def test_closure_reads_outer_values_at_call_time():
    check_grad(closure_sees_late_values, values)


def test_lambdas():
    check_grad(lambdas, values, values + 1.0)


def test_nested_functions_calling_each_other():
    check_grad(nested_helpers_call_each_other, values)


def test_nested_function_gets_its_own_generated_code():
    source = sg.source(sg.grad(nested_def, wrt=(0, 1)))
    assert "def layer_vjp(v, *, w):" in source
    assert "layer_vjp(x, w=w)" in source
