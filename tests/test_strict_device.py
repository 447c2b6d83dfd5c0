"""Every mode on the CPU stand-in for CuPy (``strict_device.DeviceArray``): results live where the
inputs live and equal NumPy's.

The stand-in refuses what CuPy refuses (implicit conversion to NumPy, NumPy arrays of any shape
among the operands of a ufunc or array function, 0-d operands of ``np.tensordot`` with axes), so
a derivative that makes a NumPy array from a Python number, or copies to the host, fails here as
it would on a GPU. Each program runs in every mode twice, on NumPy arrays and on device arrays:

* the functions of ``array_programs.py`` (those test_cupy.py runs on a GPU) in grad,
  value_and_grad, vjp, jvp (of every argument, and of each one alone with the others
  constant: ``jvp_one``), hessian and hvp, and on the eager Tensor;
* a share of the random programs of ``program_grammar.py`` (element writes, lists, loops,
  branches, helpers ...) in the same modes; programs that do not run on device arrays themselves
  (``y = np.zeros(3)`` makes a host array, as it would with CuPy) are left out.

``SRCGRAD_STRICT_PROGRAMS=N`` runs N random programs instead of the default share, and
``SRCGRAD_STRICT_FEATURES=1`` draws them from every feature of the grammar (lists included).
"""
import itertools
import math
import os
import sys
import uuid

import numpy as np
import pytest

import srcgrad as sg
import strict_device as sd
from array_programs import FUNCTIONS, HESSIAN_INPUTS, INPUTS
from program_grammar import ALL_FEATURES, DEFAULT_FEATURES, ProgramGenerator, RandomChooser
from source_files import import_source

MODES = ("grad", "value_and_grad", "vjp", "jvp", "jvp_one", "hessian", "hvp")
RANDOM_PROGRAMS = int(os.environ.get("SRCGRAD_STRICT_PROGRAMS", "0") or 0) or 24
RANDOM_FEATURES = (ALL_FEATURES if os.environ.get("SRCGRAD_STRICT_FEATURES", "") not in ("", "0")
                   else DEFAULT_FEATURES)
RTOL, ATOL = 1e-9, 1e-12


# --- running a mode ------------------------------------------------------------------------------

def direction(a, shift=0.0):
    """A fixed direction shaped like ``a``, made by ``a``'s own library (a number for a number)."""
    if hasattr(a, "shape"):
        return 0.5 * np.cos(a) + shift
    return 0.5 * math.cos(a) + shift


def derivatives(mode, f, args, wrt):
    """What ``mode`` of srcgrad returns for ``f`` at ``args``, as a tuple of values.

    ``wrt`` is a tuple of positions; hessian and hvp take its first one."""
    if mode == "grad":
        return (sg.grad(f, wrt=wrt)(*args),)
    if mode == "value_and_grad":
        return sg.value_and_grad(f, wrt=wrt)(*args)
    if mode == "vjp":
        out, pullback = sg.vjp(f, wrt=wrt)(*args)
        return out, pullback(2.0 * np.ones_like(out) if hasattr(out, "shape") else 2.0)
    if mode == "jvp":
        tangents = tuple(direction(a) if k in wrt else (np.zeros_like(a) if hasattr(a, "shape")
                                                        else 0.0)
                         for k, a in enumerate(args))
        return sg.jvp(f, args, tangents)
    if mode == "jvp_one":
        # The generated function, for one argument, its tangent passed by keyword: forward
        # code specialized to shapes where the other arguments carry no tangent.
        forward = sg.jvp(f, wrt=wrt[0])
        tangent = forward.generated.function.__srcgrad_tangents__[0]
        return forward(*args, **{tangent: direction(args[wrt[0]], 0.25)})
    if mode == "hessian":
        return (sg.hessian(f, wrt=wrt[0])(*args),)
    if mode == "hvp":
        return (sg.hvp(f, wrt=wrt[0])(*args, direction(args[wrt[0]], 0.25)),)
    raise ValueError(mode)


def assert_on_device_and_equal(results, expected, what):
    """Values equal NumPy's; no NumPy array anywhere, and a device array wherever NumPy gave an
    array of one or more axes (NumPy's scalars and Python numbers are fine: CuPy takes them)."""
    host = sd.host_arrays_in(results)
    assert not host, f"{what}: NumPy arrays among the results for device inputs: {host}"
    _assert_equal(results, expected, what, "result")


def _assert_equal(result, wanted, what, path):
    if isinstance(wanted, (tuple, list)):
        assert isinstance(result, (tuple, list)) and len(result) == len(wanted), \
            f"{what}: {path} is {result!r}, expected {len(wanted)} values"
        for k, (r, w) in enumerate(zip(result, wanted)):
            _assert_equal(r, w, what, f"{path}[{k}]")
        return
    if np.ndim(wanted) > 0:
        assert isinstance(result, sd.DeviceArray), \
            f"{what}: {path} is a {type(result).__name__}, not a device array"
    assert np.shape(sd.asnumpy(result)) == np.shape(wanted), \
        f"{what}: {path} has shape {np.shape(sd.asnumpy(result))}, NumPy's {np.shape(wanted)}"
    np.testing.assert_allclose(sd.asnumpy(result), wanted, rtol=RTOL, atol=ATOL,
                               err_msg=f"{what}: {path}")


