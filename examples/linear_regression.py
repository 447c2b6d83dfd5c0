"""Linear regression by gradient descent, twice: with the eager Tensor, and with sg.grad.

Fits y = 2x + 3 + noise. The eager version reads like a PyTorch training loop (the tape records
each step, backward() fills .grad, the update runs under no_grad, the gradients are zeroed); the
second one differentiates a plain NumPy loss by source transformation.

Run: python examples/linear_regression.py
"""
import numpy as np

import srcgrad as sg

STEPS, LEARNING_RATE = 300, 0.1


def make_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=n)
    y = 2.0 * x + 3.0 + 0.1 * rng.normal(size=n)
    return x, y


def fit_with_tensors(x, y):
    w = sg.tensor(0.0, requires_grad=True)
    b = sg.tensor(0.0, requires_grad=True)
    inputs, targets = sg.tensor(x), sg.tensor(y)
    for _ in range(STEPS):
        loss = ((w * inputs + b - targets) ** 2).mean()
        loss.backward()
        with sg.no_grad():  # the update itself must not be recorded
            w -= LEARNING_RATE * w.grad
            b -= LEARNING_RATE * b.grad
        w.grad.zero_()  # .grad accumulates: clear it before the next backward
        b.grad.zero_()
    return w.item(), b.item(), loss.item()


def mean_squared_error(w, b, x, y):
    residual = w * x + b - y
    return np.mean(residual ** 2)


def fit_with_generated_gradient(x, y):
    gradient = sg.grad(mean_squared_error, wrt=(0, 1))
    w, b = 0.0, 0.0
    for _ in range(STEPS):
        dw, db = gradient(w, b, x, y)
        w, b = w - LEARNING_RATE * dw, b - LEARNING_RATE * db
    return float(w), float(b), float(mean_squared_error(w, b, x, y))


def main():
    x, y = make_data()
    results = {"eager Tensor": fit_with_tensors(x, y),
               "sg.grad (generated code)": fit_with_generated_gradient(x, y)}
    for method, (w, b, loss) in results.items():
        print(f"{method:26s} w = {w:.4f}  b = {b:.4f}  final loss = {loss:.5f}")
        assert abs(w - 2.0) < 0.05 and abs(b - 3.0) < 0.1, f"{method} did not converge"
    print("\nThe gradient sg.grad generated:\n")
    sg.show(sg.grad(mean_squared_error, wrt=(0, 1)))
    return results


if __name__ == "__main__":
    main()
