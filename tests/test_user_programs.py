"""Programs written from the user's side (``tests/user_programs.py``): right in every mode, or refused.

Each program is written to its own file under ``tmp_path``, imported, and checked by
``checks.derivative_findings`` in grad, value_and_grad, vjp and jvp. A mode passes when it is
right, or when srcgrad raises a ``SrcgradError`` whose message names the program's file and line.
Never a wrong number, never another exception from inside srcgrad. A program whose plain function
raises (or is not a finite scalar) is skipped: that error is the user's, not srcgrad's.

* default: the programs of seeds 0..119, the same on every run; those that fail on main today are
  ``KNOWN`` (strict xfail, with the failure class; test_trust.py holds a minimal reproducer of each);
* ``SRCGRAD_USER_PROGRAMS=N``: N programs from new seeds (``SRCGRAD_USER_SEED=S`` to repeat a run),
  no xfail marks; ``python tests/fuzz_tally.py user --count N`` counts outcomes instead of failing.
"""
import os
import random
import re
import sys

import numpy as np
import pytest

import srcgrad as sg  # noqa: F401
from checks import derivative_findings
from source_files import import_source
from user_programs import generate, precheck

MODES = ("grad", "value_and_grad", "vjp", "jvp")
MANY = int(os.environ.get("SRCGRAD_USER_PROGRAMS", "0") or 0)
BASE = int(os.environ.get("SRCGRAD_USER_SEED", "0") or 0) or random.randrange(1, 10 ** 6)
DEFAULT_SEEDS = range(120)

#: seed -> the failure class, for the default seeds that fail on main today.
KNOWN = {}


def check_user_program(seed, directory):
    program = generate(seed)
    module, path = import_source(program.source, directory, f"user_program_{seed}")
    try:
        f = getattr(module, program.name)
        why = precheck(f, program)
        if why:
            pytest.skip(why)
        findings = derivative_findings(f, *program.fresh_args(), wrt=program.wrt, modes=MODES,
                                       rtol=1e-4, atol=1e-6, catch=True)
    finally:
        sys.modules.pop(module.__name__, None)
    bad = []
    for finding in findings:
        if finding.kind == "unclear":
            continue
        if finding.kind == "refused":
            message = str(finding.error)
            where = re.search(re.escape(path.name) + r", line (\d+)", message)
            if where and 1 <= int(where.group(1)) <= program.source.count("\n"):
                continue
            finding.message += f"\n  (the refusal does not name a line of {path.name})"
        bad.append(finding)
    if findings and all(x.kind == "unclear" for x in findings):
        pytest.skip("finite differences too unclear to judge")
    assert not bad, (f"seed {seed}:\n" + "\n".join(map(str, bad)) + "\n\n"
                     + program.describe())


def _seeds():
    if MANY:
        return [pytest.param(BASE * 100003 + k, id=f"seed{BASE * 100003 + k}")
                for k in range(MANY)]
    return [pytest.param(seed, id=f"seed{seed}", marks=pytest.mark.xfail(
        strict=True, reason=KNOWN[seed])) if seed in KNOWN else seed for seed in DEFAULT_SEEDS]


@pytest.mark.parametrize("seed", _seeds())
def test_user_program(seed, tmp_path):
    check_user_program(seed, tmp_path)


def test_the_generator_writes_every_family_and_plain_programs_run():
    families = set()
    for seed in range(200):
        program = generate(seed)
        families.add(program.family)
        namespace = {}
        exec(compile(program.source, "<user program>", "exec"), namespace)
        args = program.fresh_args()
        with np.errstate(all="ignore"):
            value = namespace[program.name](*args)
        assert np.ndim(value) == 0, program.source
    from user_programs import FAMILIES
    assert families == set(FAMILIES)
