"""Reverse mode on every construct of the language, each against central differences."""
import numpy as np
import pytest

import srcgrad as sg
from checks import check_grad, numeric_gradient

rng = np.random.default_rng(42)
vector = rng.normal(size=5)
matrix = rng.normal(size=(4, 3))


def quickstart_loss(w, x, y):
    h = np.tanh(x @ w)
    err = h - y
    total = 0.0
    for i in range(err.shape[0]):
        if err[i] > 0:
            total = total + err[i] ** 2
        else:
            total = total + 0.5 * np.abs(err[i])
    return total / err.shape[0]


def test_quickstart_loss_all_arguments():
    check_grad(quickstart_loss, rng.normal(size=3), rng.normal(size=(6, 3)), rng.normal(size=6))


def straight_line(x, y):
    a = x * y + np.sin(x)
    b = a / (1.0 + y ** 2)
    return np.sum(b * b) - np.sum(np.exp(-y))


def reassigned(x):
    x = x * 2.0
    x = np.sin(x) + x
    y = x
    x = y * y
    return np.sum(x)


def augmented(x, y):
    s = x * 1.0  # a new array: += on x itself would change the caller's array
    s += y
    s *= x
    s -= 3.0
    s /= y
    s **= 2
    return np.sum(s)


def tuple_assignment(x, y):
    a, b = x * 2.0, y - 1.0
    a, b = b, a
    c = d = a * b
    return np.sum(c + d)


def unary_and_constants(x):
    y = -x + 3.0
    z = 2.0 - y
    w = 1.0 / z
    return np.sum(w ** 3) + 2 ** 3


def test_straight_line_code():
    check_grad(straight_line, vector, vector + 2.0)


def test_reassigned_names():
    check_grad(reassigned, vector)


def test_augmented_assignment():
    check_grad(augmented, vector + 3.0, vector ** 2 + 1.0)


def test_tuple_assignment_and_swap():
    check_grad(tuple_assignment, vector, -vector)


def test_unary_minus_and_constants():
    check_grad(unary_and_constants, vector * 0.1)


def branches(x, y):
    if np.sum(x) > 0:
        z = x * y
    elif np.sum(y) > 0:
        z = x + y
    else:
        z = np.exp(x)
    if x.shape[0] > 100:
        z = z * 0.0
    return np.sum(z * z)


def branch_assigns_one_side(x, y):
    z = y
    if np.max(x) > 0.5:
        z = np.sin(x)
    return np.sum(z)


def test_if_elif_else_each_path():
    for shift in (2.0, -2.0):
        x = vector + shift
        check_grad(branches, x, x + 1.0)
        check_grad(branches, x, -x - 1.0)


def test_branch_that_rebinds_only_on_one_side():
    check_grad(branch_assigns_one_side, vector, vector + 1.0)
    check_grad(branch_assigns_one_side, vector - 5.0, vector + 1.0)


def scalar_recurrence(x, a):
    for _ in range(20):
        x = a * x + 0.1 * np.sin(x)
    return x


def test_scalar_recurrence_in_python_floats():
    check_grad(scalar_recurrence, 0.3, 0.9)


def rnn(h, w, xs):
    for t in range(xs.shape[0]):
        h = np.tanh(h @ w + xs[t])
    return np.sum(h)


def test_tanh_rnn_over_steps():
    check_grad(rnn, rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) * 0.5,
               rng.normal(size=(4, 2, 3)))


def rows(x, w):
    total = 0.0
    for row in x:
        total = total + np.sum(np.tanh(row * w))
    return total


def test_for_over_rows_of_an_array():
    check_grad(rows, matrix, rng.normal(size=3))


def nested_loops(x):
    total = 0.0
    for i in range(x.shape[0]):
        acc = x[i]
        for j in range(x.shape[1]):
            if x[i, j] > 0:
                acc = acc * np.cos(x[i, j])
            else:
                acc = acc + x[i, j] ** 2
        total = total + np.sum(acc)
    return total


def test_nested_loops_with_branches():
    check_grad(nested_loops, matrix)


def newton_sqrt(a):
    x = a
    steps = 0
    while np.abs(x * x - a) > 1e-12 and steps < 100:
        x = 0.5 * (x + a / x)
        steps = steps + 1
    return x


