"""Writes into array elements (y[i] = v, y[i] += v), in loops and branches."""
import numpy as np
import pytest

import srcgrad as sg
from checks import check_grad

values = np.array([0.5, -0.4, 1.3])


def tangent_zeros_case(a):
    S = np.zeros((3, 3))
    for i in range(3):
        S[i, 2] = 1.0
        if a[i] > 0:
            S[i, i] += a[i]
    return np.sum(S * S)


def overwrite_then_read(x):
    y = x * 2.0
    z = np.sin(y)
    y[0] = x[1] * x[2]
    y[1:] = np.exp(x[:2])
    return np.sum(y * z)


def column_writes(x):
    m = np.zeros((3, 2))
    for j in range(2):
        m[:, j] = x * (j + 1.0)
    m[1, :] += x[0]
    return np.sum(np.tanh(m))


def running_state(x):
    state = np.ones(3)
    for step in range(4):
        for i in range(3):
            state[i] = state[i] * np.cos(x[i]) + 0.1 * state[(i + 1) % 3]
    return np.sum(state ** 2)


def test_tangent_case_conditional_write_after_constant_write():
    check_grad(tangent_zeros_case, values)
    # S[i, i] = a[i] for positive a[i], except S[2, 2] = 1 + a[2] (column 2 holds ones).
    expected = np.where(values > 0, 2 * (values + np.array([0.0, 0.0, 1.0])), 0.0)
    np.testing.assert_allclose(sg.grad(tangent_zeros_case)(values), expected)


def test_overwritten_values_are_restored_for_earlier_reads():
    check_grad(overwrite_then_read, values)


def test_slice_and_column_writes():
    check_grad(column_writes, values)


def test_reads_and_writes_of_one_array_across_loop_iterations():
    check_grad(running_state, values)


def writes_into_argument(x):
    x[0] = 1.0
    return np.sum(x)


def writes_into_view(x):
    y = x[1:]
    y[0] = 2.0
    return np.sum(y)


def test_writing_into_an_argument_is_refused():
    with pytest.raises(sg.UnsupportedSyntax, match=r"a write into the argument x .*np\.copy\(x\)"):
        sg.grad(writes_into_argument)(np.ones(3))


def test_writing_into_a_view_is_refused():
    with pytest.raises(sg.UnsupportedSyntax, match="a write into y, which may share memory"):
        sg.grad(writes_into_view)(np.ones(3))


def write_after_a_branch_that_may_alias(x, flag):
    z = np.copy(x)
    if flag:
        z = x.T
    z[0] = 1.0
    return np.sum(z * x)


def test_a_write_into_an_array_that_is_a_view_on_some_path_is_refused():
    with pytest.raises(sg.UnsupportedSyntax, match="a write into z, which may share memory"):
        sg.grad(write_after_a_branch_that_may_alias)(np.ones(3), True)


# --- np.add.at and np.subtract.at: repeated indices accumulate ------------------------------------

def scatter_then_square(vals, idx):
    out = np.zeros(3)
    np.add.at(out, idx, vals ** 2)
    np.subtract.at(out, [0, 0], vals[:2])
    return np.sum(out ** 2)


def scatter_in_a_loop(vals, w):
    out = np.zeros((2, 3))
    for k in range(3):
        np.add.at(out, (k % 2, [0, 2, 2]), vals * w[k])
    return np.sum(np.tanh(out))


def test_ufunc_at_accumulates_repeated_indices():
    from checks import check_grads
    vals = np.array([0.3, -1.2, 0.8, 0.5])
    idx = np.array([0, 2, 2, 1])
    check_grads(scatter_then_square, vals, idx, wrt=(0,), order=2)
    out = np.zeros(3)
    np.add.at(out, idx, vals ** 2)
    np.subtract.at(out, [0, 0], vals[:2])
    closed = np.zeros(4)
    for j, i in enumerate(idx):
        closed[j] += 2 * out[i] * 2 * vals[j]
    closed[:2] -= 2 * out[0]
    np.testing.assert_allclose(sg.grad(scatter_then_square)(vals, idx), closed)
    check_grads(scatter_in_a_loop, np.array([0.2, -0.4, 0.7]), np.array([1.0, -0.5, 2.0]),
                wrt=(0, 1), order=2)


def scatter_into_a_shared_array(vals):
    out = np.zeros(3)
    alias = out
    np.add.at(out, [0, 1, 1], vals)
    return np.sum(alias * vals)


def test_ufunc_at_into_an_array_read_under_another_name_is_refused():
    with pytest.raises(sg.UnsupportedSyntax, match="it changes in place the array out shares "
                                                   "with alias"):
        sg.grad(scatter_into_a_shared_array)(np.array([1.0, 2.0, 3.0]))
