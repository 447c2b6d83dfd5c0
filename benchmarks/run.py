"""srcgrad's gradient time beside naive and expert hand-written NumPy, HIPS autograd, PyTorch
and JAX.

Run:  python benchmarks/run.py [--quick] [--check] [--only NAME] [--tools srcgrad,torch,...]

Every workload of ``workloads.py`` is one plain NumPy loss and two hand-written gradients: a
naive one, written the way the generated code is, and an expert one (closed forms, in-place
temporaries, batched weight gradients). Before anything is timed, both are checked against
central differences (random directions) and every tool's gradient against the naive one; a tool
that fails or disagrees shows that in its cell instead of a time. Then everything is timed
interleaved, in one process and on one thread, rounds rotating the order, and each ratio is the
median of the per-round ratios (paired, so a change of load between rounds cancels). srcgrad is
timed twice: through its ``Derivative`` (``sg.grad(f)(*args)``) and as the generated function
called directly, which separates the dispatch (signature lookup, argument checks) from the code.
The optional libraries (autograd, torch, jax) are used where installed. The output is Markdown.

``--quick`` (about 2-3 minutes on two cores) takes fewer and shorter samples, and runs JAX only
at the tiny size of each workload: outside ``jit``, a JAX gradient re-traces every operation on
every call, and ``jit`` compiles the unrolled loops of the larger sizes for minutes.
"""
import os

# One thread everywhere, set before NumPy, PyTorch or XLA read them.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import importlib.metadata  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # srcgrad itself, when run from a plain checkout

import numpy as np  # noqa: E402

import srcgrad as sg  # noqa: E402
import srcgrad.api  # noqa: E402
import workloads  # noqa: E402

TOOLS = ("srcgrad", "autograd", "torch", "jax", "jax.jit")
DIRECT = "srcgrad direct"  # the generated function called without the Derivative around it


@dataclass
class Settings:
    sample_s: float      # one sample: this many seconds of back-to-back calls
    rounds: int          # samples per tool (interleaved), median taken
    case_budget_s: float  # the rounds of one case are cut down to fit this
    single_cap_s: float  # a call slower than this is timed once, not sampled
    skip_after_s: float  # a tool that took this long per call is skipped at larger sizes
    jit_max_eqns: int    # jit is not compiled for a traced gradient larger than this
    jax_tiny_only: bool


# XLA compiles an unrolled loop at roughly 5-10 ms per traced operation here (a 1,300-op
# gradient: 2.4 s, 13,000 ops: 83 s), hence jit_max_eqns.
QUICK = Settings(sample_s=0.02, rounds=7, case_budget_s=2.5, single_cap_s=0.5,
                 skip_after_s=1.0, jit_max_eqns=1500, jax_tiny_only=True)
FULL = Settings(sample_s=0.05, rounds=21, case_budget_s=12.0, single_cap_s=3.0,
                skip_after_s=4.0, jit_max_eqns=2000, jax_tiny_only=False)


# --- the libraries -------------------------------------------------------------------------------

def load_optional(wanted):
    """The optional libraries that are installed and wanted, each set up for the workloads."""
    found = {}
    if "autograd" in wanted and importlib.util.find_spec("autograd"):
        import autograd
        import autograd.numpy as anp
        found["autograd"] = (autograd, copy_of_workloads("workloads_autograd", anp))
    if "torch" in wanted and importlib.util.find_spec("torch"):
        import torch
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set by an earlier import
            pass
        import workloads_torch
        found["torch"] = (torch, workloads_torch)
    if ("jax" in wanted or "jax.jit" in wanted) and importlib.util.find_spec("jax"):
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        found["jax"] = (jax, copy_of_workloads("workloads_jax", jnp))
    return found


