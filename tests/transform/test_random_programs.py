"""Differential test: srcgrad's reverse mode against central differences on random programs.

Hypothesis writes small functions from the grammar in ``tests/program_grammar.py`` (assignment and
rebinding, augmented and tuple assignment, if/elif/else, for and while loops nested twice,
indexing and slicing, floats broadcast against arrays, + - * / **, the smooth NumPy functions,
reductions, np.dot, np.maximum/np.abs away from their kinks), writes each one to its own ``.py``
file so that ``inspect.getsource`` can read it, imports it, and compares
``srcgrad.grad(f, wrt=all)`` with central differences.

* ``python -m pytest tests/transform/test_random_programs.py -q``: 300 programs, the same ones
  on every run (derandomized).
* ``SRCGRAD_MANY_PROGRAMS=5000``: that many programs, new ones on each run.
* ``SRCGRAD_EXTRA_FEATURES=1`` (or ``=break,helpers``): also the constructs that are off by
  default (``program_grammar.EXTRA_FEATURES``: break, continue, early return, helper functions,
  element writes, lists); move a name into ``DEFAULT_FEATURES`` there to keep it on.

A failure shows the program, its inputs and a standalone reproducer; Hypothesis shrinks it first.
"""
import importlib.util
import itertools
import os
import sys
import traceback
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, event, given, note, settings
from hypothesis import strategies as st
from program_grammar import (
    ALL_FEATURES,
    DEFAULT_FEATURES,
    EXTRA_FEATURES,
    HypothesisChooser,
    ProgramGenerator,
    RandomChooser,
    enabled_features,
    instrument,
)

import srcgrad as sg

FEATURES = enabled_features()
DEFAULT_PROGRAMS = 300
MANY_PROGRAMS = int(os.environ.get("SRCGRAD_MANY_PROGRAMS", "0") or 0)

EPS = 1e-6            # central differences
RTOL, ATOL = 1e-4, 1e-6
MARGIN = 1e-3         # relative distance a branch condition or kink must keep from flipping
MAX_VALUE = 1e6       # larger outputs are skipped: differences lose too many digits

