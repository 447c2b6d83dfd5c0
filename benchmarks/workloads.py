"""The benchmark workloads: each loss written once as a plain NumPy function, with two gradients
written by hand beside it.

The losses are what a user would hand to ``srcgrad.grad``: plain functions, loops, ``if`` and
``while``, ``np.*`` calls. HIPS autograd and JAX run the very same source: ``run.py`` loads a
second copy of this module with ``np`` bound to ``autograd.numpy`` or ``jax.numpy``. PyTorch gets
its own transcription in ``workloads_torch.py``.

Each loss has two hand-written gradients:

- ``*_grad``, the *naive* one: written the way the generated code is written, one array per
  intermediate, one outer product per RNN step, every value the adjoint needs computed again or
  kept in a list. It is the mechanical gradient done carefully by hand.
- ``*_expert``, the *expert* one: what someone who knows NumPy writes when speed matters.
  Closed forms (softmax - onehot), algebra folded into few passes, in-place temporaries
  (``out=``, ``*=``), per-step weight gradients batched into one matrix product after the loop,
  the input projections of all steps in one GEMM before it, per-step parameter gradients as one
  ``vdot`` over the stacked steps, and at tiny sizes as few NumPy calls as possible.

Every hand-written gradient returns one array (or float) per ``wrt`` position, as
``srcgrad.grad(loss, wrt=...)`` does; ``run.py --check`` and ``tests/test_benchmark_workloads.py``
compare both with central differences.
"""
from dataclasses import dataclass, field

import numpy as np


# --- 1. softmax cross-entropy with the max shift ------------------------------------------------

def softmax_xent(logits, label):
    shifted = logits - np.max(logits)
    log_norm = np.log(np.sum(np.exp(shifted)))
    return log_norm - shifted[label]


def softmax_xent_grad(logits, label):
    """Step by step, as the loss computes: the log-sum-exp, the picked entry, the max's tie mask."""
    top = np.max(logits)
    shifted = logits - top
    exps = np.exp(shifted)
    total = np.sum(exps)
    dshifted = exps * (1.0 / total)        # log(sum(exp(shifted)))
    dshifted[label] -= 1.0                 # - shifted[label]
    dtop = -np.sum(dshifted)               # shifted = logits - top
    ties = logits == top                   # top = max(logits): shared among the ties
    return dshifted + ties * (dtop / np.sum(ties))


def softmax_xent_expert(logits, label):
    """softmax - onehot: the shift's adjoint is zero (softmax sums to one), so no tie mask."""
    p = logits - logits.max()
    np.exp(p, out=p)
    p *= 1.0 / p.sum()
    p[label] -= 1.0
    return p


def softmax_xent_args(rng, n):
    return (rng.normal(size=n), int(rng.integers(0, n)))


# --- 2. log-sum-exp without the shift ------------------------------------------------------------

def logsumexp(x):
    return np.log(np.sum(np.exp(x)))


def logsumexp_grad(x):
    exps = np.exp(x)
    total = np.sum(exps)
    dtotal = 1.0 / total
    dexps = np.full_like(x, dtotal)        # the sum's adjoint, stretched to x's shape
    return dexps * exps


def logsumexp_expert(x):
    p = np.exp(x)
    p *= 1.0 / p.sum()
    return p


def logsumexp_args(rng, n):
    return (rng.normal(size=n),)


# --- 3. two-layer tanh MLP, mean squared error ---------------------------------------------------

def mlp(W1, b1, W2, b2, x, y):
    hidden = np.tanh(x @ W1 + b1)
    out = hidden @ W2 + b2
    return np.mean((out - y) ** 2)


def mlp_grad(W1, b1, W2, b2, x, y):
    hidden = np.tanh(x @ W1 + b1)
    out = hidden @ W2 + b2
    residual = out - y
    dsquare = np.full_like(residual, 1.0 / residual.size)   # mean
    dout = dsquare * (2.0 * residual)
    dW2 = hidden.T @ dout
    db2 = np.sum(dout, axis=0)
    dhidden = dout @ W2.T
    dpre = dhidden * (1.0 - hidden * hidden)
    dW1 = x.T @ dpre
    db1 = np.sum(dpre, axis=0)
    return dW1, db1, dW2, db2


def mlp_expert(W1, b1, W2, b2, x, y):
    h = x @ W1
    h += b1
    np.tanh(h, out=h)
    r = h @ W2
    r += b2
    r -= y
    r *= 2.0 / r.size                      # dout, in place of the residual
    dW2 = h.T @ r
    db2 = r.sum(axis=0)
    dpre = r @ W2.T
    h *= h
    np.subtract(1.0, h, out=h)
    dpre *= h
    return x.T @ dpre, dpre.sum(axis=0), dW2, db2


def mlp_args(rng, batch, n_in, n_hidden, n_out):
    return (rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in), rng.normal(size=n_hidden) * 0.1,
            rng.normal(size=(n_hidden, n_out)) / np.sqrt(n_hidden), rng.normal(size=n_out) * 0.1,
            rng.normal(size=(batch, n_in)), rng.normal(size=(batch, n_out)))


