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
