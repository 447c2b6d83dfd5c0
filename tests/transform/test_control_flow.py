"""break, continue and early return, in for and while loops, nested, against finite differences."""
import numpy as np
import pytest

import srcgrad as sg
from checks import check_grad, check_grads

rng = np.random.default_rng(7)
values = np.array([0.4, -0.3, 1.2, 0.8, -1.1, 0.5])


def break_in_for(x):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + np.sin(x[i]) * x[i]
        if total > 0.6:
            break
        total = total * 1.1
    return total


def continue_in_for(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0:
            continue
        total = total + x[i] ** 3
    return total


def break_in_while(a):
    x = a
    while True:
        x = x * 1.5 + 0.1
        if x > 5.0:
            break
    return x * x


def nested_break_and_continue(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] < -1.0:
            break
        acc = x[i]
        for j in range(3):
            if acc > 2.0:
                break
            if j == 1:
                continue
            acc = acc * 1.3 + np.tanh(x[i])
        if acc < 0:
            continue
        total = total + acc * acc
    return total


def deep_exit(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            if total > 0.5:
                continue
            total = total + 0.5 * x[i]
        total = total + x[i] * x[i]
    return total


def early_return_in_if(x):
    s = np.sum(x)
    if s > 1.0:
        return s * s
    elif s < -1.0:
        return -s
    y = np.exp(x)
    return np.sum(y)


def early_return_in_while(x, a):
    steps = 0
    while steps < 20:
        x = x * a
        if np.sum(x) > 3.0:
            return np.sum(x * x)
        steps = steps + 1
    return np.sum(x)


def return_from_nested_loops(x):
    total = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[0]):
            total = total + x[i] * x[j]
            if total > 1.0:
                return total * 2.0
        total = total - 0.1
    return total


def test_break_in_for():
    check_grad(break_in_for, values)
    check_grad(break_in_for, values * 0.1)  # never breaks


def test_continue_in_for():
    check_grad(continue_in_for, values)


def test_break_in_while_true():
    assert sg.grad(break_in_while)(0.7) == pytest.approx(
        (break_in_while(0.7 + 1e-6) - break_in_while(0.7 - 1e-6)) / 2e-6, rel=1e-6)


def test_nested_loops_with_break_and_continue_in_both():
    check_grad(nested_break_and_continue, values)
    check_grad(nested_break_and_continue, np.array([0.5, 1.9, -0.4, -1.5, 0.9]))


def test_exit_nested_inside_branches():
    check_grad(deep_exit, values)


def test_early_and_multiple_returns_in_branches():
    for x in (values, values + 1.0, values - 1.0):
        check_grad(early_return_in_if, x)


def test_early_return_from_inside_a_while_loop():
    check_grad(early_return_in_while, values * 0.5 + 0.3, 1.4)
    check_grad(early_return_in_while, values * 0.01, 0.9)  # runs out of steps instead


def test_return_from_nested_loops():
    check_grad(return_from_nested_loops, values)
    check_grad(return_from_nested_loops, values * 0.1)


def test_break_reads_cleanly():
    source = sg.source(sg.grad(break_in_for))
    assert "leave_loop = True" in source
    assert "if leave_loop:\n            break" in source
    assert "for i in reversed(range(x.shape[0])[:iterations]):" in source


# --- a raise that ends a path -------------------------------------------------------------------

def penalty(x, mode="l2"):
    if mode == "l2":
        return np.sum(x ** 2)
    elif mode == "l1":
        return np.sum(np.abs(x))
    raise ValueError(f"unknown mode {mode!r}")


def newton_sqrt2(x, steps=30):
    y = x
    for _ in range(steps):
        y = 0.5 * (y + 2.0 / y)
        if np.max(np.abs(y * y - 2.0)) < 1e-12:
            return np.sum(y * x ** 2)
    raise RuntimeError("did not converge")


def cube_unless_negative(x, k):
    if k < 0:
        raise ValueError("k must not be negative")
    else:
        y = x ** 3
    return np.sum(y * k)


@pytest.mark.parametrize("mode, closed_form", [("l2", lambda x: 2 * x),
                                               ("l1", lambda x: np.sign(x))])
def test_a_function_may_end_in_raise_after_its_returns(mode, closed_form):
    x = np.array([0.5, -1.5, 2.0])
    np.testing.assert_allclose(sg.grad(penalty)(x, mode), closed_form(x))
    check_grads(lambda x: penalty(x, mode), x, wrt=(0,), order=2, eager=True)
    with pytest.raises(ValueError, match="unknown mode 'l3'"):
        sg.grad(penalty)(x, "l3")


def test_a_raise_after_a_loop_that_returns():
    x = np.array([1.0, 2.0])
    # y converges to sqrt(2) whatever x is: d/dx sum(sqrt(2) x^2) = 2 sqrt(2) x
    np.testing.assert_allclose(sg.grad(newton_sqrt2)(x), 2 * np.sqrt(2.0) * x)
    check_grads(newton_sqrt2, x, wrt=(0,), order=2, eager=True)
    with pytest.raises(RuntimeError, match="did not converge"):
        sg.grad(newton_sqrt2)(x, 1)


def test_a_branch_that_raises_becomes_a_guard_clause():
    x = np.array([1.0, 2.0])
    check_grads(cube_unless_negative, x, 2.0, wrt=(0, 1), order=2, eager=True)
    source = sg.source(sg.grad(cube_unless_negative))
    assert "    if k < 0:\n        raise ValueError('k must not be negative')\n    y = x ** 3" \
        in source
    assert "else" not in source
    with pytest.raises(ValueError, match="k must not be negative"):
        sg.grad(cube_unless_negative)(x, -1.0)
