"""srcgrad's generated gradients on a GPU (CuPy) beside gradients written by hand in CuPy, with
NumPy on the CPU for reference.

Three workloads, each a plain NumPy loss that srcgrad differentiates and a gradient written by
hand against the array module ``xp`` (CuPy on the GPU, NumPy on the CPU):
  mlp            784-512-10 tanh network, softmax cross-entropy, batch 4096
  elementwise    a chain of ten elementwise functions over 10,000,000 elements
  least squares  sum((X @ w - y) ** 2) / n with X of 1,000,000 x 100

Before timing, every gradient is checked against the hand-written one on the same device.
Printed per workload: the time of each, srcgrad / hand-written on the GPU (1.00 means no cost
for generating the gradient instead of writing it), and the CPU / GPU speedup.

Not a test. Needs CuPy and a CUDA GPU: pip install -e ".[gpu]" (or the cupy-cudaXXx wheel for
your CUDA), then
Run: python benchmarks/gpu.py [--dtype float32|float64] [--repeat 20] [--scale 1.0] [--no-cpu]
"""
import argparse
import statistics
import sys
import time

import numpy as np

import srcgrad as sg


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


# name, loss, hand-written gradient, inputs, positions of the differentiated arguments
WORKLOADS = [
    ("mlp 784-512-10, batch 4096", mlp_loss, mlp_gradient, mlp_inputs, (0, 1, 2, 3)),
    ("elementwise chain, 1e7", elementwise_loss, elementwise_gradient, elementwise_inputs, 0),
    ("least squares 1e6 x 100", least_squares_loss, least_squares_gradient, least_squares_inputs, 0),
]


# --- timing --------------------------------------------------------------------------------------

def median_seconds(function, repeat, synchronize):
    """The median wall time of ``function()`` over ``repeat`` runs, after two warm-up runs,
    each waited for with ``synchronize()`` (a GPU runs kernels asynchronously)."""
    for _ in range(2):
        function()
        synchronize()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def as_tuple(gradient):
    return gradient if isinstance(gradient, tuple) else (gradient,)


def check_same(generated, hand_written, to_numpy, name, rtol):
    for k, (a, b) in enumerate(zip(as_tuple(generated), as_tuple(hand_written))):
        a, b = to_numpy(a), to_numpy(b)
        scale = float(np.max(np.abs(b))) or 1.0
        error = float(np.max(np.abs(a - b))) / scale
        if error > rtol:
            sys.exit(f"{name}: srcgrad's gradient {k} differs from the hand-written one by "
                     f"{error:.2e} (relative to its largest entry); not timing a wrong result")


def require_gpu():
    """CuPy and a usable GPU, or exit with a message that says what is missing."""
    try:
        import cupy
    except ImportError:
        sys.exit("benchmarks/gpu.py needs CuPy, which is not installed: pip install -e '.[gpu]' "
                 "(or the cupy-cudaXXx wheel that matches your CUDA version)")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count:
            cupy.zeros(1).sum().item()  # load CUDA, compile a kernel, run it
    except Exception as error:  # no driver, no device, a CUDA library that does not load
        sys.exit(f"benchmarks/gpu.py needs a CUDA GPU, and CuPy could not use one: {error}")
    if count == 0:
        sys.exit("benchmarks/gpu.py needs a CUDA GPU; CuPy sees none")
    return cupy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per measurement")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the batch, element and row counts (smaller GPUs: 0.25)")
    parser.add_argument("--no-cpu", action="store_true", help="skip the NumPy-on-CPU column")
    options = parser.parse_args(argv)
    cupy = require_gpu()
    dtype = np.dtype(options.dtype)
    rtol = 1e-3 if dtype == np.float32 else 1e-9
    device = cupy.cuda.Device()
    name = cupy.cuda.runtime.getDeviceProperties(device.id)["name"]
    name = name.decode() if isinstance(name, bytes) else name
    print(f"GPU {device.id}: {name}; CuPy {cupy.__version__}, NumPy {np.__version__}; "
          f"{options.dtype}; median of {options.repeat} runs\n")
    header = (f"{'workload':<28}{'srcgrad GPU':>13}{'hand GPU':>11}{'ratio':>8}"
              f"{'srcgrad CPU':>13}{'hand CPU':>11}{'CPU/GPU':>9}")
    print(header)
    print("-" * len(header))

    def gpu_sync():
        cupy.cuda.get_current_stream().synchronize()

    rng = np.random.default_rng(0)
    for title, loss, hand, make_inputs, wrt in WORKLOADS:
        host = [a.astype(dtype) for a in make_inputs(rng, options.scale)]
        gpu = [cupy.asarray(a) for a in host]
        generated = sg.grad(loss, wrt=wrt)
        generated(*gpu)  # generates the derivative once, outside the timings
        check_same(generated(*gpu), hand(cupy, *gpu), cupy.asnumpy, title, rtol)
        srcgrad_gpu = median_seconds(lambda: generated(*gpu), options.repeat, gpu_sync)
        hand_gpu = median_seconds(lambda: hand(cupy, *gpu), options.repeat, gpu_sync)
        row = (f"{title:<28}{srcgrad_gpu * 1e3:>10.2f} ms{hand_gpu * 1e3:>8.2f} ms"
               f"{srcgrad_gpu / hand_gpu:>8.2f}")
        if not options.no_cpu:
            check_same(generated(*host), hand(np, *host), np.asarray, title, rtol)
            cpu_repeat = max(1, options.repeat // 5)
            srcgrad_cpu = median_seconds(lambda: generated(*host), cpu_repeat, lambda: None)
            hand_cpu = median_seconds(lambda: hand(np, *host), cpu_repeat, lambda: None)
            row += (f"{srcgrad_cpu * 1e3:>10.1f} ms{hand_cpu * 1e3:>8.1f} ms"
                    f"{srcgrad_cpu / srcgrad_gpu:>8.1f}x")
        print(row)
        host = gpu = None  # let the pool give this workload's memory back before the next
        cupy.get_default_memory_pool().free_all_blocks()
    print("\nratio: srcgrad / hand-written on the GPU. CPU/GPU: srcgrad on NumPy / srcgrad on CuPy.")


if __name__ == "__main__":
    main()
