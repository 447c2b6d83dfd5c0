"""Newton's method with exact Hessians: minimize a smooth function of four variables.

sg.hessian runs forward mode over the generated gradient (both by source transformation), so
each step solves H p = -g with exact derivatives and the error shrinks quadratically.

Run: python examples/newton.py
"""
import numpy as np

import srcgrad as sg


def objective(x):
    """A convex function with its minimum away from the origin: log-sum-exp plus a quadratic."""
    shifted = x - np.array([1.0, -2.0, 0.5, 3.0])
    energy = np.sum(shifted * shifted) * 0.5
    for i in range(x.shape[0] - 1):
        energy = energy + np.log(1.0 + np.exp(x[i] - x[i + 1]))
    return energy


def newton(x, steps=8, tolerance=1e-12):
    gradient, hessian = sg.grad(objective), sg.hessian(objective)
    for step in range(steps):
        g = gradient(x)
        norm = np.linalg.norm(g)
        print(f"step {step}: f = {objective(x):.12f}   |gradient| = {norm:.3e}")
        if norm < tolerance:
            return x, step
        x = x - np.linalg.solve(hessian(x), g)
    return x, steps


def main():
    x, steps = newton(np.zeros(4))
    print("minimizer:", np.array2string(x, precision=10))
    assert np.linalg.norm(sg.grad(objective)(x)) < 1e-10 and steps <= 6


if __name__ == "__main__":
    main()
