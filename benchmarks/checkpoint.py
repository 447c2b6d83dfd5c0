"""Memory for time: the gradient of a 10,000-step ODE with and without srcgrad.checkpoint.

Run:  python benchmarks/checkpoint.py [steps] [size]

The ODE is a damped nonlinear oscillator over a state of ``size`` values, integrated with the
classical Runge-Kutta method; each step makes a dozen intermediate arrays. Without a
checkpoint the gradient saves them all for every step; with ``sg.checkpoint(rk4_step)`` it
saves only each step's input state and runs the step again in the backward sweep. Prints the
peak memory the gradient allocates (tracemalloc, which NumPy reports its arrays to) and the
time of each (median of 5), side by side in one run, and their ratios.
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
    plain = sg.grad(final_energy, wrt=(0, 1))
    checkpointed = sg.grad(final_energy_checkpointed, wrt=(0, 1))
    (du, domega), plain_peak, plain_time = measure(plain, args)
    (du_c, domega_c), ckpt_peak, ckpt_time = measure(checkpointed, args)
    assert np.allclose(du, du_c, rtol=1e-10) and np.allclose(domega, domega_c, rtol=1e-10)
    mb = 1024 * 1024
    print(f"gradient of a {steps}-step RK4 ODE over {size} values (float64):")
    print(f"  {'':24s}{'peak memory':>14s}{'time':>10s}")
    print(f"  {'without checkpoint':24s}{plain_peak / mb:11.1f} MB{plain_time:9.2f} s")
    print(f"  {'sg.checkpoint(rk4_step)':24s}{ckpt_peak / mb:11.1f} MB{ckpt_time:9.2f} s")
    print(f"  memory / {plain_peak / ckpt_peak:.1f}, time x {ckpt_time / plain_time:.2f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
