"""Lists built in loops, comprehensions, and what is done with them."""
import numpy as np
import pytest

import srcgrad as sg

from checks import check_grad, check_grads

values = np.array([0.3, -0.8, 1.2, 0.6])
matrix = np.random.default_rng(5).normal(size=(3, 4))


def stacked_rows(x, w):
    rows = []
    for i in range(x.shape[0]):
        rows.append(np.tanh(x[i] * w))
    return np.sum(np.stack(rows) ** 2)


def array_of_scalars(x):
    parts = []
    for i in range(x.shape[0]):
        if x[i] > 0:
            parts.append(x[i] ** 2)
        else:
            parts.append(np.sin(x[i]))
    return np.sum(np.array(parts) * np.arange(len(parts)))


def builtin_sum_of_list(x):
    terms = [x * 2.0, np.exp(x), x ** 3]
    return np.sum(sum(terms))


def comprehension(x):
    squares = [x[i] * x[i] for i in range(x.shape[0]) if i != 1]
    return sum(squares) + np.sum(np.stack([np.cos(row) for row in x]))


def read_back_and_loop_over(x):
    items = []
    for i in range(3):
        items.append(x * (i + 1.0))
    total = np.sum(items[0] * items[2])
    for item in items:
        total = total + np.sum(np.sin(item))
    return total


def test_append_in_loop_then_stack():
    check_grad(stacked_rows, matrix, np.linspace(-1, 1, 4))


def test_append_in_branches_then_np_array():
    check_grad(array_of_scalars, values)


def test_builtin_sum_of_a_list_literal():
    check_grad(builtin_sum_of_list, values)


def test_list_comprehensions_over_ranges_and_arrays():
    check_grad(comprehension, values)


def test_indexing_and_looping_over_a_list():
    check_grad(read_back_and_loop_over, values)


def test_comprehension_variable_does_not_leak():
    def uses_i_after(x):
        i = 2
        ys = [x[i] * 2.0 for i in range(3)]
        return np.sum(np.stack(ys)) * x[i]
    check_grad(uses_i_after, values)


def sum_of_a_list_literal(a):
    return np.sum([1.0, a * a, 2.0])


def mean_of_arrays(x):
    return np.sum(np.mean([x, x + 2]) * x)


def sum_of_a_comprehension(x):
    return np.sum([v * 3 for v in x]) + np.max([x[0] ** 2, x[1]])


def python_reductions_of_numbers(x):
    return max(x[0] * 2.0, x[2]) + min(x[1], 3.0) + sum([x[0], x[1] ** 2])


@pytest.mark.parametrize("function, x", [
    (sum_of_a_list_literal, 1.3), (mean_of_arrays, np.array([0.1, 0.2])),
    (sum_of_a_comprehension, np.array([0.1, 0.7])),
    (python_reductions_of_numbers, np.array([0.1, 0.5, 0.3]))])
def test_reductions_over_python_lists_in_every_mode(function, x):
    # first order, the Hessian (forward over reverse) and reverse over reverse, which goes
    # through the rules of np.array's adjoint of a list (runtime.array_adjoint, stacked_like)
    check_grads(function, x)
    hessian = sg.hessian(function)(x)
    eps = 1e-5
    numeric = (sg.grad(function)(x + eps) - sg.grad(function)(x - eps)) / (2 * eps) \
        if np.ndim(x) == 0 else np.stack([
            (sg.grad(function)(x + eps * e) - sg.grad(function)(x - eps * e)) / (2 * eps)
            for e in np.eye(len(x))], axis=-1)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-7)
    if np.ndim(x) == 0:
        twice = sg.grad(sg.grad(function))(x)
    else:
        twice = np.stack([sg.vjp(sg.grad(function))(x)[1](e) for e in np.eye(len(x))])
    np.testing.assert_allclose(twice, np.transpose(numeric), rtol=1e-5, atol=1e-7)
