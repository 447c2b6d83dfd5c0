"""The benchmark workloads: each loss written once as a plain NumPy function, with its gradient
written by hand beside it.

The losses are what a user would hand to ``srcgrad.grad``: plain functions, loops, ``if`` and
``while``, ``np.*`` calls. HIPS autograd and JAX run the very same source: ``run.py`` loads a
second copy of this module with ``np`` bound to ``autograd.numpy`` or ``jax.numpy``. PyTorch gets
its own transcription in ``workloads_torch.py``.

Every hand-written gradient returns one array (or float) per ``wrt`` position, as
``srcgrad.grad(loss, wrt=...)`` does; ``run.py --check`` compares it with central differences.
"""
from dataclasses import dataclass, field

import numpy as np


# --- 1. softmax cross-entropy ------------------------------------------------------------------

def softmax_xent(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_norm = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    log_probs = shifted - log_norm
    n = logits.shape[0]
    return -np.sum(log_probs[np.arange(n), labels]) / n


def softmax_xent_grad(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= np.sum(probs, axis=1, keepdims=True)
    n = logits.shape[0]
    probs[np.arange(n), labels] -= 1.0
    probs /= n
    return probs


def softmax_xent_args(rng, n, classes):
    return (rng.normal(size=(n, classes)), rng.integers(0, classes, size=n))


# --- 2. two-layer MLP ----------------------------------------------------------------------------

def mlp(W1, b1, W2, b2, x, labels):
    hidden = np.tanh(x @ W1 + b1)
    logits = hidden @ W2 + b2
    return softmax_xent(logits, labels)


def mlp_grad(W1, b1, W2, b2, x, labels):
    hidden = np.tanh(x @ W1 + b1)
    logits = hidden @ W2 + b2
    dlogits = softmax_xent_grad(logits, labels)
    dW2 = hidden.T @ dlogits
    db2 = np.sum(dlogits, axis=0)
    dpre = dlogits @ W2.T
    dpre *= 1.0 - hidden * hidden
    dW1 = x.T @ dpre
    db1 = np.sum(dpre, axis=0)
    return dW1, db1, dW2, db2


def mlp_args(rng, batch, n_in, n_hidden, n_out):
    return (rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in), rng.normal(size=n_hidden) * 0.1,
            rng.normal(size=(n_hidden, n_out)) / np.sqrt(n_hidden), rng.normal(size=n_out) * 0.1,
            rng.normal(size=(batch, n_in)), rng.integers(0, n_out, size=batch))


# --- 3. tanh RNN ---------------------------------------------------------------------------------

def rnn(W, U, x, h0):
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(h @ W + x[t] @ U)
    return np.sum(h * h)


def rnn_grad(W, U, x, h0):
    hs = [h0]
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(h @ W + x[t] @ U)
        hs.append(h)
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    dh = 2.0 * h
    for t in reversed(range(x.shape[0])):
        h = hs[t + 1]
        dpre = dh * (1.0 - h * h)
        dW += hs[t].T @ dpre
        dU += x[t].T @ dpre
        dh = dpre @ W.T
    return dW, dU


def rnn_args(rng, steps, batch, n_in, n_hidden):
    return (rng.normal(size=(n_hidden, n_hidden)) / np.sqrt(n_hidden),
            rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in),
            rng.normal(size=(steps, batch, n_in)), rng.normal(size=(batch, n_hidden)))


# --- 4. scalar recurrence on Python floats -------------------------------------------------------

def recurrence(a, b, x0, steps):
    x = x0
    for _ in range(steps):
        x = a * x + b * np.sin(x)
    return x


def recurrence_grad(a, b, x0, steps):
    xs = []
    x = x0
    for _ in range(steps):
        xs.append(x)
        x = a * x + b * np.sin(x)
    da = db = 0.0
    dx = 1.0
    for x in reversed(xs):
        da += dx * x
        db += dx * np.sin(x)
        dx *= a + b * np.cos(x)
    return da, db


def recurrence_args(rng, steps):
    return (0.5 + 0.1 * float(rng.random()), 0.4 + 0.1 * float(rng.random()),
            1.0 + float(rng.random()), steps)


# --- 5. Newton's method in a data-dependent while loop (Kepler's equation) ----------------------

