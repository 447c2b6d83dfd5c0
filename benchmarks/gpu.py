"""srcgrad's generated gradients on a GPU (CuPy) beside gradients written by hand in CuPy, and
beside PyTorch (CUDA) and jax.jit where those are installed.

Four workloads, each a plain NumPy loss that srcgrad differentiates, a gradient written by hand
against the array module ``xp`` (CuPy on the GPU, NumPy on the CPU), the same loss in PyTorch,
and the NumPy loss itself run by JAX (its code with ``np`` bound to ``jax.numpy``):
  mlp            784-512-10 tanh network, softmax cross-entropy, batch 4096
  elementwise    a chain of elementwise functions over 10,000,000 elements
  least squares  sum((X @ w - y) ** 2) / n with X of 1,000,000 x 100
  rnn            tanh RNN, hidden 2048, 50 steps (batch 64, 512 inputs)

Before timing, every gradient is checked against the hand-written one on the same device.
Printed per workload: the median time of each (synchronized runs, after warm-up runs), and each
one's time / the hand-written CuPy gradient's (srcgrad 1.00: no cost for generating the gradient
instead of writing it).

Not a test. Needs CuPy and a CUDA GPU (pip install -e ".[gpu]", or the cupy-cudaXXx wheel for
your CUDA); without CuPy it says so and exits 0 (1 with --require-gpu).
``--dry-run`` needs no GPU and times nothing: every workload, scaled down, on NumPy and on the
CPU stand-in for CuPy (tests/strict_device.py), each gradient (srcgrad's, PyTorch's and JAX's
where installed, on the CPU) checked against the hand-written one.
Run: python benchmarks/gpu.py [--dtype float32|float64] [--repeat 20] [--scale 1.0]
                              [--only mlp,rnn] [--json results.json] [--dry-run]
"""
import argparse
import json
import pathlib
import statistics
import sys
import time
import types

import numpy as np

import srcgrad as sg

ROOT = pathlib.Path(__file__).resolve().parents[1]


# --- the losses, as a user writes them ---------------------------------------------------------

def mlp_loss(W1, b1, W2, b2, X, Y):
    hidden = np.tanh(X @ W1 + b1)
    logits = hidden @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(Y * log_probs) / X.shape[0]


def elementwise_loss(x):
    a = np.sin(x)
    b = np.exp(-0.5 * x * x)
    c = np.tanh(a * b)
    d = np.log1p(c * c)
    e = np.sqrt(1.0 + x * x)
    return np.sum(d * e + c / e)


def least_squares_loss(w, X, y):
    residual = X @ w - y
    return np.sum(residual * residual) / X.shape[0]


