"""Per-operation overhead of the eager tape on small arrays, beside NumPy, PyTorch, HIPS autograd.

Not a test: it prints a table; PyTorch and HIPS autograd columns appear where they are installed.

Run: python benchmarks/eager_overhead.py
"""
import contextlib
import importlib.util
import time
import timeit

import numpy as np

import srcgrad
from srcgrad.eager import no_grad, tensor

SIZE = 16  # small arrays: the time is the bookkeeping, not the arithmetic
rng = np.random.default_rng(0)
A, B = rng.normal(size=SIZE), rng.normal(size=SIZE)
W, X = rng.normal(size=(SIZE, SIZE)), rng.normal(size=(4, SIZE))


def microseconds(statement):
    """Best per-call CPU time of ``statement()`` over 5 repeats, in microseconds (CPU time of
    this process: other processes on a busy machine disturb it less than wall-clock time)."""
    timer = timeit.Timer(statement, timer=time.process_time)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def numpy_loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2)


def numpy_cases():
    return {"a + b": lambda: A + B, "a * b": lambda: A * B, "exp(a)": lambda: np.exp(A),
            "a.sum()": lambda: A.sum(), "x @ w": lambda: X @ W, "a[2:5]": lambda: A[2:5],
            "loss + gradient": None}


def srcgrad_cases(recording):
    a, b = tensor(A, requires_grad=recording), tensor(B, requires_grad=recording)
    w, x = tensor(W, requires_grad=recording), tensor(X)

    def loss_and_gradient():
        w.grad = None
        numpy_loss(w, x).backward()  # the NumPy function itself, run on Tensors

    return {"a + b": lambda: a + b, "a * b": lambda: a * b, "exp(a)": lambda: np.exp(a),
            "a.sum()": lambda: a.sum(), "x @ w": lambda: x @ w, "a[2:5]": lambda: a[2:5],
            "loss + gradient": loss_and_gradient if recording else None}


def generated_cases():
    gradient = srcgrad.value_and_grad(numpy_loss)
    return {"loss + gradient": lambda: gradient(W, X)}


def torch_cases():
    import torch
    a = torch.tensor(A, requires_grad=True)
    b = torch.tensor(B, requires_grad=True)
    w, x = torch.tensor(W, requires_grad=True), torch.tensor(X)

    def loss_and_gradient():
        w.grad = None
        (torch.tanh(x @ w) ** 2).sum().backward()

    return {"a + b": lambda: a + b, "a * b": lambda: a * b, "exp(a)": lambda: torch.exp(a),
            "a.sum()": lambda: a.sum(), "x @ w": lambda: x @ w, "a[2:5]": lambda: a[2:5],
            "loss + gradient": loss_and_gradient}


def hips_autograd_cases():
    import autograd
    import autograd.numpy as anp

    def loss(w, x):
        return anp.sum(anp.tanh(x @ w) ** 2)

    value_and_grad = autograd.value_and_grad(loss)
    return {"loss + gradient": lambda: value_and_grad(W, X)}


def measure(cases, rows, mode=contextlib.nullcontext):
    """The time of each row's case (None where a library has no such case), under ``mode``."""
    with mode():
        return {row: microseconds(cases[row]) if cases.get(row) else None for row in rows}


def main():
    rows = list(numpy_cases())
    columns = {"NumPy": measure(numpy_cases(), rows),
               "srcgrad Tensor, no_grad": measure(srcgrad_cases(False), rows, no_grad),
               "srcgrad Tensor, recording": measure(srcgrad_cases(True), rows),
               "srcgrad.value_and_grad": measure(generated_cases(), rows)}
    if importlib.util.find_spec("torch"):
        columns["PyTorch autograd"] = measure(torch_cases(), rows)
    if importlib.util.find_spec("autograd"):
        columns["HIPS autograd"] = measure(hips_autograd_cases(), rows)

    if "PyTorch autograd" in columns:  # the tape's cost in units of PyTorch's
        recording, torch_times = columns["srcgrad Tensor, recording"], columns["PyTorch autograd"]
        columns["recording / PyTorch"] = {
            row: recording[row] / torch_times[row] if recording[row] and torch_times[row]
            else None for row in rows}

    width = max(len(name) for name in columns) + 2
    print(f"Per-call CPU time in microseconds, float64 arrays of {SIZE} elements. 'loss + gradient' "
          f"is sum(tanh(x @ w)**2) and its gradient\nfor x 4x{SIZE}, w {SIZE}x{SIZE}: the eager "
          f"columns record a tape, srcgrad.value_and_grad runs generated code.\n")
    print(f"{'operation':18s}" + "".join(f"{name:>{width}s}" for name in columns))
    for row in rows:
        cells = "".join(f"{'-' if times[row] is None else f'{times[row]:.2f}':>{width}s}"
                        for times in columns.values())
        print(f"{row:18s}{cells}")


if __name__ == "__main__":
    main()
