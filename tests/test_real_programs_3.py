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
