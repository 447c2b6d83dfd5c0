"""The gradient of a least-squares loss over data split into chunks, on a local Dask cluster.

The loss is ordinary NumPy code. Called with a Dask array ``X`` (200,000 x 20, ten chunks of
20,000 rows), sg.grad's generated code builds a Dask graph instead of computing: ``X @ w``, the
residual and ``X.T @ residual`` run chunk by chunk on the workers, and only the gradient (20
numbers) comes back. The data are drawn from a seed on the workers; nothing is downloaded. The
script checks the gradient against NumPy on the same data (it fits in memory: 32 MB) and against
the closed form 2 X^T (X w - y).

Needs Dask: pip install -e ".[dask]"
Run: python examples/dask_large_gradient.py
"""
import time

import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster

import srcgrad as sg


def loss(w, X, y):
    return np.sum((X @ w - y) ** 2)


def make_data(rows, features, chunks, seed=0):
    """X and y = X @ w_true + noise, as Dask arrays of ``chunks`` row blocks, drawn from ``seed``."""
    random = da.random.default_rng(seed)
    X = random.standard_normal((rows, features), chunks=(rows // chunks, features))
    w_true = np.linspace(-1.0, 1.0, features)
    y = X @ w_true + 0.1 * random.standard_normal(rows, chunks=rows // chunks)
    return X, y


# Every server of the cluster (scheduler, workers, their HTTP endpoints) listens on the loopback
# interface only, on ports the system picks; no dashboard.
LOOPBACK_ONLY = dict(host="127.0.0.1", protocol="tcp://", dashboard_address=None,
                     scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})


def main(rows=200_000, features=20, chunks=10, processes=True):
    # Two single-threaded workers on this machine: processes, or threads of this one.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                      **LOOPBACK_ONLY) as cluster, Client(cluster):
        X, y = make_data(rows, features, chunks)
        X, y = X.persist(), y.persist()  # drawn once, kept on the workers
        print(f"X: {X.shape[0]:,} x {X.shape[1]} in {X.numblocks[0]} chunks of "
              f"{X.chunks[0][0]:,} rows, on {len(cluster.workers)} workers")
        w = np.full(features, 0.1)

        start = time.perf_counter()
        value, gradient = sg.value_and_grad(loss)(w, X, y)  # a graph: nothing has run yet
        built = time.perf_counter() - start
        assert isinstance(gradient, da.Array)
        value, gradient = da.compute(value, gradient)
        on_cluster = time.perf_counter() - start
        print(f"srcgrad on Dask: derivative generated and its graph built in {built * 1e3:.0f} ms, "
              f"value and gradient computed by the cluster in {on_cluster - built:.3f} s")

        X_in_memory, y_in_memory = da.compute(X, y)
    start = time.perf_counter()
    expected_value, expected = sg.value_and_grad(loss)(w, X_in_memory, y_in_memory)
    in_memory = time.perf_counter() - start
    print(f"srcgrad on NumPy: {in_memory:.3f} s")
    closed_form = 2.0 * X_in_memory.T @ (X_in_memory @ w - y_in_memory)

    error = np.max(np.abs(gradient - expected)) / np.max(np.abs(expected))
    print(f"loss {value:.6e}; gradient[:4] {np.array2string(gradient[:4], precision=6)}")
    print(f"largest difference from NumPy, relative to the largest entry: {error:.1e}")
    np.testing.assert_allclose(value, expected_value, rtol=1e-10)
    np.testing.assert_allclose(gradient, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())
    np.testing.assert_allclose(gradient, closed_form, rtol=1e-9,
                               atol=1e-9 * np.abs(closed_form).max())


if __name__ == "__main__":
    main()