def rnn_loss(W, U, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(h @ W + xs[t] @ U)
    return np.sum(h * h)


# --- the same gradients, written by hand against an array module xp ----------------------------

def mlp_gradient(xp, W1, b1, W2, b2, X, Y):
    hidden = xp.tanh(X @ W1 + b1)
    logits = hidden @ W2 + b2
    probs = xp.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    dlogits = (probs - Y) / X.shape[0]
    dhidden_in = (dlogits @ W2.T) * (1.0 - hidden * hidden)
    return X.T @ dhidden_in, dhidden_in.sum(axis=0), hidden.T @ dlogits, dlogits.sum(axis=0)


def elementwise_gradient(xp, x):
    a = xp.sin(x)
    b = xp.exp(-0.5 * x * x)
    c = xp.tanh(a * b)
    e = xp.sqrt(1.0 + x * x)
    d = xp.log1p(c * c)
    dc = 1.0 / e + e * 2.0 * c / (1.0 + c * c)
    dab = dc * (1.0 - c * c)
    return dab * b * xp.cos(x) - dab * a * b * x + (d - c / (e * e)) * x / e


def least_squares_gradient(xp, w, X, y):
    return (2.0 / X.shape[0]) * (X.T @ (X @ w - y))


def rnn_gradient(xp, W, U, xs, h0):
    states = [h0]
    for t in range(xs.shape[0]):
        states.append(xp.tanh(states[-1] @ W + xs[t] @ U))
    dh = 2.0 * states[-1]
    dW, dU = xp.zeros_like(W), xp.zeros_like(U)
    for t in reversed(range(xs.shape[0])):
        h = states[t + 1]
        da = dh * (1.0 - h * h)
        dW += states[t].T @ da
        dU += xs[t].T @ da
        dh = da @ W.T
    return dW, dU


# --- the same losses in PyTorch ----------------------------------------------------------------

def mlp_torch(torch, W1, b1, W2, b2, X, Y):
    hidden = torch.tanh(X @ W1 + b1)
    logits = hidden @ W2 + b2
    shifted = logits - torch.amax(logits, dim=1, keepdim=True)
    log_probs = shifted - torch.log(torch.sum(torch.exp(shifted), dim=1, keepdim=True))
    return -torch.sum(Y * log_probs) / X.shape[0]


def elementwise_torch(torch, x):
    a = torch.sin(x)
    b = torch.exp(-0.5 * x * x)
    c = torch.tanh(a * b)
    d = torch.log1p(c * c)
    e = torch.sqrt(1.0 + x * x)
    return torch.sum(d * e + c / e)


def least_squares_torch(torch, w, X, y):
    residual = X @ w - y
    return torch.sum(residual * residual) / X.shape[0]


def rnn_torch(torch, W, U, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = torch.tanh(h @ W + xs[t] @ U)
    return torch.sum(h * h)


# --- inputs --------------------------------------------------------------------------------------

def mlp_inputs(rng, scale):
    batch = max(1, int(4096 * scale))
    labels = rng.integers(0, 10, size=batch)
    return [rng.standard_normal((784, 512)) / np.sqrt(784), 0.1 * rng.standard_normal(512),
            rng.standard_normal((512, 10)) / np.sqrt(512), 0.1 * rng.standard_normal(10),
            rng.standard_normal((batch, 784)), np.eye(10)[labels]]


def elementwise_inputs(rng, scale):
    return [rng.standard_normal(max(1, int(10_000_000 * scale)))]


def least_squares_inputs(rng, scale):
    rows = max(1, int(1_000_000 * scale))
    X = rng.standard_normal((rows, 100))
    return [rng.standard_normal(100), X, X @ np.linspace(-1.0, 1.0, 100)
            + 0.1 * rng.standard_normal(rows)]


def rnn_inputs(rng, scale, steps=50, hidden=2048, inputs=512):
    batch = max(1, int(64 * scale))
    hidden = max(8, int(hidden * min(1.0, scale * 4)))  # --dry-run: a smaller network too
    inputs = max(4, int(inputs * min(1.0, scale * 4)))
    return [0.9 * rng.standard_normal((hidden, hidden)) / np.sqrt(hidden),
            rng.standard_normal((inputs, hidden)) / np.sqrt(inputs),
            rng.standard_normal((steps, batch, inputs)), 0.1 * rng.standard_normal((batch, hidden))]


class Workload:
    def __init__(self, key, title, loss, hand, torch_loss, inputs, wrt):
        self.key, self.title, self.loss, self.hand = key, title, loss, hand
        self.torch_loss, self.inputs, self.wrt = torch_loss, inputs, wrt

    @property
    def positions(self):
        return self.wrt if isinstance(self.wrt, tuple) else (self.wrt,)


WORKLOADS = [
    Workload("mlp", "mlp 784-512-10, batch 4096", mlp_loss, mlp_gradient, mlp_torch,
             mlp_inputs, (0, 1, 2, 3)),
    Workload("elementwise", "elementwise chain, 1e7", elementwise_loss, elementwise_gradient,
             elementwise_torch, elementwise_inputs, 0),
    Workload("least_squares", "least squares 1e6 x 100", least_squares_loss,
             least_squares_gradient, least_squares_torch, least_squares_inputs, 0),
    Workload("rnn", "tanh RNN 2048, 50 steps", rnn_loss, rnn_gradient, rnn_torch, rnn_inputs,
             (0, 1)),
]


# --- the competitors -----------------------------------------------------------------------------

def with_numpy_as(function, module):
    """``function``'s own code with ``np`` bound to ``module`` (jax.numpy): the same loss."""
    return types.FunctionType(function.__code__, {**function.__globals__, "np": module},
                              function.__name__, function.__defaults__, function.__closure__)


def torch_gradient(torch, workload, device):
    """A function (*host arrays) -> gradients: PyTorch's autograd on ``device``."""
    def prepare(host):
        tensors = [torch.as_tensor(a, device=device) for a in host]
        for k in workload.positions:
            tensors[k].requires_grad_(True)
        return tensors

    def gradient(tensors):
        loss = workload.torch_loss(torch, *tensors)
        return torch.autograd.grad(loss, [tensors[k] for k in workload.positions])

    return prepare, gradient


def jax_gradient(jax, workload):
    gradient = jax.jit(jax.grad(with_numpy_as(workload.loss, jax.numpy),
                                argnums=workload.wrt))
    return lambda host: [jax.device_put(a) for a in host], lambda arrays: gradient(*arrays)


def optional(name):
    try:
        return __import__(name)
    except Exception:  # noqa: BLE001  (not installed, or a broken install: no column)
        return None


# --- timing and checking -------------------------------------------------------------------------

def median_seconds(function, repeat, synchronize, warmup=2):
    """The median wall time of ``function()`` over ``repeat`` runs, after warm-up runs, each
    waited for with ``synchronize(result)`` (a GPU runs kernels asynchronously)."""
    for _ in range(warmup):
        synchronize(function())
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        synchronize(function())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def as_tuple(gradient):
    return tuple(gradient) if isinstance(gradient, (tuple, list)) else (gradient,)


def to_host(value):
    """A NumPy copy of an array of any of the libraries here (CuPy, PyTorch, JAX, the stand-in)."""
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    if hasattr(value, "get") and not isinstance(value, (np.ndarray, dict)):  # CuPy, the stand-in
        return value.get()
    return np.asarray(value)


def max_error(result, expected):
    """The largest difference of the gradients, relative to each expected one's largest entry."""
    worst = 0.0
    result, expected = as_tuple(result), as_tuple(expected)
    if len(result) != len(expected):
        return float("inf")
    for a, b in zip(result, expected):
        a, b = np.asarray(to_host(a), dtype=float), np.asarray(to_host(b), dtype=float)
        if a.shape != b.shape:
            return float("inf")
        scale = float(np.max(np.abs(b))) if b.size else 1.0
        worst = max(worst, float(np.max(np.abs(a - b))) / (scale or 1.0) if b.size else 0.0)
    return worst


class Mismatch(Exception):
    pass


def check(name, who, result, expected, rtol):
    error = max_error(result, expected)
    if not error <= rtol:
        raise Mismatch(f"{name}: {who}'s gradient differs from the hand-written one by "
                       f"{error:.2e} (relative to its largest entry); not timing a wrong result")
    return error


# --- the GPU run ---------------------------------------------------------------------------------

def require_gpu():
    """CuPy and a usable GPU, or (None, the reason)."""
    cupy = optional("cupy")
    if cupy is None:
        return None, ("CuPy is not installed: pip install -e '.[gpu]' (or the cupy-cudaXXx "
                      "wheel that matches your CUDA version)")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count:
            cupy.zeros(1).sum().item()  # load CUDA, compile a kernel, run it
    except Exception as error:  # noqa: BLE001  (no driver, no device, a library that won't load)
        return None, f"CuPy could not use a CUDA GPU: {error}"
    if count == 0:
        return None, "CuPy sees no CUDA GPU"
    return cupy, None


def gpu_run(options, workloads):
    cupy, reason = require_gpu()
    if cupy is None:
        print(f"benchmarks/gpu.py: skipped: {reason}", file=sys.stderr)
        return 1 if options.require_gpu else 0
    dtype = np.dtype(options.dtype)
    rtol = 1e-3 if dtype == np.float32 else 1e-9
    device = cupy.cuda.Device()
    name = cupy.cuda.runtime.getDeviceProperties(device.id)["name"]
    name = name.decode() if isinstance(name, bytes) else name
    torch = optional("torch")
    if torch is not None and not torch.cuda.is_available():
        torch = None
    jax = optional("jax")
    try:
        if jax is not None and not any(d.platform == "gpu" for d in jax.devices()):
            jax = None
    except Exception:  # noqa: BLE001  (a backend that fails to start: no column)
        jax = None
    if jax is not None:
        jax.config.update("jax_enable_x64", dtype == np.float64)
    versions = [f"CuPy {cupy.__version__}", f"NumPy {np.__version__}"] + \
        ([f"PyTorch {torch.__version__}"] if torch else []) + \
        ([f"JAX {jax.__version__}"] if jax else [])
    print(f"GPU {device.id}: {name}; {', '.join(versions)}; {options.dtype}; "
          f"median of {options.repeat} synchronized runs\n")
    columns = ["srcgrad", "hand"] + (["torch"] if torch else []) + (["jax.jit"] if jax else [])
    header = f"{'workload':<28}" + "".join(f"{c:>12}" for c in columns) + \
        "".join(f"{c + '/hand':>14}" for c in columns if c != "hand")
    print(header)
    print("-" * len(header))
    report = {"gpu": name, "versions": versions, "dtype": options.dtype,
              "repeat": options.repeat, "scale": options.scale, "workloads": {}}

    def gpu_sync(_=None):
        cupy.cuda.get_current_stream().synchronize()

    rng = np.random.default_rng(0)
    failed = False
    for workload in workloads:
        host = [a.astype(dtype) for a in workload.inputs(rng, options.scale)]
        gpu = [cupy.asarray(a) for a in host]
        times, errors = {}, {}
        try:
            generated = sg.grad(workload.loss, wrt=workload.wrt)
            expected = workload.hand(cupy, *gpu)
            errors["srcgrad"] = check(workload.title, "srcgrad", generated(*gpu), expected,
                                      rtol)
            times["srcgrad"] = median_seconds(lambda: generated(*gpu), options.repeat, gpu_sync)
            times["hand"] = median_seconds(lambda: workload.hand(cupy, *gpu), options.repeat,
                                           gpu_sync)
            if torch is not None:
                prepare, gradient = torch_gradient(torch, workload, "cuda")
                tensors = prepare(host)
                errors["torch"] = check(workload.title, "PyTorch", gradient(tensors), expected,
                                        rtol)
                times["torch"] = median_seconds(lambda: gradient(tensors), options.repeat,
                                                lambda _=None: torch.cuda.synchronize())
            if jax is not None:
                prepare, gradient = jax_gradient(jax, workload)
                arrays = prepare(host)
                errors["jax.jit"] = check(workload.title, "JAX", gradient(arrays), expected,
                                          rtol)
                times["jax.jit"] = median_seconds(lambda: gradient(arrays), options.repeat,
                                                  jax.block_until_ready)
        except Mismatch as error:
            print(f"{workload.title:<28}{error}")
            failed = True
            continue
        finally:
            host = gpu = tensors = arrays = None  # let the pools give the memory back
            cupy.get_default_memory_pool().free_all_blocks()
            if torch is not None:
                torch.cuda.empty_cache()
        row = f"{workload.title:<28}" + "".join(
            f"{times[c] * 1e3:>9.2f} ms" if c in times else f"{'-':>12}" for c in columns)
        row += "".join(f"{times[c] / times['hand']:>14.2f}" if c in times else f"{'-':>14}"
                       for c in columns if c != "hand")
        print(row)
        report["workloads"][workload.key] = {
            "title": workload.title, "ms": {c: t * 1e3 for c, t in times.items()},
            "ratio_to_hand": {c: t / times["hand"] for c, t in times.items()},
            "max_relative_error": errors}
    print("\nEach column's time / the hand-written CuPy gradient's (srcgrad's goal: <= 1.2).")
    if options.json:
        pathlib.Path(options.json).write_text(json.dumps(report, indent=2) + "\n")
    return 1 if failed else 0


# --- the dry run: no GPU -------------------------------------------------------------------------

def dry_run(options, workloads):
    """Every workload, scaled down, on NumPy and on the CPU stand-in for CuPy: each gradient
    checked against the hand-written one (PyTorch's and JAX's on the CPU, where installed)."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import strict_device
    except ImportError:  # an installed copy without the tests
        strict_device = None
    dtype = np.dtype(options.dtype)
    rtol = 1e-3 if dtype == np.float32 else 1e-9
    torch, jax = optional("torch"), optional("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", dtype == np.float64)
    print(f"dry run on the CPU: NumPy {np.__version__}"
          + ("" if strict_device else ", no stand-in (tests/strict_device.py not found)")
          + (f", PyTorch {torch.__version__}" if torch else "")
          + (f", JAX {jax.__version__}" if jax else "")
          + f"; {options.dtype}; scale {options.scale}\n")
    rng = np.random.default_rng(0)
    failed = False
    report = {"dry_run": True, "dtype": options.dtype, "scale": options.scale, "workloads": {}}
    for workload in workloads:
        host = [a.astype(dtype) for a in workload.inputs(rng, options.scale)]
        expected = workload.hand(np, *host)
        generated = sg.grad(workload.loss, wrt=workload.wrt)
        results = {}
        try:
            results["srcgrad"] = check(workload.title, "srcgrad", generated(*host), expected,
                                       rtol)
            if strict_device is not None:
                device = strict_device.to_device(host)
                gradient = generated(*device)
                stray = strict_device.host_arrays_in(gradient)
                if stray or not all(isinstance(g, strict_device.DeviceArray)
                                    for g in as_tuple(gradient)):
                    raise Mismatch(f"{workload.title}: srcgrad's gradient of device arrays is "
                                   f"not all device arrays: {stray}")
                results["srcgrad on the stand-in"] = check(
                    workload.title, "srcgrad on the stand-in", gradient, expected, rtol)
                results["hand on the stand-in"] = check(
                    workload.title, "the hand-written gradient on the stand-in",
                    workload.hand(np, *device), expected, rtol)
            if torch is not None:
                prepare, gradient = torch_gradient(torch, workload, "cpu")
                results["torch"] = check(workload.title, "PyTorch", gradient(prepare(host)),
                                         expected, rtol)
            if jax is not None:
                prepare, gradient = jax_gradient(jax, workload)
                results["jax.jit"] = check(workload.title, "JAX", gradient(prepare(host)),
                                           expected, rtol)
        except Mismatch as error:
            print(error)
            failed = True
            continue
        print(f"{workload.title:<28} agree: " + ", ".join(
            f"{who} ({error:.0e})" for who, error in results.items()))
        report["workloads"][workload.key] = {"max_relative_error": results}
    if options.json:
        pathlib.Path(options.json).write_text(json.dumps(report, indent=2) + "\n")
    print("\nall gradients agree" if not failed else "\nSOME GRADIENTS DISAGREE")
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default=None, choices=["float32", "float64"],
                        help="float32 (default on the GPU) or float64 (default for --dry-run)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per measurement")
    parser.add_argument("--scale", type=float, default=None,
                        help="multiply the batch, element and row counts (default 1.0 on the "
                             "GPU; 0.01 for --dry-run)")
    parser.add_argument("--only", default=None,
                        help="comma-separated workloads: " + ",".join(w.key for w in WORKLOADS))
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--dry-run", action="store_true",
                        help="no GPU: check every gradient on NumPy and the CPU stand-in")
    parser.add_argument("--require-gpu", action="store_true",
                        help="exit 1, not 0, where CuPy or a GPU is missing")
    options = parser.parse_args(argv)
    options.dtype = options.dtype or ("float64" if options.dry_run else "float32")
    options.scale = options.scale or (0.01 if options.dry_run else 1.0)
    workloads = WORKLOADS
    if options.only:
        keys = options.only.split(",")
        unknown = set(keys) - {w.key for w in WORKLOADS}
        if unknown:
            parser.error(f"no workload {', '.join(sorted(unknown))}")
        workloads = [w for w in WORKLOADS if w.key in keys]
    return dry_run(options, workloads) if options.dry_run else gpu_run(options, workloads)


if __name__ == "__main__":
    sys.exit(main())
