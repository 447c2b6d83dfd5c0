"""Functions written with ``np.`` and the inputs at which tests differentiate them on arrays of
other libraries (Dask in test_dask.py, CuPy in test_cupy.py), with NumPy's results as reference.

Each function exercises one family of rules or one construct of the transformer; every one
passes with NumPy arrays, so a difference on another library is a dispatch problem.
"""
import numpy as np

import srcgrad as sg


# --- the functions differentiated --------------------------------------------------------------

def least_squares(w, X, y):
    return np.sum((X @ w - y) ** 2)


def mlp(W1, X, W2):
    hidden = np.tanh(X @ W1)
    scores = hidden @ W2
    log_norm = np.logaddexp(scores[:, 0], scores[:, 1])
    return np.mean(log_norm - scores[:, 0]) + 0.01 * np.sum(W1 * W1)


def elementwise(x):
    y = np.sin(x) * np.exp(-x * x) + np.sqrt(np.abs(x) + 1.0) / (1.0 + x ** 2)
    return np.sum(np.log1p(y * y) + np.cosh(0.1 * x) - np.arctan(x))


def reductions(x):
    return (np.sum(np.prod(x, axis=1)) + np.sum(np.max(x, axis=0)) + np.mean(x.min(axis=1))
            + np.linalg.norm(x) + np.sum(np.mean(x, axis=0, keepdims=True) * x))


def shapes(x):
    flat = np.reshape(x, (-1,))
    split = np.reshape(x, (4, 2, 3))  # Dask reshapes only by even splits and merges
    joined = np.concatenate([flat, 2.0 * x.ravel()])
    joined_flat = np.concatenate([x, x * x], axis=None)
    pair = np.stack([x, x + 1.0], axis=1)
    turned = np.swapaxes(np.moveaxis(np.expand_dims(x, 0), 0, -1), 0, 1)
    return (np.sum(joined ** 2) + np.sum(joined_flat * 0.5) + np.sum(np.transpose(pair) * 3.0)
            + np.sum(split[0] ** 3) + np.sum(np.squeeze(turned, -1).T * np.flip(x, 0))
            + np.sum(np.broadcast_to(x[:1], x.shape) * x))


def where_clip(x):
    return (np.sum(np.where(x > 0, x ** 2, -x)) + np.sum(np.clip(x, -0.5, 0.5) ** 2)
            + np.sum(np.maximum(x, 0.1) * np.minimum(x, 0.2)))


def fancy_reads(x):
    rows = np.array([0, 2, 2, 1, 2])
    return (np.sum(x[rows] ** 2) + np.sum(x.T[np.array([3, 0, 3])] * x[0, 0])
            + np.sum(x[np.array([1, 1, 3]), 2] ** 3))  # Dask reads through one index array


def read_at_argmax(x):
    return x[np.argmax(x)] ** 2 + np.sum(x * x)


def masked_read(x, rows, columns):
    return np.sum(x[rows] ** 2) + np.sum(x.T[columns] * 3.0)


def with_list(x):
    items = []
    for i in range(x.shape[0]):
        items.append(x[i] * (i + 1.0))
    return np.sum(np.stack(items) ** 2)


def element_writes(x):
    y = np.zeros_like(x)
    for i in range(x.shape[0]):
        y[i] = x[i] * x[i]
    return np.sum(y * x)


def branches(w, x, y):
    err = np.tanh(x @ w) - y
    total = 0.0
    for i in range(err.shape[0]):
        if err[i] > 0:
            total = total + err[i] ** 2
        else:
            total = total + 0.5 * np.abs(err[i])
    return total / err.shape[0]


def settle(x):
    steps = 0
    while np.max(np.abs(x)) > 0.1 and steps < 30:
        x = 0.5 * x + 0.01 * np.sin(x)
        steps = steps + 1
    return np.sum(x ** 2)


# The constructs that raised on a GPU (issue #16), each on its own.

def logsumexp_rows(x):
    top = np.max(x, axis=1)
    return np.sum(top + np.log(np.sum(np.exp(x - top[:, None]), axis=1)))


def transposed(x):
    cube = np.reshape(x, (2, 3, 4))
    turned = np.transpose(cube, (2, 0, 1))
    return np.sum(turned ** 2 * np.sum(cube)) + np.sum(np.transpose(cube) * 0.5)


