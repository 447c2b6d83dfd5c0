"""Differential test: srcgrad in every mode against finite differences on random programs.

Hypothesis writes small functions from the grammar in ``tests/program_grammar.py`` (assignment and
rebinding, augmented and tuple assignment, if/elif/else, for and while loops nested twice, break,
continue, early return, the walrus operator, indexing and slicing, element writes into vectors
and 3x3 matrices (rows, columns, elements, copies first), floats broadcast against arrays,
+ - * / **, the smooth NumPy functions, reductions, np.dot, np.where, np.maximum/np.abs away from
their kinks, helper functions called with aliased arguments, a module global rebound between two
checks), writes each one to its own ``.py``
file so that ``inspect.getsource`` can read it, imports it, and checks it with
``checks.derivative_findings`` in every first-order mode: ``sg.grad`` and the pullback of
``sg.vjp`` against central differences, the value of ``sg.value_and_grad``, ``sg.jvp`` by the
dot-product test against the vjp and one directional difference, inputs never changed in place.
A program whose module defines globals it reads (``SCALE``) is checked again after they change.

* ``python -m pytest tests/transform/test_random_programs.py -q``: 500 programs, the same ones
  on every run (derandomized).
* ``SRCGRAD_MANY_PROGRAMS=5000``: that many programs, new ones on each run.
* ``SRCGRAD_EXTRA_FEATURES=1`` (or ``=list_append``): also the constructs that are off by
  default because main still fails them (``program_grammar.EXTRA_FEATURES``: list appends,
  tuples and lists passed to helpers, and constructs the grammar gained later: boolean masks,
  ``x[:, None]``, slices with steps and negative bounds, ``np.clip``, conditional expressions,
  nested functions); move a name into ``DEFAULT_FEATURES`` once they pass.
* ``python tests/fuzz_tally.py grammar --count 300 [--extra] [--order 2] [--eager]``: counts
  outcomes per mode instead of stopping at the first failure.

A failure shows the program, its inputs and a standalone reproducer; Hypothesis shrinks it first.
"""
import itertools
import os
import sys
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, event, given, note, settings
from hypothesis import strategies as st
from checks import derivative_findings
from source_files import import_source
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
DEFAULT_PROGRAMS = 500
MODES = ("grad", "value_and_grad", "vjp", "jvp")
MANY_PROGRAMS = int(os.environ.get("SRCGRAD_MANY_PROGRAMS", "0") or 0)

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
    stem = f"srcgrad_random_program_{next(_serial)}_{uuid.uuid4().hex[:8]}"
    module, _ = import_source(program.source, directory, stem)
    return module, getattr(module, program.name)


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

    # 2. srcgrad, on the program imported from its own file, in every mode; then, where the
    #    module has globals the program reads, again after they are rebound.
    module, f = load(program, directory)
    try:
        check_modes(program, f, "")
        if program.rebind:
            for name, value in program.rebind.items():
                setattr(module, name, value)
            check_modes(program, f, f"after setting {program.rebind} on the module: ")
        for feature in program.features:
            event(f"checked, uses {feature}")
    finally:
        sys.modules.pop(module.__name__, None)


def check_modes(program, f, when):
    args = program.copy_args()
    wrt = tuple(range(len(args)))
    findings = derivative_findings(f, *args, wrt=wrt, modes=MODES, rtol=RTOL, atol=ATOL,
                                   catch=True)
    for finding in findings:
        event(f"finding: {finding.mode} {finding.kind}")
    if findings and all(x.kind == "unclear" for x in findings):
        event("skipped: finite differences disagree with each other")
        assume(False)
    serious = [x for x in findings if x.kind != "unclear"]
    if serious:
        first = serious[0]
        what = {"refused": "srcgrad refused a program of the language it supports",
                "crash": "srcgrad crashed on a program of the language it supports",
                "inplace": "a derivative changed its inputs in place",
                "wrong": "a derivative disagrees"}[first.kind]
        pytest.fail(f"{when}{what} ({first.mode}):\n" + "\n".join(map(str, serious))
                    + f"\n\n{program.describe()}\n"
                    f"# standalone reproducer (run from the repository root):\n"
                    f"{program.reproducer()}\n{_generated_source(f, wrt, first.mode)}",
                    pytrace=False)


def _generated_source(f, wrt, mode="grad"):
    make = {"grad": sg.grad, "value_and_grad": sg.value_and_grad, "vjp": sg.vjp,
            "jvp": sg.jvp}.get(mode, sg.grad)
    try:
        return f"# srcgrad's generated code ({mode}):\n" + sg.source(make(f, wrt=wrt))
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
        for word in (".append(", "pair_product", "pair_sum"):
            assert word not in program.source, program.source


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


def test_instrumentation_records_both_bounds_of_clip():
    source = ("import numpy as np\n\ndef f(a):\n    return np.sum(np.clip(a, -0.7, 1.0))\n")
    f, margins = instrument(source, "f")
    assert f(np.array([0.1, 0.95, -1.5])) == pytest.approx(0.1 + 0.95 - 0.7)
    assert [m[0] for m in margins] == ["np.clip"]
    assert margins[0][1] == pytest.approx(0.05)   # 0.95 is 0.05 from the upper bound