# --- 4. vanilla tanh RNN, loss on the last state -------------------------------------------------

def rnn(W, U, x, h0):
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(h @ W + x[t] @ U)
    return np.sum(h * h)


def rnn_grad(W, U, x, h0):
    """One weight-gradient product per step and weight, as the loop body reads."""
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


def rnn_expert(W, U, x, h0):
    """All input projections in one GEMM before the loop, the states in one preallocated stack,
    tanh' of every step in two calls, and both weight gradients as one GEMM each after the loop
    (dW = H.T @ GA over the stacked states and per-step adjoints)."""
    steps, batch, n_in = x.shape
    n_hidden = W.shape[0]
    H = np.empty((steps + 1, batch, n_hidden))
    H[0] = h0
    GA = (x.reshape(steps * batch, n_in) @ U).reshape(steps, batch, n_hidden)
    for t in range(steps):
        h = np.matmul(H[t], W, out=H[t + 1])
        h += GA[t]
        np.tanh(h, out=h)
    np.multiply(H[1:], H[1:], out=GA)      # 1 - h^2 of all steps at once, in the buffer
    np.subtract(1.0, GA, out=GA)           # of the input projections (used up by now)
    WT = W.T
    dh = 2.0 * H[steps]
    for t in range(steps - 1, 0, -1):      # GA[t]: the adjoint of step t's pre-activation
        g = GA[t]
        g *= dh
        dh = g @ WT
    GA[0] *= dh
    GA = GA.reshape(steps * batch, n_hidden)
    dW = H[:-1].reshape(steps * batch, n_hidden).T @ GA
    dU = x.reshape(steps * batch, n_in).T @ GA
    return dW, dU


def rnn_args(rng, steps, batch, n_in, n_hidden):
    return (rng.normal(size=(n_hidden, n_hidden)) / np.sqrt(n_hidden),
            rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in),
            rng.normal(size=(steps, batch, n_in)), rng.normal(size=(batch, n_hidden)))


# --- 5. scalar recurrence on Python floats -------------------------------------------------------

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


def recurrence_expert(a, b, x0, steps):
    """sin saved in the forward loop, cos in the backward: two NumPy calls per step."""
    saved = []
    x = x0
    for _ in range(steps):
        s = np.sin(x)
        saved.append((x, s))
        x = a * x + b * s
    da = db = 0.0
    dx = 1.0
    for x, s in reversed(saved):
        da += dx * x
        db += dx * s
        dx *= a + b * np.cos(x)
    return da, db


def recurrence_args(rng, steps):
    return (0.5 + 0.1 * float(rng.random()), 0.4 + 0.1 * float(rng.random()),
            1.0 + float(rng.random()), steps)


# --- 6. Newton's method in a data-dependent while loop (Kepler's equation) ----------------------

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


def kepler_expert(M, e, tol):
    """The same adjoint of the iterations, in place: the forward makes four arrays per step and
    keeps them; the backward reuses them as its temporaries (eight calls per step)."""
    saved = []
    E = M.copy()
    delta = 1.0
    while delta > tol:
        s = np.sin(E)
        c = np.cos(E)
        den = 1.0 - e * c
        step = E - M
        step -= e * s
        step /= den
        saved.append((s, c, den, step))
        E -= step
        delta = np.abs(step).max()
    dE = 2.0 * E
    dM = np.zeros_like(M)
    de = 0.0
    for s, c, den, step in reversed(saved):
        g = np.divide(dE, den, out=den)
        dM += g
        c *= step
        de += np.dot(g, np.subtract(s, c, out=c))
        dE = np.multiply(g, s, out=s)
        dE *= step
        dE *= e
    dM += dE
    return dM, de