def row_dots(W, v):
    total = 0.0
    for i in range(W.shape[0]):
        total = total + np.dot(W[i], v) ** 2
    return total


def joined(x):
    parts = []
    for i in range(x.shape[0]):
        parts.append(np.tanh(x[i]) * (i + 1.0))
    rows = np.stack(parts)
    return np.sum(np.concatenate([rows, x], axis=1) ** 2) + np.sum(np.concatenate(parts) ** 3)


def overwrites(x):
    y = x * 1.0
    for i in range(x.shape[0]):
        y[i] = y[i] * y[i] + 0.5  # overwrites what the adjoint reads: saved, then restored
    for j in range(x.shape[1]):
        y[:, j] = np.sin(y[:, j]) * x[:, 0]
    return np.sum(y * y)


def tanh_layer(W, x):
    return np.sum(np.tanh(x @ W) ** 2)


def number_and_array(b, x):
    # b is a Python float: its derivatives through np.minimum, np.maximum and np.clip must stay
    # numbers (NumPy's array functions make 0-d NumPy arrays of numbers)
    low, high, clipped = np.minimum(b, 0.1), np.maximum(b * b, 0.2), np.clip(b, -1.0, 0.5)
    return np.sum(np.sin(x) * low + x * high - x * x * clipped) + np.sum(x * np.tanh(b))


def array_valued(x):
    return np.sin(x) * x


# --- inputs ------------------------------------------------------------------------------------

rng = np.random.default_rng(7)
INPUTS = {
    "least_squares": [rng.normal(size=4), rng.normal(size=(30, 4)), rng.normal(size=30)],
    "mlp": [0.5 * rng.normal(size=(5, 6)), rng.normal(size=(12, 5)), 0.5 * rng.normal(size=(6, 2))],
    "elementwise": [rng.normal(size=40)],
    "reductions": [rng.normal(size=(4, 6))],
    "shapes": [rng.normal(size=(4, 6))],
    "where_clip": [rng.normal(size=(5, 4))],
    "fancy_reads": [rng.normal(size=(5, 4))],
    "with_list": [rng.normal(size=(4, 3))],
    "element_writes": [rng.normal(size=(4, 3))],
    "branches": [rng.normal(size=3), rng.normal(size=(6, 3)), rng.normal(size=6)],
    "settle": [rng.normal(size=5)],
    "logsumexp_rows": [rng.normal(size=(4, 5))],
    "transposed": [rng.normal(size=24)],
    "row_dots": [rng.normal(size=(4, 3)), rng.normal(size=3)],
    "joined": [rng.normal(size=(3, 4))],
    "overwrites": [rng.normal(size=(3, 2))],
    "tanh_layer": [rng.normal(size=(3, 2)), rng.normal(size=(5, 3))],
    "number_and_array": [0.05, rng.normal(size=3)],
}
FUNCTIONS = {name: globals()[name] for name in INPUTS}
# Hessians take one forward pass per input element: small inputs keep them fast.
HESSIAN_INPUTS = {"where_clip": [rng.normal(size=(2, 3))], "element_writes": [rng.normal(size=(2, 2))],
                  "transposed": [rng.normal(size=24)],
                  "branches": [rng.normal(size=2), rng.normal(size=(3, 2)), rng.normal(size=3)]}


def derivative(mode, function, args):
    """What ``mode`` of srcgrad returns for ``function`` at ``args``, as a tuple of values."""
    if mode == "grad":
        return (sg.grad(function)(*args),)
    if mode == "value_and_grad":
        return sg.value_and_grad(function)(*args)
    if mode == "vjp":
        out, pullback = sg.vjp(function)(*args)
        return out, pullback(2.0 * np.ones_like(out))
    if mode == "jvp":
        tangents = tuple(np.cos(a) * 0.5 if hasattr(a, "shape") else 0.0 for a in args)
        return sg.jvp(function, args, tangents)
    if mode == "hessian":
        return (sg.hessian(function)(*args),)
    if mode == "hvp":
        x = args[0]
        return (sg.hvp(function)(*args, np.cos(x) * 0.5 if hasattr(x, "shape") else 0.5),)
    raise ValueError(mode)
