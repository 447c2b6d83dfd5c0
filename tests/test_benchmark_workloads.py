"""The hand-written gradients of the benchmark (benchmarks/workloads.py), naive and expert,
against central differences, and srcgrad's against them, at the sizes that run in milliseconds."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import workloads  # noqa: E402

import srcgrad as sg  # noqa: E402

CASES = [(w, s) for w in workloads.WORKLOADS for s in w.sizes if s.tag != "large"]


def positions(wrt):
    return wrt if isinstance(wrt, tuple) else (wrt,)


def as_tuple(gradient, wrt):
    return tuple(gradient) if isinstance(wrt, tuple) else (gradient,)


def copies(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def directional_error(loss, args, gradient, wrt, rng, h=1e-6):
    moves = {i: rng.standard_normal(np.shape(args[i])) for i in positions(wrt)}
    plus, minus = list(args), list(args)
    for i, move in moves.items():
        plus[i], minus[i] = args[i] + h * move, args[i] - h * move
        if isinstance(args[i], float):
            plus[i], minus[i] = float(plus[i]), float(minus[i])
    numerical = (loss(*plus) - loss(*minus)) / (2 * h)
    analytical = sum(float(np.sum(g * moves[i])) for g, i in zip(gradient, positions(wrt)))
    return abs(numerical - analytical) / max(abs(analytical), 1e-3)


@pytest.mark.parametrize("workload,size", CASES,
                         ids=[f"{w.loss}-{s.tag}" for w, s in CASES])
@pytest.mark.parametrize("kind", ["grad", "expert"])
def test_hand_gradient_matches_central_differences(workload, size, kind):
    rng = np.random.default_rng(7)
    args = getattr(workloads, workload.make_args)(rng, *size.params)
    before = copies(args)
    gradient = as_tuple(getattr(workloads, getattr(workload, kind))(*args), workload.wrt)
    for a, b in zip(args, before):  # the expert gradients work in place, on their own arrays
        assert np.array_equal(a, b)
    loss = getattr(workloads, workload.loss)
    for _ in range(3):
        assert directional_error(loss, args, gradient, workload.wrt, rng) < 1e-5


@pytest.mark.parametrize("workload", workloads.WORKLOADS, ids=[w.loss for w in workloads.WORKLOADS])
def test_srcgrad_matches_expert_at_tiny_size(workload):
    rng = np.random.default_rng(3)
    args = getattr(workloads, workload.make_args)(rng, *workload.sizes[0].params)
    expert = as_tuple(getattr(workloads, workload.expert)(*args), workload.wrt)
    ours = as_tuple(sg.grad(getattr(workloads, workload.loss), wrt=workload.wrt)(*args),
                    workload.wrt)
    for got, want in zip(ours, expert):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)


def test_implicit_kepler_gradient_is_close_to_the_iterations_adjoint():
    args = workloads.kepler_args(np.random.default_rng(5), 50)
    for got, want in zip(workloads.kepler_implicit(*args), workloads.kepler_expert(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-8)