SETTINGS = settings(
    max_examples=MANY_PROGRAMS or DEFAULT_PROGRAMS,
    deadline=None,
    derandomize=not MANY_PROGRAMS,
    database=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@st.composite
def programs(draw, features=FEATURES):
    return ProgramGenerator(HypothesisChooser(draw), features).program()


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("random_programs")


_serial = itertools.count()


def load(program, directory):
    """Write ``program`` to its own file and import it (getsource needs a real file)."""
    name = f"srcgrad_random_program_{next(_serial)}_{uuid.uuid4().hex[:8]}"
    path = directory / f"{name}.py"
    path.write_text(program.source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, getattr(module, program.name)


# ------------------------------------------------------------------------------------------------
# Finite differences

def _shifted(args, position, k, step):
    shifted = [np.array(a, dtype=np.float64) if np.ndim(a) else float(a) for a in args]
    if np.ndim(shifted[position]):
        shifted[position].flat[k] += step
    else:
        shifted[position] += step
    return shifted


def central(f, args, position, eps=EPS):
    """Central differences of scalar ``f(*args)`` with respect to ``args[position]``."""
    size = np.size(args[position])
    out = np.zeros(size)
    for k in range(size):
        out[k] = (f(*_shifted(args, position, k, eps))
                  - f(*_shifted(args, position, k, -eps))) / (2 * eps)
    return out.reshape(np.shape(args[position]))


def five_point(f, args, position, h):
    """The fourth-order stencil: a second opinion when central differences disagree."""
    size = np.size(args[position])
    out = np.zeros(size)
    for k in range(size):
        v = [f(*_shifted(args, position, k, s * h)) for s in (2, 1, -1, -2)]
        out[k] = (-v[0] + 8 * v[1] - 8 * v[2] + v[3]) / (12 * h)
    return out.reshape(np.shape(args[position]))


def close(actual, expected, scale):
    return np.all(np.abs(np.asarray(actual, dtype=np.float64) - expected)
                  <= RTOL * np.abs(expected) + ATOL * scale)


def _show(values):
    return np.array2string(np.asarray(values, dtype=np.float64), precision=8)


def judge(f, args, gradients):
    """Compare ``gradients`` with finite differences of ``f`` at ``args``.

    Returns ``(verdict, details)``: "ok"; "wrong" (the gradient disagrees with central
    differences and with the five-point stencil while those two agree); or "unclear" (the
    difference quotients disagree with each other: the program is too ill-conditioned there).
    """
    with np.errstate(all="ignore"):
        value = float(f(*args))
        estimates = [central(f, args, p) for p in range(len(args))]
    scale = max([1.0, abs(value)] + [float(np.max(np.abs(e), initial=0.0)) for e in estimates])
    details = []
    verdict = "ok"
    for position, (gradient, fd) in enumerate(zip(gradients, estimates)):
        if close(gradient, fd, scale):
            continue
        with np.errstate(all="ignore"):
            others = [five_point(f, args, position, h) for h in (1e-4, 1e-3)] + \
                [central(f, args, position, 1e-5)]
        if any(close(gradient, other, scale) for other in others):
            event("central differences at eps=1e-6 were off; another stencil agreed")
            continue
        agreeing = close(fd, others[0], scale) or close(others[0], others[1], scale)
        details.append(f"argument {position} ({'abc'[position]}):\n"
                       f"  srcgrad:              {_show(gradient)}\n"
                       f"  central (eps=1e-6):   {_show(fd)}\n"
                       f"  five-point (h=1e-4):  {_show(others[0])}\n"
                       f"  five-point (h=1e-3):  {_show(others[1])}")
        if agreeing:
            verdict = "wrong"
        elif verdict == "ok":
            verdict = "unclear"
    return verdict, "\n".join(details)


# ------------------------------------------------------------------------------------------------
# One program

def check_program(program, directory):
    description = program.describe()
    note(description)

    # 1. Run an instrumented copy: skip inputs near a branch flip or a kink, or too large.
    traced, margins = instrument(program.source, program.name)
    with np.errstate(all="ignore"):
        value = traced(*program.copy_args())
    assert np.ndim(value) == 0, f"the generator made a non-scalar program:\n{description}"
    if not np.isfinite(value) or abs(value) > MAX_VALUE:
        event("skipped: output not finite or too large")
        assume(False)
    narrow = [m for m in margins if not m[1] > MARGIN * m[2]]
    if narrow:
        event(f"skipped: input within {MARGIN} of a {narrow[0][0]} kink")
        assume(False)

    # 2. srcgrad, on the program imported from its own file.
    module, f = load(program, directory)
    try:
        args = program.copy_args()
        wrt = tuple(range(len(args)))
        try:
            gradients = sg.grad(f, wrt=wrt)(*args)
        except Exception as error:  # every error is a finding: these programs are supported
            kind = "srcgrad refused" if isinstance(error, sg.SrcgradError) else "srcgrad crashed on"
            pytest.fail(f"{kind} a program of the language it supports:\n"
                        f"{type(error).__name__}: {error}\n\n"
                        f"# features used: {', '.join(sorted(program.features))}\n"
                        f"# standalone reproducer (run from the repository root):\n"
                        f"{program.reproducer()}\n{traceback.format_exc()}\n"
                        f"{_generated_source(f, wrt)}", pytrace=False)
        for before, after in zip(program.args, args):
            assert np.array_equal(before, after), (
                f"srcgrad's gradient changed its inputs in place:\n{description}")
        assert isinstance(gradients, tuple) and len(gradients) == len(args), (
            f"grad(wrt={wrt}) returned {type(gradients).__name__}, not a tuple of "
            f"{len(args)}:\n{description}")
        for position, (gradient, arg) in enumerate(zip(gradients, args)):
            assert np.shape(gradient) == np.shape(arg), (
                f"the gradient for argument {position} has shape {np.shape(gradient)}, "
                f"expected {np.shape(arg)}:\n{description}")
            assert np.all(np.isfinite(gradient)), (
                f"the gradient for argument {position} is not finite: {gradient}\n{description}")

        # 3. Against finite differences.
        verdict, details = judge(f, program.copy_args(), gradients)
        if verdict == "unclear":
            event("skipped: finite differences disagree with each other")
            assume(False)
        assert verdict == "ok", (
            f"srcgrad's gradient disagrees with finite differences:\n{details}\n\n"
            f"# features used: {', '.join(sorted(program.features))}\n"
            f"# standalone reproducer (run from the repository root):\n{program.reproducer()}\n"
            f"{_generated_source(f, wrt)}")
        for feature in program.features:
            event(f"checked, uses {feature}")
    finally:
        sys.modules.pop(module.__name__, None)


def _generated_source(f, wrt):
    try:
        return "# srcgrad's generated code:\n" + sg.source(sg.grad(f, wrt=wrt))
    except Exception as error:
        return f"# (no generated code: {type(error).__name__}: {error})"


@SETTINGS
@given(program=programs())
def test_random_program_gradients(program, program_dir):
    check_program(program, program_dir)


# ------------------------------------------------------------------------------------------------
# The generator and the harness themselves


def sample(features, count, seed=0):
    return [ProgramGenerator(RandomChooser(seed * 7919 + k), features).program()
            for k in range(count)]


def run_plain(program, args):
    namespace = {}
    exec(compile(program.source, "<program>", "exec"), namespace)
    with np.errstate(all="ignore"):
        return namespace[program.name](*args)


@pytest.mark.parametrize("features", [DEFAULT_FEATURES, ALL_FEATURES], ids=["default", "all"])
def test_generated_programs_run_return_a_scalar_and_leave_their_inputs_alone(features):
    programs_ = sample(features, 150)
    for program in programs_:
        args = program.copy_args()
        value = run_plain(program, args)
        assert np.ndim(value) == 0, program.source
        for before, after in zip(program.args, args):
            assert np.array_equal(before, after), program.source
        assert program.features <= features
        instrumented, _ = instrument(program.source, program.name)
        with np.errstate(all="ignore"):
            again = instrumented(*program.copy_args())
        assert (again == value) or (np.isnan(again) and np.isnan(value)), program.source
    used = set().union(*(p.features for p in programs_))
    assert used == features, f"never generated: {sorted(features - used)}"


def test_default_programs_use_no_extra_construct():
    for program in sample(DEFAULT_FEATURES, 300, seed=1):
        assert not program.features & EXTRA_FEATURES
        for word in ("break", "continue", ".append(", "def h", "np.zeros", "] = ", "] += "):
            assert word not in program.source, program.source
        assert program.source.count("return") == 1, program.source


def test_enabled_features_reads_the_environment():
    assert enabled_features({}) == DEFAULT_FEATURES
    assert enabled_features({"SRCGRAD_EXTRA_FEATURES": "0"}) == DEFAULT_FEATURES
    assert enabled_features({"SRCGRAD_EXTRA_FEATURES": "1"}) == ALL_FEATURES
    assert enabled_features({"SRCGRAD_EXTRA_FEATURES": "break, helpers"}) == \
        DEFAULT_FEATURES | {"break", "helpers"}
    with pytest.raises(ValueError):
        enabled_features({"SRCGRAD_EXTRA_FEATURES": "goto"})


def test_instrumentation_records_margins():
    source = ("import numpy as np\n\ndef f(a, b):\n    if np.sum(a) > 0.25:\n"
              "        b = np.maximum(b, 0.5)\n    return np.sum(np.abs(a)) + b\n")
    f, margins = instrument(source, "f")
    f(np.array([0.1, 0.2, -0.3]), 0.75)
    assert [m[0] for m in margins] == ["comparison", "np.abs"]
    assert margins[0][1] == pytest.approx(0.25)
    assert margins[1][1] == pytest.approx(0.1)
    margins.clear()
    f(np.array([0.1, 0.2, 0.3]), 0.75)
    assert [m[0] for m in margins] == ["comparison", "np.maximum", "np.abs"]
    assert margins[1][1] == pytest.approx(0.25)


def _cubic(a, b):
    return np.sum(a ** 3) * b


def test_judge_accepts_right_and_rejects_wrong_gradients():
    a, b = np.array([0.3, -0.5, 1.1]), 0.7
    right = (3 * a ** 2 * b, np.sum(a ** 3))
    assert judge(_cubic, [a, b], right)[0] == "ok"
    wrong = (right[0] * (1 + 1e-3), right[1])
    verdict, details = judge(_cubic, [a, b], wrong)
    assert verdict == "wrong" and "argument 0" in details
