"""Calls into the user's own functions, and array methods, against finite differences."""
import inspect

import numpy as np
import pytest

import srcgrad as sg
from checks import check_grad, check_grads

import helpers_module

rng = np.random.default_rng(11)
values = np.array([0.3, -0.7, 1.1, 0.5])


def scale_and_squash(u, factor=2.0):
    return np.tanh(u * factor)


def two_results(u, v):
    return u * v, u + np.sin(v)


def calls_helper(x, y):
    a = scale_and_squash(x)
    b = scale_and_squash(y, factor=0.5)
    return np.sum(a * b)


def calls_helper_in_loop(x, w):
    h = x
    for _ in range(3):
        h = scale_and_squash(h * w)
    return np.sum(h)


def helper_calls_helper(u):
    return scale_and_squash(u) * 2.0 + u


def nested_helpers(x):
    return np.sum(helper_calls_helper(x) ** 2)


def unpacks_tuple(x, y):
    p, q = two_results(x, y)
    return np.sum(p * q)


def calls_imported(x):
    return np.sum(helpers_module.softsign(x) + helpers_module.polynomial(x, 0.5))


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def recursion(x):
    return np.sum(power(x, 4))


def depth_from_data(x):
    if np.sum(x * x) < 0.1:
        return x
    return depth_from_data(x * 0.5) + np.sin(x) * 0.1


def data_dependent_recursion(x):
    return np.sum(depth_from_data(x))


def test_calls_with_keywords_and_defaults():
    check_grad(calls_helper, values, values[::-1])


def test_calls_inside_a_loop():
    check_grad(calls_helper_in_loop, values, 0.8)


def test_helpers_calling_helpers():
    check_grad(nested_helpers, values)


def test_function_returning_a_tuple():
    check_grad(unpacks_tuple, values, values + 0.2)


def test_function_imported_from_another_module():
    check_grad(calls_imported, values)


def test_recursion():
    np.testing.assert_allclose(sg.grad(recursion)(values), 4 * values ** 3)


def test_recursion_with_data_dependent_depth():
    check_grad(data_dependent_recursion, values * 3.0)


def test_each_callee_has_its_own_generated_function():
    source = sg.source(sg.grad(calls_helper, wrt=(0, 1)))
    assert "= scale_and_squash_vjp(x)" in source
    assert "= scale_and_squash_vjp(y, factor=0.5)" in source
    assert "def scale_and_squash_vjp(u, factor=2.0):" in source
    assert "def scale_and_squash_pullback(dresult" in source


def methods(x, w):
    y = x.reshape(2, 2).T.dot(w)
    z = (y * 2.0).astype(float).copy()
    return z.sum() + x.mean() * x.max() - x.min() + x.prod() + y.reshape((6,)).sum(axis=0)


def test_array_methods():
    check_grad(methods, values, rng.normal(size=(2, 3)))


def item_numbers(x):
    s = np.sum(x ** 2).item()
    return s * np.sum(x) + x[1:2].item() ** 3


def test_item_is_the_element_as_a_number():
    x = np.array([0.3, -1.2, 0.7])
    closed_form = 2 * x * np.sum(x) + np.sum(x ** 2) + np.array([0.0, 3 * x[1] ** 2, 0.0])
    np.testing.assert_allclose(sg.grad(item_numbers)(x), closed_form)
    check_grads(item_numbers, x, wrt=(0,), order=2, eager=False)  # eager .item() detaches


def test_shape_attributes_and_len_are_inactive():
    def uses_shapes(x):
        return np.sum(x) * x.shape[0] + x.ndim + len(x) + x.size
    check_grad(uses_shapes, values)


def conditional_expression(x):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + (np.sin(x[i]) if x[i] > 0 else x[i] ** 2 * 0.5)
    scale = 2.0 if total > 0 else 3.0
    return total * scale


def test_conditional_expressions():
    check_grad(conditional_expression, values)
    check_grad(conditional_expression, -values)


def enumerate_and_zip(x, w):
    total = 0.0
    for i, xi in enumerate(x):
        total = total + xi * i
    for a, b in zip(x, w):
        total = total + np.tanh(a * b)
    return total


def test_enumerate_and_zip():
    check_grad(enumerate_and_zip, values, values[::-1] + 0.5)


def boolean_conditions(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0 and not x[i] > 1.0 or i == 0:
            total = total + x[i] ** 3
    return total


def test_not_and_or_in_conditions():
    check_grad(boolean_conditions, values)


def non_differentiable_steps(x, seed):
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=x.shape)  # drawn inside: a constant for the derivative
    k = int(np.floor(np.sum(np.abs(x)))) % 3
    n = np.shape(x)[0] // 2 + k * 2
    rounded = np.round(x * 10.0)
    best = np.argmax(x)
    return np.sum(x * noise) + x[best] * n + np.sum(rounded * x) + np.sum(np.sign(x) * x)