def copy_of_workloads(name, numpy_module):
    """A second copy of workloads.py whose ``np`` is ``numpy_module``: the same source, run on
    autograd's or JAX's NumPy (helpers such as softmax_xent resolve ``np`` in this copy too)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "workloads.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.np = numpy_module
    return module


def srcgrad_version():
    try:
        return importlib.metadata.version("srcgrad")
    except importlib.metadata.PackageNotFoundError:
        return "checkout"


def versions(libraries):
    lines = [f"date: {datetime.datetime.now().isoformat(timespec='seconds')}",
             f"python: {platform.python_version()} ({platform.python_implementation()}), "
             f"numpy: {np.__version__}, srcgrad: {srcgrad_version()}"]
    for name in libraries:
        lines[-1] += f", {name}: {importlib.metadata.version(name)}"
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    lines.append(f"machine: {platform.machine()} {cpu}, platform.processor()="
                 f"{platform.processor()!r}, os.cpu_count()={os.cpu_count()}, "
                 f"{platform.system()} {platform.release()}; one thread (OMP/OPENBLAS/MKL=1"
                 f"{', torch.set_num_threads(1)' if 'torch' in libraries else ''})")
    return lines


# --- gradients of each tool, as zero-argument callables ----------------------------------------

def as_tuple(gradient, wrt):
    return tuple(gradient) if isinstance(wrt, tuple) else (gradient,)


def positions(wrt):
    return wrt if isinstance(wrt, tuple) else (wrt,)


def to_numpy(value):
    if hasattr(value, "detach"):  # torch
        value = value.detach().numpy()
    return np.asarray(value, dtype=float)


def make_callables(workload, args, libraries, wanted, settings, tag, slow):
    """{tool: (zero-argument gradient call, None) or (None, reason it is not run)}."""
    loss = getattr(workloads, workload.loss)
    calls = {}
    if "srcgrad" in wanted:
        derivative = srcgrad_derivative(workload)
        calls["srcgrad"] = (lambda: derivative(*args), None)
    if "autograd" in libraries and "autograd" in wanted:
        autograd, module = libraries["autograd"]
        gradient = autograd.grad(getattr(module, workload.loss), argnum=workload.wrt)
        calls["autograd"] = (lambda: gradient(*args), None)
    if "torch" in libraries and "torch" in wanted:
        calls["torch"] = (torch_call(workload, args, *libraries["torch"]), None)
    if "jax" in libraries:
        jax, module = libraries["jax"]
        skip = "– (quick)" if settings.jax_tiny_only and tag != "tiny" else None
        if "jax" in wanted:
            calls["jax"] = (None, skip) if skip else (jax_call(workload, args, jax, module), None)
        if "jax.jit" in wanted:
            if skip is None and slow.get("jax.jit"):
                skip = f"not compiled ({slow['jax.jit']} at a smaller size)"
            calls["jax.jit"] = (None, skip) if skip else jit_call(workload, args, jax, module,
                                                                    settings, slow)
    return calls


_derivatives = {}


def srcgrad_derivative(workload):
    """One ``sg.grad`` object per workload, so its generated code can be called directly too."""
    if workload.loss not in _derivatives:
        _derivatives[workload.loss] = sg.grad(getattr(workloads, workload.loss), wrt=workload.wrt)
    return _derivatives[workload.loss]


def torch_call(workload, args, torch, module):
    wrt = positions(workload.wrt)
    converted = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            t = torch.from_numpy(a.copy())
            converted.append(t.requires_grad_() if i in wrt else t)
        elif isinstance(a, float):  # differentiated floats, and x0 of torch.sin(x0), as 0-d tensors
            converted.append(torch.tensor(a, dtype=torch.float64, requires_grad=i in wrt))
        else:
            converted.append(a)
    inputs = [converted[i] for i in wrt]
    function = getattr(module, workload.loss)
    if isinstance(workload.wrt, tuple):
        return lambda: torch.autograd.grad(function(*converted), inputs)
    return lambda: torch.autograd.grad(function(*converted), inputs)[0]


def jax_arguments(args, jax):
    return [jax.numpy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]


def jax_call(workload, args, jax, module):
    gradient = jax.grad(getattr(module, workload.loss), argnums=workload.wrt)
    converted = jax_arguments(args, jax)
    return lambda: jax.block_until_ready(gradient(*converted))


def jit_call(workload, args, jax, module, settings, slow):
    static = tuple(i for i, a in enumerate(args) if isinstance(a, int))
    gradient = jax.grad(getattr(module, workload.loss), argnums=workload.wrt)
    converted = jax_arguments(args, jax)
    try:
        eqns = len(jax.make_jaxpr(gradient, static_argnums=static)(*converted).eqns)
    except Exception as error:  # noqa: BLE001 - shown in the table
        return None, failure(error)
    if eqns > settings.jit_max_eqns:
        slow["jax.jit"] = f"{eqns} ops"
        return None, f"not compiled ({eqns} traced ops)"
    jitted = jax.jit(gradient, static_argnums=static)
    return lambda: jax.block_until_ready(jitted(*converted)), None


def failure(error):
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"error: {type(error).__name__}" + (f": {text[:160]}" if text else "")


# --- checks --------------------------------------------------------------------------------------

def check_hand_gradient(workload, args, rng, directions=3, kind="grad"):
    """The largest relative error of a hand-written gradient (``kind``: "grad", the naive one,
    or "expert") along random directions, against central differences of the loss; raises
    AssertionError above 1e-5."""
    loss, hand = getattr(workloads, workload.loss), getattr(workloads, getattr(workload, kind))
    gradient = as_tuple(hand(*args), workload.wrt)
    worst = 0.0
    for _ in range(directions):
        moves = {i: rng.standard_normal(np.shape(args[i])) for i in positions(workload.wrt)}
        h = 1e-6
        plus, minus = list(args), list(args)
        for i, move in moves.items():
            plus[i] = args[i] + h * move
            minus[i] = args[i] - h * move
            if isinstance(args[i], float):
                plus[i], minus[i] = float(plus[i]), float(minus[i])
        numerical = (loss(*plus) - loss(*minus)) / (2 * h)
        analytical = sum(float(np.sum(g * moves[i]))
                         for g, i in zip(gradient, positions(workload.wrt)))
        error = abs(numerical - analytical) / max(abs(analytical), 1e-3)
        worst = max(worst, error)
        assert error < 1e-5, (f"{workload.name}: hand-written gradient {analytical!r} differs from "
                              f"central differences {numerical!r} (relative error {error:.1e})")
    return worst


def mismatch(result, reference, wrt):
    """None when ``result`` matches the hand-written gradient, else a short description."""
    try:
        result = as_tuple(result, wrt)
        if len(result) != len(reference):
            return f"WRONG: {len(result)} gradients"
        for got, want in zip(result, reference):
            got, want = to_numpy(got), to_numpy(want)
            if got.shape != want.shape:
                return f"WRONG shape {got.shape}"
            scale = max(float(np.max(np.abs(want))) if want.size else 0.0, 1e-12)
            error = float(np.max(np.abs(got - want))) / scale if want.size else 0.0
            if not error <= 1e-6:
                return f"WRONG (rel. error {error:.1e})"
    except Exception as error:  # noqa: BLE001
        return failure(error)
    return None


# --- timing --------------------------------------------------------------------------------------

def seconds_per_call(call, number):
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


@dataclass
class Measured:
    time: float = None        # median seconds per call
    note: str = None          # why there is no time (error, skipped), or a footnote mark
    first: float = None       # the first call (transform, trace or compile included)
    single: bool = False      # timed by one call only
    samples: list = None      # seconds per call in each round (None when timed once)


def time_ratio(m, base):
    """``m``'s time over ``base``'s: the median of the per-round ratios where both were sampled
    in the same rounds (a change of load between rounds then cancels), else of the medians."""
    if m is None or base is None or m.time is None or not base.time:
        return None
    if m.samples and base.samples and len(m.samples) == len(base.samples):
        return statistics.median(a / b for a, b in zip(m.samples, base.samples))
    return m.time / base.time


def time_interleaved(calls, settings):
    """{tool: Measured}: an estimate each, then rounds of samples, tools interleaved."""
    results, estimates = {}, {}
    for tool, call in calls.items():
        try:
            estimate = seconds_per_call(call, 1)
            if estimate <= settings.single_cap_s:  # the first may have warmed caches up
                estimate = seconds_per_call(call, 1)
        except Exception as error:  # noqa: BLE001
            results[tool] = Measured(note=failure(error))
            continue
        results[tool] = Measured()
        if estimate > settings.single_cap_s:
            results[tool].time, results[tool].single = estimate, True
        else:
            estimates[tool] = estimate
    numbers = {tool: max(1, round(settings.sample_s / t)) for tool, t in estimates.items()}
    per_round = sum(numbers[tool] * t for tool, t in estimates.items()) or 1e-9
    rounds = max(3, min(settings.rounds, int(settings.case_budget_s / per_round)))
    samples = {tool: [] for tool in estimates}
    order = list(estimates)
    gc_was_enabled = gc.isenabled()
    for r in range(rounds):
        gc.collect()
        gc.disable()
        try:
            for tool in order[r % len(order):] + order[:r % len(order)]:  # rotate the start
                samples[tool].append(seconds_per_call(calls[tool], numbers[tool]))
        finally:
            if gc_was_enabled:
                gc.enable()
    for tool, values in samples.items():
        results[tool].time, results[tool].samples = statistics.median(values), values
    return results


def peak_bytes(call):
    """The tracemalloc peak of one call above what was allocated before it (NumPy's buffers are
    traced, and so are the Python objects a call makes: lists, floats, closures)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - before
        del result
    finally:
        tracemalloc.stop()
    return peak


