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