def test_non_differentiable_operations_take_part_without_gradient():
    x = np.array([0.31, -0.72, 1.13, 0.54])
    gradient = sg.grad(non_differentiable_steps)(x, 3)
    noise = np.random.default_rng(3).normal(size=4)
    n = 4 // 2 + (int(np.floor(np.sum(np.abs(x)))) % 3) * 2
    expected = noise + np.round(x * 10.0) + np.sign(x)
    expected[np.argmax(x)] += n
    np.testing.assert_allclose(gradient, expected)


# --- differentiated keyword arguments of NumPy functions ------------------------------------------

def keyword_default(x):
    return np.sum(np.select([x < 0, x < 1], [x ** 2, np.sin(x)], default=x * 3))


def keyword_bounds(x, w):
    return np.sum(np.clip(x, a_min=-w[0] ** 2, a_max=w[1] ** 2 + 0.5)) + \
        np.sum(np.linalg.solve(a=np.outer(w, w) + np.eye(4), b=x))


def keyword_weights(x, w):
    return np.average(x, weights=w ** 2)


def test_differentiated_keyword_arguments_bind_by_name():
    x = np.array([-1.5, 0.3, 2.0, 0.9])
    closed = np.where(x < 0, 2 * x, np.where(x < 1, np.cos(x), 3.0))
    np.testing.assert_allclose(sg.grad(keyword_default)(x), closed)
    check_grads(keyword_default, x, wrt=(0,), order=2, eager=True)
    check_grads(keyword_bounds, x, np.array([0.8, 0.3, 1.2, 0.5]), wrt=(0, 1), order=2, eager=True)


def test_a_keyword_the_rule_holds_constant_is_refused_at_its_line():
    with pytest.raises(sg.NoDerivativeRule, match=r"np\.average\(\.\.\.\) with respect to its "
                                                  r"argument 'weights', which its derivative rule "
                                                  r"treats as a constant"):
        sg.grad(keyword_weights, wrt=(0, 1))(np.ones(3), np.ones(3))


# --- X.dot(w) with X data: np.dot, after a check that X is an array -------------------------------

def dot_method_of_data(w, X):
    return np.sum(np.tanh(X.dot(w)) ** 2) + np.sum(X.T.dot(X.dot(w)))


def test_dot_method_of_a_constant_array():
    rng_local = np.random.default_rng(3)
    w, X = rng_local.normal(size=3), rng_local.normal(size=(4, 3))
    t = np.tanh(X @ w)
    closed = X.T @ (2 * t * (1 - t * t)) + X.T @ (X @ np.ones(3))
    np.testing.assert_allclose(sg.grad(dot_method_of_data)(w, X), closed)
    check_grads(dot_method_of_data, w, X, wrt=(0,), order=2)  # eager: ndarray.dot refuses a Tensor


def test_dot_method_of_something_else_is_refused_at_its_line():
    sparse = pytest.importorskip("scipy.sparse")
    X = sparse.csr_matrix(np.eye(3))
    with pytest.raises(sg.UnsupportedSyntax) as caught:
        sg.grad(dot_method_of_data)(np.ones(3), X)
    lines, first = inspect.getsourcelines(dot_method_of_data)
    assert caught.value.lineno == first + 1  # the return line
    assert "X.dot(...) where the object is a csr_matrix" in str(caught.value)


def min_max_of_several(x):
    return max(np.sum(x), 0.5, np.sum(x ** 2) - 3) + \
        min(np.sum(x ** 2), 1.0, 2.0, np.sum(np.sin(x)))


def test_min_and_max_of_several_numbers():
    x = np.array([0.3, -0.8, 1.1])
    # max picks sum(x) = 0.6; min picks sum(sin(x)) (about 0.46)
    np.testing.assert_allclose(sg.grad(min_max_of_several)(x), 1.0 + np.cos(x))
    check_grads(min_max_of_several, x, wrt=(0,), order=2, eager=True)


class MatrixFree:
    """An operator of the user's with a dot method of its own."""

    def __init__(self, A):
        self.A = A

    def dot(self, v):
        return np.tanh(self.A @ v)


def dot_method_of_an_object(w, op):
    return np.sum(op.dot(w) ** 2)


def dot_method_called_through_the_class(w, op):
    return np.sum(MatrixFree.dot(op, w) ** 2)


def test_an_objects_own_dot_is_refused_with_the_call_that_works():
    w, op = np.array([0.3, -0.2]), MatrixFree(np.array([[1.0, 2.0], [0.5, -1.0]]))
    with pytest.raises(sg.UnsupportedSyntax, match=r"op\.dot\(\.\.\.\) where the object is a "
                                                   r"MatrixFree .* Call your method as "
                                                   r"MatrixFree\.dot\(obj, \.\.\.\)"):
        sg.grad(dot_method_of_an_object)(w, op)
    t = np.tanh(op.A @ w)
    np.testing.assert_allclose(sg.grad(dot_method_called_through_the_class)(w, op),
                               op.A.T @ (2 * t * (1 - t * t)))
    check_grads(lambda w: dot_method_called_through_the_class(w, op), w, wrt=(0,), order=2)
