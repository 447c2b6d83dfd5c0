"""The generated source of the benchmark workloads and the transform-time function, pinned.

Restructuring the transformer must not change what it generates: each derivative's source
(specialized to the workload's smallest arguments, for any shapes, and in forward mode, for
any shapes and specialized) is compared byte for byte with ``golden/<name>.txt``. After a change that is meant to alter the
generated code, regenerate with ``SRCGRAD_UPDATE_GOLDEN=1 python -m pytest
tests/transform/test_golden_source.py`` and review the diff like any other code change.
"""
import importlib.util
import os
import pathlib

import numpy as np
import pytest

import srcgrad as sg

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("SRCGRAD_UPDATE_GOLDEN") == "1"


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


workloads = _module("golden_workloads", ROOT / "benchmarks" / "workloads.py")
transform_time = _module("golden_transform_time", ROOT / "benchmarks" / "transform_time.py")


def _cases():
    for workload in workloads.WORKLOADS:
        size = workload.sizes[0]
        yield workload.loss, getattr(workloads, workload.loss), workload.wrt, \
            lambda w=workload, s=size: getattr(workloads, w.make_args)(
                np.random.default_rng(0), *s.params)
    yield "fifty_lines", transform_time.fifty_lines, transform_time.WRT, transform_time.arguments


def _check(name, text):
    path = GOLDEN / f"{name}.txt"
    if UPDATE or not path.exists():
        path.write_text(text)
        if not UPDATE:
            pytest.fail(f"{path} did not exist; written now: review it and commit it")
    assert text == path.read_text(), (
        f"the generated source of {name} changed; if that is meant, regenerate with "
        f"SRCGRAD_UPDATE_GOLDEN=1 and review the diff")


@pytest.mark.parametrize("name, function, wrt, make_args",
                         list(_cases()), ids=[c[0] for c in _cases()])
def test_generated_source_is_unchanged(name, function, wrt, make_args):
    args = make_args()
    specialized = sg.source(sg.grad(function, wrt=wrt), *args)
    any_shape = sg.source(sg.grad(function, wrt=wrt))
    forward = sg.source(sg.jvp(function, wrt=wrt))
    jvp = sg.jvp(function, wrt=wrt)
    tangents = dict(zip(jvp.generated.function.__srcgrad_tangents__,
                        (_direction(args[k]) for k in (wrt if isinstance(wrt, tuple)
                                                       else (wrt,)))))
    forward_specialized = sg.source(jvp, *args, **tangents)
    _check(name, "# specialized to the arguments\n" + specialized +
           "\n\n# for any shapes\n" + any_shape + "\n\n# forward mode\n" + forward +
           "\n\n# forward mode, specialized to the arguments\n" + forward_specialized + "\n")


def _direction(a):
    """A tangent shaped like ``a`` (a number for a number)."""
    return np.cos(a) if hasattr(a, "shape") else float(np.cos(a))


# --- one rule example per family of the README's covered-functions table -------------------------
# The speed audit of issue #12 read these (a rule's generated code is what a careful person would
# write): each is pinned here, specialized to its arguments, so a change to a rule's generated
# code shows up as a diff to review.

def rule_elementwise(x):
    return np.sum(np.tanh(x) * np.exp(x) + np.arctan2(x, 2.0) + np.maximum(x, 0.0))


def rule_reductions(x):
    return (np.sum(np.mean(x, axis=0) ** 2) + np.sum(np.cumsum(x, axis=1)) + np.max(x)
            + np.sum(np.var(x, axis=1)))


def rule_linalg(x, w):
    return (np.sum(np.tanh(x @ w)) + np.trace(w.T @ w)
            + np.sum(np.linalg.svd(w, compute_uv=False)))


def rule_shapes(x):
    return (np.sum(np.concatenate([x, x[:, :2] * 2], axis=1) ** 2)
            + np.sum(np.transpose(x)[0] ** 2) + np.sum(x.reshape(-1)[::2] ** 2)
            + np.sum(np.where(x > 0, x, 0.1 * x)))


def rule_scipy(x):
    from scipy import special
    return (np.sum(special.logsumexp(x, axis=1)) + np.sum(special.expit(x))
            + np.sum(special.erf(x)))


RULE_EXAMPLES = [("rules_elementwise", rule_elementwise, 1), ("rules_reductions", rule_reductions, 1),
                 ("rules_linalg", rule_linalg, 2), ("rules_shapes", rule_shapes, 1),
                 ("rules_scipy", rule_scipy, 1)]


@pytest.mark.parametrize("name, function, arity", RULE_EXAMPLES, ids=[e[0] for e in RULE_EXAMPLES])
def test_generated_source_of_rules_is_unchanged(name, function, arity):
    if name == "rules_scipy":
        pytest.importorskip("scipy")
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((4, 3)), rng.standard_normal((3, 2))][:arity]
    wrt = tuple(range(arity)) if arity > 1 else 0
    _check(name, "# specialized to the arguments\n" + sg.source(sg.grad(function, wrt=wrt), *args)
           + "\n")
