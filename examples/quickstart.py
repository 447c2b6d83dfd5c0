"""Quickstart: differentiate a NumPy loss with a loop and a branch, and look at the code.

Run: python examples/quickstart.py
"""
import numpy as np

import srcgrad as sg


def loss(w, x, y):
    h = np.tanh(x @ w)
    err = h - y
    total = 0.0
    for i in range(err.shape[0]):
        if err[i] > 0:
            total = total + err[i] ** 2
        else:
            total = total + 0.5 * np.abs(err[i])
    return total / err.shape[0]


def central_differences(f, w, *rest, eps=1e-6):
    """The gradient of f with respect to w, one coordinate at a time."""
    gradient = np.zeros_like(w)
    for k in range(w.size):
        step = np.zeros_like(w)
        step.flat[k] = eps
        gradient.flat[k] = (f(w + step, *rest) - f(w - step, *rest)) / (2 * eps)
    return gradient


def example_data():
    """Weights, inputs and targets of a small regression problem (random, seeded)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3))
    y = rng.normal(size=8)
    w = rng.normal(size=3)
    return w, x, y


def main():
    w, x, y = example_data()
    loss_grad = sg.grad(loss)
    print("The generated gradient of loss, as it runs for these arguments:\n")
    sg.show(loss_grad, w, x, y)

    dw = loss_grad(w, x, y)
    numeric = central_differences(loss, w, x, y)
    print("\nsrcgrad gradient:   ", np.array2string(dw, precision=8))
    print("finite differences: ", np.array2string(numeric, precision=8))
    error = np.max(np.abs(dw - numeric))
    print(f"max difference:      {error:.2e}")
    assert error < 1e-6, "the gradient disagrees with finite differences"


if __name__ == "__main__":
    main()
