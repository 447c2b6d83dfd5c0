"""Programs written the way people write them (scientific code, statistics, small models,
PyTorch-tutorial style on the eager Tensor), each checked in every mode that applies against
finite differences (``checks.check_grads``), plus the refusals such code can meet.

Where a program reads a number through ``math`` or ``float()`` the eager Tensor is left out:
as in PyTorch, ``math.log(t)`` turns a Tensor into a Python float and cuts the tape.
"""
import math

import numpy as np
import pytest

import srcgrad as sg
from checks import check_grads

RNG = np.random.default_rng(20261128)


def normal(*shape):
    return RNG.standard_normal(shape) if shape else float(RNG.standard_normal())


# ------------------------------------------------------------------------------------------------
# Comprehensions inside comprehensions (a polynomial fitted point by point)

x = 100.0  # a global of the same name as the loop variable below: it must not be read


def polynomial_misfit(coeffs, xs):
    preds = [sum(c * x ** k for k, c in enumerate(coeffs)) for x in xs]
    return sum((p - 1.0) ** 2 for p in preds)


def polynomial_misfit_one_line(coeffs, xs):
    return sum((sum(c * xx ** k for k, c in enumerate(coeffs)) - 1.0) ** 2 for xx in xs)


def weighted_rows(w, rows):
    return sum([w[i] * sum([r * w[i] for r in rows[i]]) for i in range(len(rows))
                if sum(v * 1.0 for v in rows[i]) > 0])


def test_a_comprehension_inside_a_comprehension_reads_the_outer_loop_variable():
    coeffs, xs = np.array([0.3, -0.2, 0.5]), [0.1, 0.5, -0.3]
    # by hand: d/dc_k sum_x (p(x) - 1)^2 = sum_x 2 (p(x) - 1) x^k
    p = np.array([np.polyval(coeffs[::-1], v) for v in xs])
    expected = np.array([np.sum(2 * (p - 1.0) * np.array(xs) ** k) for k in range(3)])
    np.testing.assert_allclose(sg.grad(polynomial_misfit)(coeffs, xs), expected, rtol=1e-12)
    check_grads(polynomial_misfit, coeffs, xs, wrt=0, order=2, eager=True)
    check_grads(polynomial_misfit_one_line, coeffs, xs, wrt=0, order=2, eager=True)
    rows = [np.array([1.0, 2.0]), np.array([-3.0, 1.0]), np.array([0.5, 0.5])]
    check_grads(weighted_rows, coeffs, rows, wrt=0, order=2, eager=True)


# ------------------------------------------------------------------------------------------------
# A pendulum integrated with a nested right-hand side (a closure over the parameters), whose
# name is also a module-level function's; and a module constant rebound between calls.


def rhs(y, theta=None):  # a module-level function of the same name as the nested one below
    return 1000.0 * y


DAMPING = 0.2