def check(mode, f, args, wrt, what):
    """``mode`` on NumPy ``args`` and on their device copies: device results, NumPy's values.
    A mode that fails on NumPy already is not this file's business: skipped."""
    try:
        with np.errstate(all="ignore"):
            expected = derivatives(mode, f, [np.copy(a) if hasattr(a, "shape") else a
                                             for a in args], wrt)
    except Exception:  # noqa: BLE001  (refused, or a bug test_random_programs.py reports)
        return "fails on NumPy"
    try:
        with np.errstate(all="ignore"):
            results = derivatives(mode, f, sd.to_device(args), wrt)
    except sg.UnsupportedSyntax as error:
        # t = x[0]; t -= 1.0: a NumPy scalar is a copy, a CuPy 0-d array a view of x, whose
        # change in place srcgrad refuses, on CuPy as on the stand-in
        if "changes in place" not in str(error):
            raise
        return "refused on the device"
    assert_on_device_and_equal(results, expected, what)
    return "checked"


# --- the stand-in itself ---------------------------------------------------------------------

def test_the_stand_in_refuses_what_cupy_refuses():
    x = sd.asarray(np.arange(3.0))
    for mixed in (lambda: x + np.zeros_like(0.0), lambda: np.maximum(np.ones(3), x),
                  lambda: np.stack([x, np.ones(3)]), lambda: np.where(x > 0, x, np.zeros(3)),
                  lambda: np.asarray(x), lambda: np.array([x[0], x[1]]),
                  lambda: np.tensordot(x[0], x, axes=1)):
        with pytest.raises((TypeError, ValueError)):
            mixed()
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.zeros((2, 3))[0] = x
    with pytest.raises(TypeError, match="Unsupported type"):
        x[0] = np.zeros(())


def test_the_stand_in_accepts_what_cupy_accepts_and_gives_device_arrays():
    x = sd.asarray(np.arange(3.0))
    results = [x + 1.0, np.float64(2.0) * x, x * np.float32(3.0), np.sum(x), x[0], x.sum(),
               x[np.array([0, 2])], x[[1, 1]], np.tensordot(x[0], x, axes=0), *x,
               np.zeros_like(x), np.stack([x, x]), x.T, x.reshape(3, 1)]
    assert not sd.host_arrays_in(results)
    x[1] = np.float64(5.0)
    x[np.array([0])] = 2.0
    assert x.get().tolist() == [2.0, 5.0, 2.0] and float(np.max(x)) == 5.0


# --- array_programs.py in every mode -----------------------------------------------------------

CASES = [(name, mode) for name in sorted(INPUTS) for mode in MODES]


@pytest.mark.parametrize("name, mode", CASES)
def test_array_program_on_the_device_equals_numpy(name, mode):
    args = INPUTS[name]
    if mode in ("hessian", "hvp"):
        args = HESSIAN_INPUTS.get(name, args)
    check(mode, FUNCTIONS[name], args, (0,), f"{name} in {mode}")


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_eager_tensor_on_the_device_equals_numpy(name):
    function, args = FUNCTIONS[name], INPUTS[name]
    if not hasattr(args[0], "shape"):
        pytest.skip("a Tensor made from a number lives on the host (as a PyTorch CPU tensor)")

    def run(move):
        leaf = sg.Tensor(move(args[0]), requires_grad=True)
        out = function(leaf, *[move(a) for a in args[1:]])
        out.sum().backward()
        return out.detach().array, leaf.grad.array

    try:
        expected = run(lambda a: a.copy() if hasattr(a, "copy") else a)
    except (AttributeError, TypeError, sg.SrcgradError) as error:  # not the Tensor's surface
        pytest.skip(f"the eager Tensor does not run {name} on NumPy either: {error}")
    results = run(sd.to_device)
    assert_on_device_and_equal(results, expected, f"{name} on the eager Tensor")


# --- a share of the random programs --------------------------------------------------------------

def _load(program, directory, serial=itertools.count()):
    stem = f"srcgrad_strict_program_{next(serial)}_{uuid.uuid4().hex[:8]}"
    module, _ = import_source(program.source, directory, stem)
    return module, getattr(module, program.name)


def _runs_on_device(f, args):
    """Whether the program itself runs on device arrays (and gives a finite value)."""
    try:
        with np.errstate(all="ignore"):
            value = f(*sd.to_device(args))
    except TypeError as error:  # it makes host arrays itself (np.zeros(3), np.array(...))
        if "Unsupported type" in str(error) or "Implicit conversion" in str(error):
            return False
        raise
    return bool(np.isfinite(sd.asnumpy(value)))


@pytest.mark.parametrize("seed", range(RANDOM_PROGRAMS))
def test_random_program_on_the_device_equals_numpy(seed, tmp_path):
    program = ProgramGenerator(RandomChooser(9001 + seed), RANDOM_FEATURES).program()
    module, f = _load(program, tmp_path)
    try:
        args = program.copy_args()
        if not any(hasattr(a, "shape") for a in args):
            pytest.skip("numbers only: nothing lives on the device")
        if not _runs_on_device(f, args):
            pytest.skip("the program makes host arrays itself")
        wrt = tuple(range(len(args)))
        for mode in MODES:
            for position in (wrt if mode in ("jvp_one", "hessian", "hvp") else (None,)):
                check(mode, f, args, wrt if position is None else (position,),
                      f"{mode} (wrt={position if position is not None else wrt}) of\n"
                      f"{program.source}\nat {args}")
    finally:
        sys.modules.pop(module.__name__, None)