def transform_times(workload, args):
    """srcgrad's first call from a cold cache (transform included, median of three), and the
    first call of a new sg.grad object of the same function (cached)."""
    loss = getattr(workloads, workload.loss)
    colds = []
    for _ in range(3):
        srcgrad.api._cache.clear()
        srcgrad.api._derivatives.clear()
        start = time.perf_counter()
        sg.grad(loss, wrt=workload.wrt)(*args)
        colds.append(time.perf_counter() - start)
    start = time.perf_counter()
    sg.grad(loss, wrt=workload.wrt)(*args)
    cached = time.perf_counter() - start
    return statistics.median(colds), cached


# --- one case ------------------------------------------------------------------------------------

@dataclass
class Case:
    workload: object
    size: object
    forward: Measured = None
    hand: Measured = None        # the naive hand-written gradient
    expert: Measured = None      # the expert hand-written gradient
    tools: dict = field(default_factory=dict)
    memory: dict = field(default_factory=dict)   # tool: peak bytes
    transform: tuple = None                      # (cold first call, cached first call)
    check_error: float = None


def run_case(workload, size, libraries, wanted, settings, rng, slow, check_only):
    args = getattr(workloads, workload.make_args)(rng, *size.params)
    case = Case(workload, size)
    case.check_error = max(check_hand_gradient(workload, args, rng),
                           check_hand_gradient(workload, args, rng, kind="expert"))
    loss, hand = getattr(workloads, workload.loss), getattr(workloads, workload.grad)
    expert = getattr(workloads, workload.expert)
    reference = as_tuple(hand(*args), workload.wrt)
    if size is workload.sizes[0] and "srcgrad" in wanted:
        try:
            case.transform = transform_times(workload, args)
        except Exception:  # noqa: BLE001 - the same error shows in srcgrad's cell below
            case.transform = None
    calls = {"forward": lambda: loss(*args), "hand": lambda: hand(*args),
             "expert": lambda: expert(*args)}
    notes = {}
    firsts = {}
    for tool, (call, reason) in make_callables(workload, args, libraries, wanted, settings,
                                               size.tag, slow).items():
        if reason is None and slow.get(tool):
            reason = f"skipped ({slow[tool]}/call at a smaller size)"
        if reason is not None:
            notes[tool] = reason
            continue
        try:
            start = time.perf_counter()
            result = call()  # the first call: transform, trace or compile included
            firsts[tool] = time.perf_counter() - start
            problem = mismatch(result, reference, workload.wrt)
            del result
        except Exception as error:  # noqa: BLE001
            problem = failure(error)
        if problem:
            notes[tool] = problem
        else:
            calls[tool] = call
            if tool == "srcgrad":  # the code that just ran, without the Derivative's dispatch
                generated = srcgrad.api._compiled(srcgrad_derivative(workload).last_run)
                calls[DIRECT] = lambda: generated(*args)
        if check_only and tool != "jax.jit" and firsts.get(tool, 0.0) > settings.skip_after_s:
            slow[tool] = format_time(firsts[tool])
    if check_only:
        case.tools = {tool: Measured(note=note) for tool, note in notes.items()}
        return case
    measured = time_interleaved(calls, settings)
    case.forward, case.hand = measured.pop("forward"), measured.pop("hand")
    case.expert = measured.pop("expert")
    if DIRECT in measured:
        case.tools[DIRECT] = measured.pop(DIRECT)
    case.tools.update({tool: measured.get(tool) or Measured(note=notes.get(tool))
                       for tool in TOOLS if tool in measured or tool in notes})
    for tool, m in case.tools.items():
        if tool in firsts and m.time is not None:
            m.first = firsts[tool]
    for tool, m in case.tools.items():
        if m.time is not None and m.time > settings.skip_after_s:
            slow[tool] = format_time(m.time)
    case.memory["hand"] = peak_bytes(calls["hand"])
    case.memory["expert"] = peak_bytes(calls["expert"])
    for tool in ("srcgrad", "autograd"):
        if tool in calls:
            case.memory[tool] = peak_bytes(calls[tool])
    return case