def pendulum_energy(theta, y0, dt=0.05, steps=8):
    def rhs(y):
        return np.array([y[1], -theta[0] * np.sin(y[0]) - DAMPING * theta[1] * y[1]])
    y = y0
    trajectory = []
    for _ in range(steps):
        k1 = rhs(y)
        k2 = rhs(y + 0.5 * dt * k1)
        k3 = rhs(y + 0.5 * dt * k2)
        k4 = rhs(y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        trajectory.append(y)
    trajectory = np.array(trajectory)
    return np.mean(trajectory[:, 0] ** 2) + 0.1 * np.sum(rhs(y0) ** 2)


def test_a_nested_function_shadowing_a_global_and_a_global_rebound_between_calls():
    global DAMPING
    theta, y0 = np.array([1.5, 0.8]), np.array([0.5, 0.1])
    check_grads(pendulum_energy, theta, y0, order=2, eager=False)
    gradient, hessian = sg.grad(pendulum_energy), sg.hessian(pendulum_energy)
    before = gradient(theta, y0), hessian(theta, y0)
    try:
        DAMPING = 2.0
        # the nested rhs reads DAMPING when it runs, in every derivative made before
        check_grads(pendulum_energy, theta, y0, order=2, eager=False)
        after = gradient(theta, y0), hessian(theta, y0)
        np.testing.assert_allclose(after[0], sg.grad(pendulum_energy, wrt=0)(theta, y0))
        assert not np.allclose(after[0], before[0])
        assert not np.allclose(after[1], before[1])
    finally:
        DAMPING = 0.2


# ------------------------------------------------------------------------------------------------
# with np.errstate / warnings.catch_warnings: differentiated, and kept around the generated code

import warnings  # noqa: E402 (grouped with the programs that use it)


def entropy_with_zeros(p):
    """-sum p log p, where 0 log 0 is 0: the log of a zero warns, which the block silences."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(p ** 2) / 2
        terms = np.where(p > 0, p * logp, 0.0)
    return -np.sum(terms) + np.sum(p ** 2)


def signed_sqrt_energy(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = np.sqrt(np.abs(x)) * x
    return np.sum(y ** 2 + y)


def growth_curve(rate, t, steps=4):
    total = 0.0
    for k in range(steps):
        with np.errstate(over="ignore"):
            total = total + np.sum(np.exp(rate * t * k) / (1.0 + rate ** 2))
    return total


def test_with_blocks_that_change_no_value_are_differentiated_in_every_mode():
    p = np.array([0.2, 0.5, 0.3, 0.7])
    check_grads(entropy_with_zeros, p, order=2, eager=True)
    x = np.array([0.5, -1.2, 2.0])
    check_grads(signed_sqrt_energy, x, order=2, eager=True)
    check_grads(growth_curve, 0.3, np.array([0.5, 1.0, 2.0]), wrt=0, order=2, eager=True)


def test_the_with_block_stays_around_the_generated_code_and_silences_it():
    x = np.array([0.0, 1.0, -4.0])  # sqrt(0): its derivative divides by zero
    source = sg.source(sg.grad(signed_sqrt_energy), x)
    assert source.count("with warnings.catch_warnings():") == 2  # the primal and the adjoint
    assert source.count("warnings.simplefilter('ignore', RuntimeWarning)") == 2
    filters = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning of the derivative would raise here
        gradient = sg.grad(signed_sqrt_energy)(x)
        value, tangent = sg.jvp(signed_sqrt_energy, (x,), (np.ones(3),))
    assert np.isnan(gradient[0]) and np.isfinite(gradient[1:]).all()
    assert value == signed_sqrt_energy(x)
    assert warnings.filters == filters  # the filter set inside did not leak
    forward = sg.source(sg.jvp(entropy_with_zeros), np.ones(2), np.ones(2))
    assert "with np.errstate(divide='ignore', invalid='ignore'):" in forward


def opens_a_file(x):
    with open(__file__) as handle:
        n = len(handle.readline())
    return np.sum(x) * n


def errstate_raise(x):
    with np.errstate(divide="raise"):
        y = np.log(x)
    return np.sum(y)


def errstate_as(x):
    with np.errstate(all="ignore") as state:
        y = np.log(x) + 0.0 * len(str(state))
    return np.sum(y)


def errstate_from_a_variable(x, mode="ignore"):
    with np.errstate(divide=mode):
        y = np.log(x)
    return np.sum(y)


def records_warnings(x):
    with warnings.catch_warnings(record=True):
        y = np.log(x)
    return np.sum(y)


def _line(function, text):
    import inspect
    lines, first = inspect.getsourcelines(function)
    return first + next(k for k, line in enumerate(lines) if text in line)


@pytest.mark.parametrize("function, text, construct", [
    (opens_a_file, "with open(", "a with block (only np.errstate and warnings.catch_warnings"),
    (errstate_raise, "with np.errstate", "np.errstate with a mode other than 'ignore'"),
    (errstate_as, "with np.errstate", "'with np.errstate(...) as ...'"),
    (errstate_from_a_variable, "with np.errstate", "np.errstate(...) with arguments that are not"),
    (records_warnings, "with warnings", "warnings.catch_warnings(record=True)"),
])
def test_other_with_blocks_are_refused_at_their_line(function, text, construct):
    for make in (sg.grad, lambda f: sg.jvp(f, wrt=0)):
        with pytest.raises(sg.UnsupportedSyntax) as caught:
            derivative = make(function)
            derivative(np.ones(3), *([np.ones(3)] if derivative.mode == "jvp" else []))
        message = str(caught.value)
        assert message.startswith(f"{__file__}, line {_line(function, text)}: "), message
        assert f"srcgrad cannot differentiate {construct}" in message, message
