"""Memory for time: the gradient of a 10,000-step ODE without checkpoints, with
srcgrad.checkpoint on the step function, and with the loop over srcgrad.checkpoint_range.

Run:  python benchmarks/checkpoint.py [steps] [size]

The ODE is a damped nonlinear oscillator over a state of ``size`` values, integrated with the
classical Runge-Kutta method; each step makes a dozen intermediate arrays. Without a
checkpoint the gradient saves them all for every step; with ``sg.checkpoint(rk4_step)`` it
saves only each step's input state and runs the step again in the backward sweep. With
``for _ in sg.checkpoint_range(steps)`` it saves the state at the start of each of about
sqrt(steps) segments, and runs each segment again in the backward sweep (keeping one
segment's inside at a time). Prints the peak memory the gradient allocates (tracemalloc, which
NumPy reports its arrays to) and the time of each (median of 5), side by side in one run, and
their ratios to the plain gradient.
"""
import os
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import srcgrad as sg  # noqa: E402


def field(u, omega, damping):
    return np.sin(u) * omega - damping * u * u * u


def rk4_step(u, omega, damping, dt):
    k1 = field(u, omega, damping)
    k2 = field(u + 0.5 * dt * k1, omega, damping)
    k3 = field(u + 0.5 * dt * k2, omega, damping)
    k4 = field(u + dt * k3, omega, damping)
    return u + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def final_energy(u, omega, damping, dt, steps):
    for _ in range(steps):
        u = rk4_step(u, omega, damping, dt)
    return np.sum(u * u)


def final_energy_checkpointed(u, omega, damping, dt, steps):
    for _ in range(steps):
        u = sg.checkpoint(rk4_step)(u, omega, damping, dt)
    return np.sum(u * u)


def final_energy_loop_checkpointed(u, omega, damping, dt, steps):
    for _ in sg.checkpoint_range(steps):
        u = rk4_step(u, omega, damping, dt)
    return np.sum(u * u)


def measure(gradient, args, repeats=5):
    gradient(*args)  # generated and specialized before anything is measured
    tracemalloc.start()
    result = gradient(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        gradient(*args)
        times.append(time.perf_counter() - start)
    return result, peak, statistics.median(times)


def main(steps=10_000, size=1_000):
    rng = np.random.default_rng(0)
    args = (rng.normal(size=size) * 0.5, rng.uniform(0.5, 1.5, size=size), 0.05, 0.01, steps)
    forms = [("without checkpoint", final_energy),
             ("sg.checkpoint(rk4_step)", final_energy_checkpointed),
             ("sg.checkpoint_range", final_energy_loop_checkpointed)]
    results = []
    for label, function in forms:
        (du, domega), peak, seconds = measure(sg.grad(function, wrt=(0, 1)), args)
        if results:
            assert np.allclose(du, results[0][1], rtol=1e-10) and \
                np.allclose(domega, results[0][2], rtol=1e-10), label
        results.append((label, du, domega, peak, seconds))
    mb = 1024 * 1024
    plain_peak, plain_time = results[0][3], results[0][4]
    print(f"gradient of a {steps}-step RK4 ODE over {size} values (float64):")
    print(f"  {'':26s}{'peak memory':>14s}{'time':>10s}{'memory':>10s}{'time':>8s}")
    for label, _, _, peak, seconds in results:
        print(f"  {label:26s}{peak / mb:11.1f} MB{seconds:9.2f} s"
              f"{'/ %.1f' % (plain_peak / peak):>10s}{'x %.2f' % (seconds / plain_time):>8s}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