# --- the report ----------------------------------------------------------------------------------

def format_time(seconds):
    if seconds is None:
        return ""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def format_bytes(count):
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024 / 1024:.1f} MiB"


def ratio(numerator, denominator=1.0, single=False):
    if numerator is None or not denominator:
        return ""
    value = numerator / denominator
    text = f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return text + ("¹" if single else "")


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def time_table(cases, tools, footnotes):
    """The main table; errors and wrong results become numbered notes in ``footnotes``."""
    def cell(note, tool, case):
        if not note or not (note.startswith("error") or note.startswith("WRONG")):
            return note or ""
        text = f"{tool} on {case.workload.name}: {note}"
        if text not in footnotes:
            footnotes.append(text)
        return f"{note.split(':')[0].split(' ')[0]} [{footnotes.index(text) + 1}]"

    header = ["workload", "size", "forward", "naive", "expert", "srcgrad", "srcgrad/naive",
              "**srcgrad/expert**", "direct/expert", "dispatch", "naive/expert"]
    header += [f"{tool}/expert" for tool in tools[1:]]
    rows = []
    for case in cases:
        row = [case.workload.name, case.size.label, format_time(case.forward.time),
               format_time(case.hand.time), format_time(case.expert.time)]
        m = case.tools.get("srcgrad") or Measured(note="not run")
        direct = case.tools.get(DIRECT) or Measured()
        if m.time is None:
            row += [cell(m.note, "srcgrad", case), "", "", "", ""]
        else:
            dispatch = statistics.median(a - b for a, b in zip(m.samples, direct.samples)) \
                if m.samples and direct.samples and len(m.samples) == len(direct.samples) \
                else None
            expert_ratio = ratio(time_ratio(m, case.expert), single=m.single)
            row += [format_time(m.time), ratio(time_ratio(m, case.hand), single=m.single),
                    f"**{expert_ratio}**", ratio(time_ratio(direct, case.expert)),
                    format_time(dispatch) if dispatch is not None and m.time < 1e-3
                    else "–"]
        row.append(ratio(time_ratio(case.hand, case.expert)))
        for tool in tools[1:]:
            t = case.tools.get(tool) or Measured(note="not installed")
            row.append(cell(t.note, tool, case) if t.time is None
                       else ratio(time_ratio(t, case.expert), single=t.single))
        rows.append(row)
    return markdown(header, rows)