def kepler(M, e, tol):
    """Solve E - e sin E = M for E by Newton's method, until the last step is below tol."""
    E = M
    delta = 1.0
    while delta > tol:
        step = (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
        E = E - step
        delta = np.max(np.abs(step))
    return np.sum(E * E)


def kepler_grad(M, e, tol):
    """The adjoint of the iterations themselves (what any AD tool computes), saved per step."""
    saved = []
    E = M
    delta = 1.0
    while delta > tol:
        s, c = np.sin(E), np.cos(E)
        den = 1.0 - e * c
        step = (E - e * s - M) / den
        saved.append((s, c, den, step))
        E = E - step
        delta = np.max(np.abs(step))
    dE = 2.0 * E
    dM = np.zeros_like(M)
    de = 0.0
    for s, c, den, step in reversed(saved):
        dE_den = dE / den
        dM += dE_den
        de += np.sum(dE_den * (s - step * c))
        dE = dE_den * (e * s * step)
    return dM + dE, de


def kepler_args(rng, n):
    return (rng.uniform(0.0, 2.0 * np.pi, size=n), 0.3 + 0.2 * float(rng.random()), 1e-12)


# --- 6. a long elementwise chain -----------------------------------------------------------------

def chain(x):
    a = np.exp(-x * x)
    b = np.tanh(2.0 * a + x)
    c = np.sin(b) * np.cos(x)
    d = c + np.log1p(b * b)
    y = np.sqrt(1.0 + d * d) * x
    return np.sum(y)


def chain_grad(x):
    a = np.exp(-x * x)
    b = np.tanh(2.0 * a + x)
    sin_b, cos_x = np.sin(b), np.cos(x)
    c = sin_b * cos_x
    d = c + np.log1p(b * b)
    r = np.sqrt(1.0 + d * d)
    dx = r.copy()                        # y = r * x
    dd = x * d / r                       # r = sqrt(1 + d^2)
    db = dd * 2.0 * b / (1.0 + b * b)    # d = c + log1p(b^2)
    db += dd * np.cos(b) * cos_x         # c = sin(b) cos(x)
    dx -= dd * sin_b * np.sin(x)
    dpre = db * (1.0 - b * b)            # b = tanh(2a + x)
    dx += dpre
    dx -= dpre * 4.0 * x * a             # a = exp(-x^2)
    return dx


def chain_args(rng, n):
    return (rng.normal(size=n),)


# --- 7. explicit Euler integration of Lotka-Volterra --------------------------------------------

def lotka_volterra(alpha, beta, gamma, delta, u, v, dt, steps):
    for _ in range(steps):
        uv = u * v
        du = alpha * u - beta * uv
        dv = delta * uv - gamma * v
        u = u + dt * du
        v = v + dt * dv
    return np.mean(u * u + v * v)


def lotka_volterra_grad(alpha, beta, gamma, delta, u, v, dt, steps):
    states = []
    for _ in range(steps):
        states.append((u, v))
        uv = u * v
        u, v = u + dt * (alpha * u - beta * uv), v + dt * (delta * uv - gamma * v)
    scale = 2.0 / u.size
    du, dv = scale * u, scale * v
    dalpha = dbeta = dgamma = ddelta = 0.0
    for u, v in reversed(states):
        uv = u * v
        dalpha += dt * np.dot(du, u)
        dbeta -= dt * np.dot(du, uv)
        ddelta += dt * np.dot(dv, uv)
        dgamma -= dt * np.dot(dv, v)
        du, dv = (du * (1.0 + dt * (alpha - beta * v)) + dv * (dt * delta) * v,
                  dv * (1.0 + dt * (delta * u - gamma)) - du * (dt * beta) * u)
    return dalpha, dbeta, dgamma, ddelta


def lotka_volterra_args(rng, n, steps):
    return (1.1, 0.4, 0.4, 0.1, 10.0 + rng.random(n), 5.0 + rng.random(n), 0.01, steps)


# --- the table -----------------------------------------------------------------------------------

@dataclass
class Size:
    tag: str           # "tiny", "medium" or "large": overhead-bound to compute-bound
    label: str         # shown in the table
    params: tuple      # passed to the workload's make_args after the random generator


@dataclass
class Workload:
    name: str
    loss: str          # names of functions in this module, so other copies of it can be used
    grad: str
    make_args: str
    wrt: tuple
    sizes: list = field(default_factory=list)


WORKLOADS = [
    Workload("softmax xent", "softmax_xent", "softmax_xent_grad", "softmax_xent_args", 0,
             [Size("tiny", "8x10", (8, 10)), Size("medium", "128x100", (128, 100)),
              Size("large", "1024x1000", (1024, 1000))]),
    Workload("MLP 2-layer", "mlp", "mlp_grad", "mlp_args", (0, 1, 2, 3),
             [Size("tiny", "b8 16-16-10", (8, 16, 16, 10)),
              Size("medium", "b32 64-128-10", (32, 64, 128, 10)),
              Size("large", "b128 784-512-10", (128, 784, 512, 10))]),
    Workload("tanh RNN", "rnn", "rnn_grad", "rnn_args", (0, 1),
             [Size("tiny", "T20 b1 4-8", (20, 1, 4, 8)),
              Size("medium", "T50 b16 32-64", (50, 16, 32, 64)),
              Size("large", "T100 b64 128-256", (100, 64, 128, 256))]),
    Workload("scalar recurrence", "recurrence", "recurrence_grad", "recurrence_args", (0, 1),
             [Size("tiny", "100 steps", (100,)), Size("large", "1000 steps", (1000,))]),
    Workload("Newton while (Kepler)", "kepler", "kepler_grad", "kepler_args", (0, 1),
             [Size("tiny", "n=4", (4,)), Size("medium", "n=1000", (1000,)),
              Size("large", "n=100000", (100_000,))]),
    Workload("elementwise chain", "chain", "chain_grad", "chain_args", 0,
             [Size("tiny", "n=10", (10,)), Size("medium", "n=10^4", (10_000,)),
              Size("large", "n=10^6", (1_000_000,))]),
    Workload("Euler ODE (Lotka-Volterra)", "lotka_volterra", "lotka_volterra_grad",
             "lotka_volterra_args", (0, 1, 2, 3),
             [Size("tiny", "n=1 T=200", (1, 200)), Size("medium", "n=100 T=500", (100, 500)),
              Size("large", "n=10^4 T=1000", (10_000, 1000))]),
]
