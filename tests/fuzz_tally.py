"""Run many random programs from either generator and count the outcomes per mode (no pytest).

    python tests/fuzz_tally.py grammar --count 300 [--extra | --features walrus,matrix] [--seed 1]
    python tests/fuzz_tally.py user --count 300 [--seed 1]
    ... --show 3      print up to 3 programs of each failure class
    ... --save DIR    also write each failing program there
    ... --order 2     also second order (hessian, hvp, grad of grad)
    ... --eager       also the eager Tensor

Outcomes per program: "ok" (every mode right), "skipped" (near a kink, too large, or finite
differences too unclear to judge), or one finding per failing mode: wrong, inplace, crash,
refused (srcgrad refused; for the user generator a refusal is fine when it names the program's
file and line, and is counted "refused-ok"; for the grammar every refusal is a
"false-refusal"), unclear.
"""
import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))

from checks import derivative_findings  # noqa: E402
from source_files import import_source  # noqa: E402
from program_grammar import (ALL_FEATURES, DEFAULT_FEATURES, ProgramGenerator,  # noqa: E402
                             RandomChooser, instrument)

MODES = ("grad", "value_and_grad", "vjp", "jvp")
EXTRA_MODES = ()   # set by --order 2 ("hessian") and --eager ("eager")


def classify_refusal(finding, path):
    """A refusal is fine when its message names the program's file and a line."""
    message = str(finding.error)
    return "refused-ok" if (path.name in message and "line" in message) else "refused-bad"


def grammar_case(k, seed, features, directory):
    program = ProgramGenerator(RandomChooser(seed * 1000003 + k), features).program()
    traced, margins = instrument(program.source, program.name)
    with np.errstate(all="ignore"):
        value = traced(*program.copy_args())
    if not np.isfinite(value) or abs(value) > 1e6 or any(
            not m[1] > 1e-3 * m[2] for m in margins):
        return program.source, None, "skipped", program.features
    module, path = import_source(program.source, directory, f"grammar_{seed}_{k}")
    args = program.copy_args()
    findings = derivative_findings(getattr(module, program.name), *args,
                                   wrt=tuple(range(len(args))), modes=MODES + EXTRA_MODES, rtol=1e-4,
                                   atol=1e-6, catch=True)
    if program.rebind and not findings:
        for name, v in program.rebind.items():
            setattr(module, name, v)
        findings = derivative_findings(getattr(module, program.name), *program.copy_args(),
                                       wrt=tuple(range(len(args))), modes=MODES + EXTRA_MODES, rtol=1e-4,
                                       atol=1e-6, catch=True)
        for x in findings:
            x.message = f"after rebinding {program.rebind}: {x.message}"
    sys.modules.pop(module.__name__, None)
    return program.describe(), (findings, path), None, program.features


def user_case(k, seed, directory):
    import user_programs
    program = user_programs.generate(seed * 1000003 + k)
    module, path = import_source(program.source, directory, f"user_{seed}_{k}")
    f = getattr(module, program.name)
    verdict = user_programs.precheck(f, program)
    if verdict:
        sys.modules.pop(module.__name__, None)
        return program.source, None, "skipped", {program.family}
    findings = derivative_findings(f, *program.fresh_args(), wrt=program.wrt, modes=MODES + EXTRA_MODES,
                                   rtol=1e-4, atol=1e-6, catch=True)
    sys.modules.pop(module.__name__, None)
    return program.describe(), (findings, path), None, {program.family}


def signature(finding):
    import re
    first = finding.message.splitlines()[0]
    if finding.error is not None:
        first = type(finding.error).__name__ + ": " + str(finding.error).split(":")[-1][:80]
    return re.sub(r"#\d+|line \d+|-?\d+\.\d+", "N", first)[:120]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generator", choices=["grammar", "user"])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--extra", action="store_true")
    parser.add_argument("--features", default="")
    parser.add_argument("--show", type=int, default=1)
    parser.add_argument("--save", default="")
    parser.add_argument("--order", type=int, default=1, help="2: also hessian, hvp, grad(grad)")
    parser.add_argument("--eager", action="store_true", help="also the eager Tensor")
    parser.add_argument("--only", default="", help="check only these modes, e.g. hessian")
    options = parser.parse_args(argv)
    global MODES, EXTRA_MODES
    EXTRA_MODES = (("hessian",) if options.order >= 2 else ()) + \
        (("eager",) if options.eager else ())
    if options.only:
        MODES = tuple(m.strip() for m in options.only.split(","))
    features = ALL_FEATURES if options.extra else DEFAULT_FEATURES
    if options.features:
        features = DEFAULT_FEATURES | {x.strip() for x in options.features.split(",")}
    directory = tempfile.mkdtemp(prefix="srcgrad_fuzz_")
    outcomes = collections.Counter()
    per_mode = collections.Counter()
    classes = collections.defaultdict(list)
    by_feature = collections.Counter()
    start = time.time()
    for k in range(options.count):
        try:
            if options.generator == "grammar":
                text, result, skipped, used = grammar_case(k, options.seed, features, directory)
            else:
                text, result, skipped, used = user_case(k, options.seed, directory)
        except Exception as error:  # noqa: BLE001 (a bug in the harness or the plain program)
            outcomes["harness-error"] += 1
            classes[("harness", "error", f"{type(error).__name__}: {error}"[:120])].append(
                f"# program {k}")
            continue
        if skipped:
            outcomes["skipped"] += 1
            continue
        findings, path = result
        kinds = []
        for x in findings:
            kind = x.kind
            if kind == "refused":   # the grammar writes only the language srcgrad supports
                kind = classify_refusal(x, path) if options.generator == "user" \
                    else "false-refusal"
            kinds.append(kind)
            per_mode[(x.mode, kind)] += 1
            classes[(x.mode, kind, signature(x))].append(text + "\n# " + str(x)[:2000])
            if kind not in ("refused-ok", "unclear"):
                for feature in used:
                    by_feature[feature] += 1
        if not findings:
            outcomes["ok"] += 1
        elif all(k == "unclear" for k in kinds):
            outcomes["skipped"] += 1
        elif all(k in ("refused-ok", "unclear") for k in kinds):
            outcomes["refused-ok"] += 1
        else:
            outcomes["failed"] += 1
        if options.save and findings:
            Path(options.save).mkdir(parents=True, exist_ok=True)
            (Path(options.save) / f"{options.generator}_{options.seed}_{k}.txt").write_text(
                text + "\n\n" + "\n".join(str(x) for x in findings))
    elapsed = time.time() - start
    print(f"{options.generator}: {options.count} programs, seed {options.seed}, "
          f"{elapsed:.1f} s")
    print("outcomes:", dict(outcomes))
    print("per mode:", {f"{m}/{k}": n for (m, k), n in sorted(per_mode.items())})
    if by_feature:
        print("features of failing programs:", dict(by_feature.most_common()))
    for (mode, kind, sig), texts in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        if kind in ("refused-ok",) and options.show < 2:
            print(f"\n=== {mode} {kind} x{len(texts)}: {sig}")
            continue
        print(f"\n=== {mode} {kind} x{len(texts)}: {sig}")
        for text in texts[:options.show]:
            print(text)


if __name__ == "__main__":
    main()