def extra_table(cases, tools):
    header = ["workload", "size", "srcgrad 1st call, cold", "srcgrad 1st call, cached",
              "peak mem naive", "peak mem expert", "peak mem srcgrad", "mem srcgrad/expert"]
    if "autograd" in tools:
        header.append("mem autograd/expert")
    if "jax.jit" in tools:
        header.append("jax.jit compile")
    rows = []
    for case in cases:
        cold, cached = case.transform or (None, None)
        expert_peak = case.memory.get("expert")
        row = [case.workload.name, case.size.label, format_time(cold), format_time(cached),
               format_bytes(case.memory["hand"]), format_bytes(expert_peak),
               format_bytes(case.memory["srcgrad"]) if "srcgrad" in case.memory else "",
               ratio(case.memory.get("srcgrad"), expert_peak)]
        if "autograd" in tools:
            row.append(ratio(case.memory.get("autograd"), expert_peak))
        if "jax.jit" in tools:
            j = case.tools.get("jax.jit") or Measured()
            row.append(format_time(j.first - j.time) if j.first is not None and j.time else "")
        rows.append(row)
    return markdown(header, rows)


def targets(cases):
    """The targets of issue 17 (issue 6's, against the expert gradients), each with the
    cases that miss it."""
    results = []

    def check(title, misses):
        results.append(f"- {'PASS' if not misses else 'MISS'}: {title}"
                       + ("" if not misses else " — missed by " + "; ".join(misses)))

    def named(case):
        return f"{case.workload.name} {case.size.label}"

    timed = [c for c in cases if (c.tools.get("srcgrad") or Measured()).time is not None]
    untimed = [named(c) + " (no time: " + (c.tools.get("srcgrad") or Measured()).note + ")"
               for c in cases if c not in timed and c.tools.get("srcgrad")]

    def vs(case, other):  # srcgrad's time over other's
        return time_ratio(case.tools["srcgrad"], other)

    check("srcgrad <= 1.5x expert hand-written at every size",
          untimed + [f"{named(c)} {vs(c, c.expert):.2f}x" for c in timed
                     if vs(c, c.expert) > 1.5])
    check("srcgrad <= 1.1x expert hand-written at large sizes",
          [f"{named(c)} {vs(c, c.expert):.2f}x" for c in timed
           if c.size.tag == "large" and vs(c, c.expert) > 1.1])
    for tool in ("autograd", "torch"):
        against = [c for c in timed if (c.tools.get(tool) or Measured()).time is not None]
        if not against:
            results.append(f"- n/a: srcgrad faster than {tool} (no case timed both)")
            continue
        check(f"srcgrad faster than {tool} at tiny and medium sizes",
              [f"{named(c)} {vs(c, c.tools[tool]):.2f}x {tool}'s time" for c in against
               if c.size.tag in ("tiny", "medium") and vs(c, c.tools[tool]) >= 1.0])
        recurrences = [c for c in against if c.workload.loss == "recurrence"]
        if not recurrences:
            results.append(f"- n/a: srcgrad >= 10x faster than {tool} on the scalar recurrence")
            continue
        check(f"srcgrad >= 10x faster than {tool} on the scalar recurrence",
              [f"{named(c)} only {1 / vs(c, c.tools[tool]):.1f}x" for c in recurrences
               if vs(c, c.tools[tool]) > 0.1])
    check("srcgrad peak memory <= 1.2x expert hand-written",
          [f"{named(c)} {c.memory['srcgrad'] / c.memory['expert']:.2f}x" for c in cases
           if "srcgrad" in c.memory and c.memory["expert"]
           and c.memory["srcgrad"] > 1.2 * c.memory["expert"]])
    return "\n".join(results)