def test_while_with_data_dependent_trip_count():
    for a in (2.0, 9.0, 150.0):
        gradient = sg.grad(newton_sqrt)(a)
        assert gradient == pytest.approx(0.5 / np.sqrt(a), rel=1e-8)


def while_in_for(x):
    total = 0.0
    for i in range(x.shape[0]):
        v = x[i]
        while v < 10.0:
            v = v * 1.7 + 0.1
        total = total + v
    return total


def test_while_inside_for():
    check_grad(while_in_for, np.array([0.5, 1.3, 2.2]))


def broadcasting(x, b, s):
    y = x * b + s
    z = y - np.sum(y, axis=0, keepdims=True) * s
    return np.sum(z ** 2) / s


def test_broadcasting_reduces_adjoints_to_input_shapes():
    check_grad(broadcasting, matrix, rng.normal(size=3), 1.7)
    check_grad(broadcasting, matrix, rng.normal(size=(4, 1)), 0.6)


def python_floats_mixed(x, scale):
    y = scale * x
    z = y / scale + scale ** 2
    return float(1.0) * np.sum(z) + scale


def test_python_floats_mixed_with_arrays():
    check_grad(python_floats_mixed, vector, 1.5)


def unused_input(x, y):
    return np.sum(x ** 2)


def test_unused_input_gets_zeros():
    gx, gy = sg.grad(unused_input, wrt=(0, 1))(vector, matrix)
    np.testing.assert_allclose(gx, 2 * vector)
    assert gy.shape == matrix.shape and not gy.any()


def inactive_paths(x):
    n = x.shape[0]
    k = int(np.argmax(x))
    mask = x > 0
    scale = np.sum(mask) + len(x) + n
    return np.sum(x * scale) + x[k]


def test_non_differentiable_operations_contribute_nothing():
    check_grad(inactive_paths, vector)


def indexing(x):
    a = x[1:3, 0]
    b = x[[0, 0, 2], [1, 1, 2]]
    c = x[-1]
    d = x[:, ::2]
    return np.sum(a * 2.0) + np.sum(b ** 2) + np.sum(c * c) + np.sum(np.sin(d))


def test_indexing_reads_basic_integer_and_fancy_with_repeats():
    check_grad(indexing, matrix)


def transpose_and_matmul(x, w):
    return np.sum((x.T @ x) * w)


def test_transpose_attribute():
    check_grad(transpose_and_matmul, matrix, rng.normal(size=(3, 3)))


def test_value_and_grad_returns_both():
    value, gradient = sg.value_and_grad(reassigned)(vector)
    assert value == pytest.approx(reassigned(vector))
    np.testing.assert_allclose(gradient, numeric_gradient(reassigned, [vector], 0), rtol=1e-6)


def elementwise_array(x, w):
    return np.tanh(x @ w) * 2.0


def test_vjp_of_an_array_valued_function():
    x, w = matrix, rng.normal(size=3)
    out, pullback = sg.vjp(elementwise_array, wrt=1)(x, w)
    np.testing.assert_allclose(out, elementwise_array(x, w))
    cotangent = rng.normal(size=out.shape)
    expected = numeric_gradient(lambda w_: np.sum(cotangent * elementwise_array(x, w_)), [w], 0)
    np.testing.assert_allclose(pullback(cotangent), expected, rtol=1e-6)
    np.testing.assert_allclose(pullback(2 * cotangent), 2 * expected, rtol=1e-6)


def test_vjp_pullback_can_be_called_twice_after_a_loop():
    out, pullback = sg.vjp(rnn, wrt=1)(rng.normal(size=(2, 3)), np.eye(3) * 0.5,
                                       rng.normal(size=(3, 2, 3)))
    first = pullback(1.0)
    np.testing.assert_allclose(pullback(1.0), first)


def test_grad_wrt_names_and_tuples():
    gw, gx = sg.grad(quickstart_loss, wrt=("w", "x"))(rng.normal(size=3), matrix, np.zeros(4))
    assert gw.shape == (3,) and gx.shape == matrix.shape


def test_float32_inputs_keep_their_dtype():
    x = vector.astype(np.float32)
    assert sg.grad(straight_line)(x, x + np.float32(2)).dtype == np.float32


def test_keyword_arguments_at_call_time():
    g = sg.grad(quickstart_loss)
    w, x, y = rng.normal(size=3), matrix, rng.normal(size=4)
    np.testing.assert_allclose(g(w, y=y, x=x), g(w, x, y))