def kepler_implicit(M, e, tol):
    """For comparison only (not the same derivative): the implicit function theorem at the
    solution, dE/dM = 1/(1 - e cos E), dE/de = sin E/(1 - e cos E); no loop is differentiated."""
    E = M.copy()
    delta = 1.0
    while delta > tol:
        step = (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
        E -= step
        delta = np.abs(step).max()
    g = 2.0 * E
    g /= 1.0 - e * np.cos(E)
    return g, float(np.dot(g, np.sin(E)))


def kepler_args(rng, n):
    return (rng.uniform(0.0, 2.0 * np.pi, size=n), 0.3 + 0.2 * float(rng.random()), 1e-12)


# --- 7. an elementwise chain ---------------------------------------------------------------------

def chain(x, w, b):
    return np.sum(np.tanh(x * w + b) ** 2 * np.exp(-x))


def chain_grad(x, w, b):
    pre = x * w + b
    t = np.tanh(pre)
    t2 = t ** 2
    e = np.exp(-x)
    dy = np.ones_like(x)                   # the sum's adjoint
    dt2 = dy * e
    de = dy * t2
    dt = dt2 * (2.0 * t)
    dpre = dt * (1.0 - t * t)
    return dpre * w - de * e


def chain_expert(x, w, b):
    """d/dx = t e (2 w (1 - t^2) - t) with t = tanh(x w + b), e = exp(-x); two temporaries."""
    t = x * w
    t += b
    np.tanh(t, out=t)
    g = t * t
    g *= -2.0 * w
    g += 2.0 * w
    g -= t
    g *= t
    e = np.negative(x, out=t)              # t is not needed any more
    np.exp(e, out=e)
    g *= e
    return g


def chain_args(rng, n):
    return (rng.normal(size=n), 0.7, 0.1)


# --- 8. explicit Euler integration of Lotka-Volterra --------------------------------------------

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


def lotka_volterra_expert(alpha, beta, gamma, delta, u, v, dt, steps):
    """States, products u*v and adjoints in preallocated stacks; the per-step update folded to
    u' = u ca - uv cb, v' = v cg + uv cd and its adjoint to one shared term k = dv cd - du cb;
    the four parameter gradients as one vdot each over all steps, after the loop."""
    n = u.size
    ca, cb, cg, cd = 1.0 + dt * alpha, dt * beta, 1.0 - dt * gamma, dt * delta
    U, V, UV = np.empty((steps + 1, n)), np.empty((steps + 1, n)), np.empty((steps, n))
    U[0], V[0] = u, v
    for t in range(steps):
        uv = np.multiply(U[t], V[t], out=UV[t])
        u = np.multiply(U[t], ca, out=U[t + 1])
        u -= uv * cb
        v = np.multiply(V[t], cg, out=V[t + 1])
        v += uv * cd
    DU, DV = np.empty((steps + 1, n)), np.empty((steps + 1, n))
    np.multiply(U[steps], 2.0 / n, out=DU[steps])
    np.multiply(V[steps], 2.0 / n, out=DV[steps])
    k = np.empty(n)
    for t in range(steps, 0, -1):          # DU[t]: the adjoint of the state after step t
        du, dv = DU[t], DV[t]
        np.multiply(dv, cd, out=k)
        k -= du * cb
        a = np.multiply(du, ca, out=DU[t - 1])
        a += V[t - 1] * k
        a = np.multiply(dv, cg, out=DV[t - 1])
        a += U[t - 1] * k
    DU, DV = DU[1:].ravel(), DV[1:].ravel()
    uv = UV.ravel()
    return (dt * np.dot(DU, U[:-1].ravel()), -dt * np.dot(DU, uv),
            -dt * np.dot(DV, V[:-1].ravel()), dt * np.dot(DV, uv))


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
    grad: str          # the naive hand-written gradient
    make_args: str
    wrt: tuple
    sizes: list = field(default_factory=list)
    expert: str = None  # the expert hand-written gradient


WORKLOADS = [
    Workload("softmax xent (max shift)", "softmax_xent", "softmax_xent_grad", "softmax_xent_args",
             0, [Size("tiny", "n=10", (10,)), Size("medium", "n=10^3", (1000,)),
                 Size("large", "n=10^6", (1_000_000,))], "softmax_xent_expert"),
    Workload("log-sum-exp (no shift)", "logsumexp", "logsumexp_grad", "logsumexp_args", 0,
             [Size("tiny", "n=10", (10,)), Size("medium", "n=10^3", (1000,)),
              Size("large", "n=10^6", (1_000_000,))], "logsumexp_expert"),
    Workload("MLP 2-layer tanh, MSE", "mlp", "mlp_grad", "mlp_args", (0, 1, 2, 3),
             [Size("tiny", "b1 64-128-10", (1, 64, 128, 10)),
              Size("medium", "b32 64-128-10", (32, 64, 128, 10)),
              Size("large", "b128 64-128-10", (128, 64, 128, 10))], "mlp_expert"),
    Workload("tanh RNN, last state", "rnn", "rnn_grad", "rnn_args", (0, 1),
             [Size("tiny", "T20 b1 8-16", (20, 1, 8, 16)),
              Size("medium", "T50 b16 32-64", (50, 16, 32, 64)),
              Size("large", "T100 b64 128-256", (100, 64, 128, 256))], "rnn_expert"),
    Workload("scalar loop", "recurrence", "recurrence_grad", "recurrence_args", (0, 1),
             [Size("tiny", "50 steps", (50,)), Size("medium", "500 steps", (500,))],
             "recurrence_expert"),
    Workload("Newton while (Kepler)", "kepler", "kepler_grad", "kepler_args", (0, 1),
             [Size("tiny", "n=4", (4,)), Size("medium", "n=10^3", (1000,)),
              Size("large", "n=10^5", (100_000,))], "kepler_expert"),
    Workload("elementwise chain", "chain", "chain_grad", "chain_args", 0,
             [Size("tiny", "n=10", (10,)), Size("medium", "n=10^4", (10_000,)),
              Size("large", "n=10^6", (1_000_000,))], "chain_expert"),
    Workload("Euler ODE (Lotka-Volterra)", "lotka_volterra", "lotka_volterra_grad",
             "lotka_volterra_args", (0, 1, 2, 3),
             [Size("tiny", "n=1 T=100", (1, 100)), Size("medium", "n=10^3 T=100", (1000, 100)),
              Size("large", "n=2x10^4 T=100", (20_000, 100))], "lotka_volterra_expert"),
]