# --- main ----------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="shorter samples, JAX at tiny sizes only (about 2-3 minutes)")
    parser.add_argument("--check", action="store_true",
                        help="only the checks: hand-written gradients against central "
                             "differences, every tool against them; no timing (JAX at tiny "
                             "sizes only, as in --quick)")
    parser.add_argument("--only", default="",
                        help="run the workloads whose name contains this text")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"comma-separated subset of {','.join(TOOLS)}")
    options = parser.parse_args(argv)
    settings = QUICK if options.quick or options.check else FULL
    wanted = [t for t in TOOLS if t in options.tools.split(",")]
    libraries = load_optional(wanted)
    tools = [t for t in wanted if t == "srcgrad" or t in libraries
             or (t == "jax.jit" and "jax" in libraries)]

    started, load_before = time.perf_counter(), os.getloadavg()[0]
    rng = np.random.default_rng(0)
    cases = []
    for workload in workloads.WORKLOADS:
        if options.only.lower() not in workload.name.lower():
            continue
        slow = {}
        for size in workload.sizes:
            print(f"[{time.perf_counter() - started:6.1f} s] {workload.name} {size.label}",
                  file=sys.stderr, flush=True)
            cases.append(run_case(workload, size, libraries, wanted, settings, rng, slow,
                                  options.check))

    if options.check:
        failures = 0
        for case in cases:
            print(f"{case.workload.name} {case.size.label}: naive and expert hand-written gradients vs central "
                  f"differences, worst relative error {case.check_error:.1e}")
            wrong = [(tool, m.note) for tool, m in case.tools.items() if m.note and (
                m.note.startswith("WRONG") or tool == "srcgrad" and m.note.startswith("error"))]
            for tool, m in case.tools.items():
                if m.note:  # other libraries' errors are their limits, reported, not failures
                    print(f"    {tool}: {m.note}")
            failures += bool(wrong)
        print(f"{len(cases) - failures} passed, {failures} failed")
        return 1 if failures else 0

    print("## Gradient time: srcgrad beside naive and expert hand-written NumPy\n")
    for line in versions(libraries):
        print(f"- {line}")
    print(f"- mode: {'--quick' if options.quick else 'full'}; interleaved rounds, ratios are "
          f"medians of per-round ratios; total run {time.perf_counter() - started:.0f} s; "
          f"1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"(other processes on the machine make the times noisier)\n")
    footnotes = []
    print(time_table(cases, tools, footnotes))
    print("\nforward: the plain NumPy loss. naive: the hand-written gradient written the way the "
          "generated code is; expert: the one written for speed (both in "
          "`benchmarks/workloads.py`, both checked against central differences). `X/expert` is "
          "X's time over the expert gradient's. direct: srcgrad's generated function called "
          "directly; dispatch: srcgrad's time minus direct's (the `Derivative` wrapper: "
          "signature lookup, argument checks), median of the per-round differences, shown where "
          "a call takes under 1 ms (above, it drowns in the noise). ¹ timed by one call only (slower than "
          f"{settings.single_cap_s:g} s). Every tool's gradient was checked against the naive "
          "one." + (" – (quick): JAX runs at tiny sizes only in --quick mode."
                     if options.quick else "")
          + (" not compiled: the traced gradient (loops unrolled) is larger than "
             f"{settings.jit_max_eqns} operations." if "jax.jit" in tools else ""))
    for number, text in enumerate(footnotes, 1):
        print(f"[{number}] {text}")
    print()
    print(extra_table(cases, tools))
    print("\n1st call, cold: `sg.grad(f)(...)` with srcgrad's caches cleared (the transform "
          "included), at the first size; cached: a new `sg.grad(f)` object, first call. Peak "
          "mem: tracemalloc peak of one gradient call (NumPy buffers and Python objects). jax.jit "
          "compile: first call minus a steady call.\n")
    print("### Targets (issue 17: issue 6's, against the expert gradients)\n")
    print(targets(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
