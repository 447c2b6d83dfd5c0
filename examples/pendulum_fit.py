"""Fit a damped pendulum's parameters by gradient descent through a simulation, and draw it.

A pendulum's angle is simulated with explicit Euler steps; ``loss`` compares the simulated final
angles of a batch of starting angles with observed ones. ``sg.grad`` differentiates the whole
simulation loop (no tape: generated NumPy code). The run saves two pictures where you would rather
look than read:

- ``pendulum_loss.png``: the training-loss curve (needs matplotlib: ``pip install -e
  ".[examples]"``; without it the curve is printed as numbers only);
- ``pendulum_graph.dot`` (and ``.png`` when Graphviz's ``dot`` program is installed): the eager
  Tensor's backward graph of one simulation step, from ``sg.to_dot``.

Run: python examples/pendulum_fit.py [--out DIR]   (DIR defaults to examples/output)
See the generated gradient: python -m srcgrad show examples/pendulum_fit.py:loss \\
    --args "np.array([6.0, 0.8]), np.linspace(0.2, 1.0, 8), np.zeros((40, 8))"
"""
import argparse
import pathlib
import shutil
import subprocess

import numpy as np

import srcgrad as sg

STEPS = 40
DT = 0.05
TRUE_PARAMS = np.array([9.81, 0.3])  # g / length, damping


def simulate(params, theta0):
    """The angles at each of STEPS Euler steps (rows), for each starting angle in ``theta0``."""
    g_over_l, damping = params[0], params[1]
    theta, omega = theta0, 0.0 * theta0
    angles = []
    for _ in range(STEPS):
        alpha = -g_over_l * np.sin(theta) - damping * omega
        omega = omega + DT * alpha
        theta = theta + DT * omega
        angles.append(theta)
    return np.stack(angles)


def loss(params, theta0, target):
    return np.mean((simulate(params, theta0) - target) ** 2)


def fit(steps=300, learning_rate=4.0):
    """Gradient descent from a poor guess; returns the parameters and the loss at each step."""
    theta0 = np.linspace(0.2, 1.0, 8)
    target = simulate(TRUE_PARAMS, theta0)
    gradient = sg.value_and_grad(loss)
    params, history = np.array([6.0, 0.8]), []
    for _ in range(steps):
        value, dparams = gradient(params, theta0, target)
        history.append(float(value))
        params = params - learning_rate * dparams
    return params, history


def one_step_graph():
    """The eager Tensor's backward graph of one Euler step, as Graphviz DOT text."""
    params = sg.tensor(TRUE_PARAMS, requires_grad=True)
    theta, omega = sg.tensor(np.array([0.5, 1.0])), sg.tensor(np.zeros(2))
    alpha = -params[0] * np.sin(theta) - params[1] * omega
    omega = omega + DT * alpha
    theta = theta + DT * omega
    return sg.to_dot((theta ** 2).sum())


def save_pictures(history, out):
    """Write the loss curve and the graph into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        import matplotlib
        matplotlib.use("Agg")  # files only, no window
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no loss curve picture (pip install -e \".[examples]\")")
    else:
        figure, axes = plt.subplots(figsize=(5, 3.2), dpi=100)
        axes.semilogy(history)
        axes.set_xlabel("gradient step")
        axes.set_ylabel("loss (mean squared error)")
        axes.set_title("Fitting a pendulum through its simulation")
        figure.tight_layout()
        figure.savefig(out / "pendulum_loss.png")
        plt.close(figure)
        written.append(out / "pendulum_loss.png")
    dot_file = out / "pendulum_graph.dot"
    dot_file.write_text(one_step_graph())
    written.append(dot_file)
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tpng", str(dot_file), "-o", str(out / "pendulum_graph.png")],
                       check=True)
        written.append(out / "pendulum_graph.png")
    else:
        print("Graphviz's dot is not installed: the graph is saved as DOT text only")
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).parent / "output")
    options = parser.parse_args(argv)
    params, history = fit()
    print(f"fitted g/l = {params[0]:.4f}, damping = {params[1]:.4f} "
          f"(true: {TRUE_PARAMS[0]}, {TRUE_PARAMS[1]})")
    print(f"loss: {history[0]:.3e} at the start, {history[-1]:.3e} after {len(history)} steps")
    assert np.allclose(params, TRUE_PARAMS, rtol=1e-4), "the fit did not recover the parameters"
    for path in save_pictures(history, options.out):
        print("wrote", path)
    return params, history


if __name__ == "__main__":
    main()
