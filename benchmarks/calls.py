"""How many NumPy calls each gradient makes: naive, expert and srcgrad's generated code.

Run:  python benchmarks/calls.py [--size tiny|medium|large]

Arrays are passed as a counting subclass of ndarray: every ufunc call (operators, ``np.tanh``,
``out=`` calls, reductions such as ``.sum()``) and every NumPy function that dispatches on its
arguments (``np.dot``, ``np.zeros_like``, ...) counts once, at the outermost level (what a
function calls inside itself is not counted again). "new" counts the calls that returned a new
array (no ``out=``, not in place). srcgrad's runtime helpers (``scalar_seed``,
``expand_reduced``, ``add_at``, ...) are counted separately, and the NumPy calls inside them
count as calls. On Python floats (the scalar loop) only np.sin and np.cos are seen. At the tiny sizes every
call costs 0.3-1 µs, so these counts are most of the time.
"""
import collections
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

import srcgrad as sg  # noqa: E402
import srcgrad.api  # noqa: E402
import workloads  # noqa: E402

COUNT = collections.Counter()
NEW = collections.Counter()
_depth = [0]


def _plain(value):
    if isinstance(value, Counted):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _counted(value):
    if type(value) is np.ndarray:
        return value.view(Counted)
    if isinstance(value, tuple):
        return tuple(_counted(v) for v in value)
    return value


class Counted(np.ndarray):
    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        name = ufunc.__name__ + ("" if method == "__call__" else "." + method)
        if _depth[0] == 0:
            COUNT[name] += 1
            if out is None:
                NEW[name] += 1
        _depth[0] += 1
        try:
            if out is not None:
                kwargs["out"] = tuple(_plain(o) for o in out)
            result = getattr(ufunc, method)(*(_plain(i) for i in inputs), **kwargs)
        finally:
            _depth[0] -= 1
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _counted(result)

    def __array_function__(self, func, types, args, kwargs):
        if _depth[0] == 0:
            COUNT[func.__name__] += 1
            NEW[func.__name__] += 1
        _depth[0] += 1
        try:
            result = func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
        finally:
            _depth[0] -= 1
        return _counted(result)


def counted_args(args):
    return [a.copy().view(Counted) if isinstance(a, np.ndarray) else a for a in args]


def count(call, args):
    """(calls, calls that made a new array, {name: calls}) of one ``call(*args)``. np.empty
    (which an expert gradient preallocates with) makes counted arrays and counts; where no
    argument is an array (the scalar loop), np.sin and np.cos are counted by name instead."""
    COUNT.clear()
    NEW.clear()
    patched = {"empty": np.empty}
    if not any(isinstance(a, np.ndarray) for a in args):
        patched.update(sin=np.sin, cos=np.cos)

    def counting(name, function):
        def call_counted(*a, **k):
            if _depth[0] == 0:
                COUNT[name] += 1
                NEW[name] += "out" not in k
            result = function(*a, **k)
            return result.view(Counted) if type(result) is np.ndarray else result
        return call_counted
    try:
        for name, function in patched.items():
            setattr(np, name, counting(name, function))
        call(*counted_args(args))
    finally:
        for name, function in patched.items():
            setattr(np, name, function)
    return sum(COUNT.values()), sum(NEW.values()), dict(COUNT)


def helper_counts(generated, args):
    """{helper name: calls} for srcgrad's runtime helpers in one run of ``generated``."""
    helpers = collections.Counter()
    names = [k for k, v in generated.__globals__.items()
             if callable(v) and getattr(v, "__module__", "") == "srcgrad.runtime"]
    saved = {k: generated.__globals__[k] for k in names}

    def wrap(name, function):
        def counting(*a, **k):
            helpers[name] += 1
            return function(*a, **k)
        return counting
    try:
        for name in names:
            generated.__globals__[name] = wrap(name, saved[name])
        generated(*counted_args(args))
    finally:
        generated.__globals__.update(saved)
    return dict(helpers)


def main(argv=None):
    tag = "tiny"
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--size"]:
        tag = argv[1]
    rng = np.random.default_rng(0)
    print(f"NumPy calls per gradient ({tag} sizes; new = calls that made a new array)\n")
    print("| workload | size | naive | expert | srcgrad | srcgrad helpers |")
    print("|---|---|---|---|---|---|")
    details = []
    for workload in workloads.WORKLOADS:
        size = next((s for s in workload.sizes if s.tag == tag), None)
        if size is None:
            continue
        args = getattr(workloads, workload.make_args)(rng, *size.params)
        derivative = sg.grad(getattr(workloads, workload.loss), wrt=workload.wrt)
        derivative(*args)
        generated = srcgrad.api._compiled(derivative.last_run)
        cells = []
        for call in (getattr(workloads, workload.grad), getattr(workloads, workload.expert),
                     generated):
            total, new, names = count(call, args)
            cells.append(f"{total} ({new} new)")
            details.append((workload.name, call.__name__ if call is not generated else
                            "srcgrad", names))
        helpers = helper_counts(generated, args)
        cells.append(", ".join(f"{k} {v}" for k, v in sorted(helpers.items())) or "")
        print(f"| {workload.name} | {size.label} | " + " | ".join(cells) + " |")
    print()
    for name, which, names in details:
        print(f"- {name}, {which}: " + ", ".join(f"{k} {v}" for k, v in
                                                 sorted(names.items(), key=lambda kv: -kv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
