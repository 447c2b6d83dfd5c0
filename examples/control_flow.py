"""A helper call inside a while loop that ends with break: the kind of code srcgrad reads.

Run: python examples/control_flow.py
"""
import numpy as np

import srcgrad as sg


def damp(x, rate):
    return x * np.exp(-rate)


def settle(x, rate):
    steps = 0
    while True:
        x = damp(x, rate) + 0.1 * np.sin(x)
        steps = steps + 1
        if np.max(np.abs(x)) < 0.5 or steps == 50:
            break
    return np.sum(x ** 2)


def example_data():
    return np.array([2.0, -1.5, 0.7]), 0.3


def main():
    x, rate = example_data()
    settle_grad = sg.grad(settle, wrt=(0, 1))
    sg.show(settle_grad, x, rate)  # the code that runs for an array x and a float rate
    dx, drate = settle_grad(x, rate)
    eps = 1e-6
    numeric_rate = (settle(x, rate + eps) - settle(x, rate - eps)) / (2 * eps)
    print(f"\nd settle / d rate: {drate:.8f} (finite differences: {numeric_rate:.8f})")
    assert abs(drate - numeric_rate) < 1e-6


if __name__ == "__main__":
    main()
