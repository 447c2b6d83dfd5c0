"""Random programs written from the user's side: what real losses look like, not what srcgrad supports.

:func:`generate` (a seed) writes one module: a small ML loss (MLP with tanh/relu and softmax
cross-entropy, logistic regression, MSE with L2), physics (Euler/RK2 steps, spring-mass, a
bouncing ball that stops with ``break``), statistics (log-likelihoods, normalization), numerical
code (Newton iterations with ``while``, early ``return``), or a random composition of everyday
NumPy (``np.var``, ``np.cumsum``, ``np.linalg.norm``, ``x[:, None]``, ``np.concatenate``, ``.T``,
``.reshape``, ``np.maximum``, ``np.clip``, comprehensions, dict and list parameters, methods), or
plain Python around NumPy (``math``, ``abs``/``min``/``max``, generators with ``zip`` and
``enumerate``, boolean masks, keyword and default arguments, lambdas, closures, recursion,
``scipy.special``, ``np.linalg.solve``/``det``, ``+=`` on copies and slices, ``try``, dicts).

Each program must be right in every mode, or refused by a ``srcgrad.SrcgradError`` whose message
names the program's file and line. Look at samples with::

    python tests/user_programs.py --count 5 --seed 1
"""
import argparse
import random
from dataclasses import dataclass

import numpy as np

HEADER = "import numpy as np\n\n"


@dataclass
class UserProgram:
    source: str
    name: str
    args: list
    wrt: tuple          # the positions to differentiate (float arguments)
    family: str

    def fresh_args(self):
        return [_copy(a) for a in self.args]

    def describe(self):
        args = ",\n    ".join(_format(a) for a in self.args)
        return (f"{self.source}\n# family {self.family}; wrt={self.wrt}\n"
                f"# {self.name}(\n    {args})")


def _copy(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, dict):
        return {k: _copy(v) for k, v in a.items()}
    if isinstance(a, list):
        return [_copy(v) for v in a]
    return a


def _format(a):
    if isinstance(a, np.ndarray):
        return f"np.array({np.round(a, 6).tolist()!r}{', dtype=int' if a.dtype.kind == 'i' else ''})"
    if isinstance(a, dict):
        return "{" + ", ".join(f"{k!r}: {_format(v)}" for k, v in a.items()) + "}"
    if isinstance(a, list):
        return "[" + ", ".join(_format(v) for v in a) + "]"
    return repr(a)


class Writer:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.rng = np.random.default_rng(seed)

    def pick(self, options):
        return self.r.choice(list(options))

    def normal(self, *shape, scale=1.0):
        return self.rng.standard_normal(shape) * scale if shape else \
            float(self.rng.standard_normal() * scale)


# ------------------------------------------------------------------------------------------------
# Families

def mlp(w):
    n, d, h, k = w.r.randint(3, 5), w.r.randint(2, 3), w.r.randint(2, 4), w.r.randint(2, 3)
    act = w.pick(["np.tanh({})", "np.maximum({}, 0.0)", "1.0 / (1.0 + np.exp(-{}))",
                  "np.where({0} > 0, {0}, 0.01 * {0})"])
    bias = w.pick(["X @ W1.T + b1", "np.dot(X, W1.T) + b1[None, :]", "X.dot(W1.T) + b1"])
    logsoftmax = w.pick([
        "    logits = logits - np.max(logits, axis=1, keepdims=True)\n"
        "    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))\n",
        "    e = np.exp(logits - logits.max(axis=1, keepdims=True))\n"
        "    logp = np.log(e / e.sum(axis=1, keepdims=True))\n",
    ])
    pick = w.pick(["    return -np.mean(logp[np.arange(len(y)), y])\n",
                   "    return -np.sum(logp * np.eye(logp.shape[1])[y]) / len(y)\n",
                   "    return -sum(logp[i, y[i]] for i in range(len(y))) / len(y)\n"])
    l2 = w.pick(["", "    reg = 0.01 * (np.sum(W1 ** 2) + np.sum(W2 ** 2))\n"])
    if l2:
        pick = pick.replace("    return ", "    return reg + ")
    source = (HEADER + "def loss(W1, b1, W2, X, y):\n"
              f"    H = {act.format('(' + bias + ')')}\n"
              "    logits = H @ W2.T\n" + logsoftmax + l2 + pick)
    args = [w.normal(h, d), w.normal(h, scale=0.1), w.normal(k, h), w.normal(n, d),
            w.rng.integers(0, k, n)]
    return source, "loss", args, (0, 1, 2)


def logistic(w):
    n, d = w.r.randint(3, 6), w.r.randint(2, 3)
    prob = w.pick(["1.0 / (1.0 + np.exp(-z))", "0.5 * (1.0 + np.tanh(0.5 * z))"])
    nll = w.pick(["-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))",
                  "-np.sum(np.where(y == 1, np.log(p), np.log(1.0 - p))) / len(y)",
                  "np.mean(np.log1p(np.exp(-z)) + (1 - y) * z)"])
    reg = w.pick(["lam * np.sum(w ** 2)", "lam * np.dot(w, w)", "lam * np.linalg.norm(w) ** 2",
                  "lam * (w @ w)"])
    source = (HEADER + "def loss(w, b, X, y, lam):\n"
              "    z = X @ w + b\n"
              f"    p = {prob}\n"
              f"    return {nll} + {reg}\n")
    args = [w.normal(d), w.normal(scale=0.3), w.normal(n, d), w.rng.integers(0, 2, n).astype(float),
            0.1]
    return source, "loss", args, (0, 1)


def mse(w):
    n, d = w.r.randint(3, 6), w.r.randint(2, 4)
    pred = w.pick(["X @ w", "np.dot(X, w)", "X.dot(w)", "np.sum(X * w, axis=1)",
                   "np.einsum('ij,j->i', X, w)", "np.array([np.dot(row, w) for row in X])"])
    body = w.pick([
        f"    r = {pred} - y\n    return np.mean(r ** 2) + alpha * np.sum(w * w)\n",
        f"    r = {pred} - y\n    return r @ r / len(y) + alpha * np.linalg.norm(w) ** 2\n",
        f"    total = 0.0\n    for i in range(len(y)):\n"
        f"        total += (np.dot(X[i], w) - y[i]) ** 2\n"
        f"    return total / len(y) + alpha * np.sum(np.square(w))\n",
        f"    r = {pred} - y\n    return np.var(r) + np.mean(r) ** 2 + alpha * (w ** 2).sum()\n",
    ])
    source = HEADER + "def loss(w, X, y, alpha):\n" + body
    return source, "loss", [w.normal(d), w.normal(n, d), w.normal(n), w.pick([0.1, 0.01])], (0, 3)


def spring(w):
    steps = w.r.randint(2, 6)
    scheme = w.pick(["euler", "symplectic", "rk2"])
    update = {
        "euler": "        a = -k * x - c * v\n        x = x + dt * v\n        v = v + dt * a\n",
        "symplectic": "        v = v + dt * (-k * x - c * v)\n        x = x + dt * v\n",
        "rk2": "        a1 = -k * x - c * v\n        xm = x + 0.5 * dt * v\n"
               "        vm = v + 0.5 * dt * a1\n        x = x + dt * vm\n"
               "        v = v + dt * (-k * xm - c * vm)\n",
    }[scheme]
    vector = w.r.random() < 0.5
    energy = ("0.5 * np.sum(v ** 2) + 0.5 * k * np.sum(x ** 2)" if vector
              else "0.5 * v ** 2 + 0.5 * k * x ** 2")
    loop = w.pick([f"    for step in range({steps}):\n",
                   f"    t = 0.0\n    while t < {steps} * dt - 1e-9:\n        t = t + dt\n"])
    source = (HEADER + "def energy(x0, v0, k, c):\n"
              f"    dt = 0.1\n    x, v = x0, v0\n" + loop + update +
              f"    return {energy}\n")
    args = ([w.normal(3), w.normal(3)] if vector else [w.normal(), w.normal()]) + \
        [abs(w.normal()) + 0.5, abs(w.normal(scale=0.1))]
    return source, "energy", args, (0, 1, 2, 3)


def ball(w):
    source = (HEADER + "def height_after(h0, v0, g):\n"
              "    h, v = h0, v0\n"
              "    for step in range(20):\n"
              "        v = v - g * 0.05\n"
              "        h = h + v * 0.05\n"
              "        if h < 0.0:\n"
              + w.pick(["            break\n", "            return h * h\n"]) +
              "    return h\n")
    return source, "height_after", [1.0 + abs(w.normal()), w.normal(), 9.81], (0, 1, 2)


def gaussian(w):
    n = w.r.randint(3, 7)
    body = w.pick([
        "    sigma = np.exp(log_sigma)\n"
        "    z = (x - mu) / sigma\n"
        "    return -np.sum(-0.5 * z ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi))\n",
        "    var = np.exp(2 * log_sigma)\n"
        "    return 0.5 * np.sum((x - mu) ** 2) / var + len(x) * log_sigma\n",
        "    ll = 0.0\n    for xi in x:\n"
        "        ll = ll - 0.5 * ((xi - mu) / np.exp(log_sigma)) ** 2 - log_sigma\n"
        "    return -ll\n",
    ])
    source = HEADER + "def nll(mu, log_sigma, x):\n" + body
    return source, "nll", [w.normal(), w.normal(scale=0.3), w.normal(n)], (0, 1, 2)


def normalize(w):
    n = w.r.randint(3, 6)
    body = w.pick([
        "    z = (x - np.mean(x)) / np.std(x)\n    return np.sum(z * weights)\n",
        "    z = (x - x.mean()) / np.sqrt(np.var(x) + 1e-5)\n    return np.dot(z, weights)\n",
        "    p = np.exp(x) / np.sum(np.exp(x))\n    return np.sum(p * weights)\n",
        "    z = x / np.linalg.norm(x)\n    return np.sum(np.cumsum(z) * weights)\n",
        "    c = np.cumsum(x)\n    return np.sum(c * weights) / c[-1] ** 2\n",
    ])
    source = HEADER + "def score(x, weights):\n" + body
    return source, "score", [w.normal(n) + 0.5, w.normal(n)], (0, 1)


def newton(w):
    body = w.pick([
        "    x = a\n    i = 0\n"
        "    while abs(x * x - a) > 1e-12 and i < 50:\n"
        "        x = 0.5 * (x + a / x)\n        i += 1\n    return x\n",
        "    x = a\n    for i in range(50):\n"
        "        x_new = 0.5 * (x + a / x)\n"
        "        if abs(x_new - x) < 1e-13:\n            return x_new\n"
        "        x = x_new\n    return x\n",
        "    x = 1.0\n    for i in range(60):\n"
        "        step = (x ** 3 - a) / (3 * x ** 2)\n        x = x - step\n"
        "        if abs(step) < 1e-14:\n            break\n    return x\n",
    ])
    source = HEADER + "def root(a):\n" + body
    return source, "root", [1.0 + abs(w.normal())], (0,)


EVERYDAY = [
    "z = np.tanh(z)",
    "z = z - np.mean(z, axis=0)",
    "z = z / (1.0 + np.var(z))",
    "z = np.cumsum(z, axis=1)",
    "z = np.clip(z, -1.5, 1.5)",
    "z = np.maximum(z, 0.1 * z)",
    "z = (z.T * w).T",
    "z = z * v[:, None]",
    "z = np.concatenate([z, z ** 2], axis=1)[:, :4]",
    "z = z.reshape(4, 3).reshape(3, 4)",
    "z = z + np.linalg.norm(z, axis=1, keepdims=True)",
    "z = np.exp(-z ** 2)",
    "z = np.sqrt(z ** 2 + 1.0)",
    "z = np.array([row * s for row in z])",
    "z = np.stack([z[i] * params['scale'] for i in range(3)])",
    "z = z @ np.eye(4)",
    "z = np.where(z > 0, z, 0.01 * z)",
    "z = z.sum(axis=1, keepdims=True) * z",
    "z = z.mean() + z",
    "z = np.einsum('ij,j->ij', z, u)",
    "z = np.outer(z[:, 0], u)",
    "z = np.square(z) * 0.5",
    "z = np.log1p(z ** 2)",
    "z = np.max(z, axis=1, keepdims=True) - z",
    "z = z * layers[0] + layers[1]",
    "z = np.dot(z, u)[:, None] * z",
    "z = np.sort(z, axis=1)",
    "z = np.flip(z, axis=0)",
    "z = np.roll(z, 1, axis=1)",
    "z = np.vstack([z[1:], z[:1]])",
    "z = np.hstack([z[:, 2:], z[:, :2]])",
    "z = np.transpose(z)[::-1].T",
    "z = np.abs(z) + 0.5 * z",
    "z = z - z.min()",
    "z = np.sin(z) * s",
    "z = z / np.sum(np.abs(z), axis=0)",
    "z = np.tile(z[:, :2], (1, 2))",
    "z = np.diag(np.diag(z @ z.T)) @ z",
    "z = np.prod(np.cos(z), axis=0, keepdims=True) + z",
    "z = np.minimum(z, s)",
    "z = np.power(z, 2) + np.arctan2(z, 1.0)",
    "z = np.linalg.inv(np.eye(3) + 0.1 * z @ z.T) @ z",
    "z = np.trace(z @ z.T) * z",
    "z = np.std(z, axis=1, keepdims=True) + z",
    "z = np.mean(z ** 2, axis=0) * z",
    "z = z.copy()\n    z[0] = z[0] * s",
    "z = z.copy()\n    z[:, 1] += s",
    "z = z.astype(float) * 2.0",
    "z = np.asarray(z) + np.ones_like(z)",
    "z = z + float(np.sum(z))",
]

FINAL = ["np.sum(z ** 2)", "np.mean(z)", "np.linalg.norm(z)", "z.sum()", "np.sum(z) * s",
         "np.sum(np.tanh(z))", "(z ** 2).mean() + np.max(z)", "np.sum(z[:, None, :] * z[None])",
         "np.vdot(z, z)", "np.sum(z * z[::-1])"]


def everyday(w):
    steps = [w.pick(EVERYDAY) for _ in range(w.r.randint(2, 5))]
    final = w.pick(FINAL)
    body = "".join(f"    {step}\n" for step in steps)
    source = (HEADER + "def f(x, u, w, v, s, params, layers):\n    z = x * 1.0\n" + body
              + f"    return {final}\n")
    args = [w.normal(3, 4), w.normal(4), w.normal(3), w.normal(3), w.normal(),
            {"scale": 1.5}, [0.5, -0.25]]
    return source, "f", args, (0, 1, 2, 3, 4)


def stateful(w):
    """Helpers, methods and containers as people write them."""
    variant = w.r.randint(0, 3)
    if variant == 0:
        source = (HEADER + "def layer(x, W, b):\n    return np.tanh(W @ x + b)\n\n"
                  "def loss(W, b, x):\n    h = x\n    for i in range(3):\n"
                  "        h = layer(h, W, b)\n    return np.sum(h ** 2)\n")
        args = [w.normal(3, 3, scale=0.5), w.normal(3), w.normal(3)]
        return source, "loss", args, (0, 1, 2)
    if variant == 1:
        source = (HEADER + "def loss(weights, x):\n    out = x\n"
                  "    for W in weights:\n        out = np.tanh(out @ W)\n"
                  "    return np.sum(out)\n\n"
                  "def loss_of_two(W1, W2, x):\n    return loss([W1, W2], x)\n")
        args = [w.normal(3, 3), w.normal(3, 2), w.normal(2, 3)]
        return source, "loss_of_two", args, (0, 1, 2)
    if variant == 2:
        source = (HEADER + "def predict(params, x):\n"
                  "    return params['a'] * x ** 2 + params['b'] * x\n\n"
                  "def loss(a, b, x, y):\n    params = {'a': a, 'b': b}\n"
                  "    return np.mean((predict(params, x) - y) ** 2)\n")
        args = [w.normal(), w.normal(), w.normal(5), w.normal(5)]
        return source, "loss", args, (0, 1, 2)
    source = (HEADER + "def loss(x, y):\n    pairs = list(zip(x, y))\n"
              "    total = 0.0\n    for a, b in pairs:\n        total += (a - b) ** 2\n"
              "    squares = [t * t for t in x]\n"
              "    return total + max(squares) + sum(squares) / len(squares)\n")
    return source, "loss", [w.normal(4), w.normal(4)], (0, 1)


PYTHONIC = [
    "t = math.exp(-s * s) * t",
    "t = t + math.sqrt(1.0 + s * s)",
    "t = t + abs(s) * 0.5",
    "t = t + max(s, 0.25) - min(s, -0.25)",
    "t = t + sum(xi * xi for xi in x)",
    "t = t + sum(w * xi for w, xi in zip(weights, x))",
    "t = t + sum(i * xi for i, xi in enumerate(x))",
    "t = t + np.sum(x[x > 0.0])",
    "t = t + np.sum(np.where(x > 0.0, x, 0.0) ** 2)",
    "t = t + np.prod(1.0 + 0.1 * x)",
    "t = t + np.min(x) * np.max(x)",
    "t = t + x.max() - x.min()",
    "t = t + np.power(1.0 + x * x, 1.5).sum()",
    "t = t + (1.0 + s * s) ** 0.5",
    "t = t + scale(x, factor=2.0).sum()",
    "t = t + apply(lambda v: v * v, x).sum()",
    "t = t + closure_sum(x)",
    "t = t + special.logsumexp(x)",
    "t = t + special.expit(s)",
    "t = t + np.linalg.det(np.outer(x[:2], x[:2]) + np.eye(2))",
    "t = t + np.linalg.solve(np.eye(len(x)) * 2.0 + 0.1 * np.outer(x, x), x).sum()",
    "t = t + recursive_power(s, 3)",
    "y = x.copy()\n    y += s\n    t = t + np.sum(y * y)",
    "y = x * 1.0\n    y[1:] += s\n    t = t + np.sum(y * y)",
    "y = x * 1.0\n    y *= s\n    t = t + np.sum(y)",
    "t = t + float(np.dot(x, x))",
    "t = t + np.mean(x, keepdims=True)[0]",
    "t = t + np.sum(x.reshape(-1, 1) * x.reshape(1, -1))",
    "t = t + np.sum(np.diff(x) ** 2)",
    "t = t + np.sum(np.sort(x)[-2:])",
    "t = t + np.sum(np.take(x, [0, 2]))",
    "t = t + np.interp(s, [-2.0, 0.0, 2.0], [1.0, 0.0, 3.0])",
    "t = t + np.sum(np.log(np.exp(x) + 1.0))",
    "t = t + np.tanh(s) if s > 0.0 else t - s",
    "for k in range(len(x)):\n        if x[k] < 0.0:\n            continue\n        t = t + x[k] ** 2",
    "try:\n        t = t + np.sqrt(s * s + 1.0)\n    except ValueError:\n        t = t - 1.0",
    "while t > 10.0:\n        t = t / 2.0",
    "acc = {'x': x, 's': s}\n    t = t + np.sum(acc['x']) * acc['s']",
    "t += s * np.sum(x)",
    "t -= np.dot(x, x) * 0.1",
    "t *= 1.0 + 0.1 * s",
]

PYTHONIC_HELPERS = """import math

import numpy as np
from scipy import special


def scale(v, factor=1.0):
    return v * factor


def apply(fn, v):
    return fn(v)


def closure_sum(v):
    offset = 0.5

    def shifted(u):
        return u + offset
    return np.sum(shifted(v) ** 2)


def recursive_power(b, n):
    if n == 0:
        return 1.0
    return b * recursive_power(b, n - 1)


"""


def pythonic(w):
    steps = [w.pick(PYTHONIC) for _ in range(w.r.randint(1, 4))]
    body = "".join(f"    {step}\n" for step in steps)
    source = (PYTHONIC_HELPERS + "def f(x, s, weights):\n    t = 0.0\n" + body
              + "    return t\n")
    args = [w.normal(3), w.normal(), [0.5, -1.0, 2.0]]
    return source, "f", args, (0, 1)


FAMILIES = {"mlp": mlp, "logistic": logistic, "mse": mse, "spring": spring, "ball": ball,
            "gaussian": gaussian, "normalize": normalize, "newton": newton,
            "everyday": everyday, "stateful": stateful,
            "pythonic": pythonic}
WEIGHTS = {"everyday": 6, "stateful": 2, "pythonic": 4}


def generate(seed, family=None):
    w = Writer(seed)
    if family is None:
        names = sorted(FAMILIES)
        family = w.r.choices(names, [WEIGHTS.get(n, 1) for n in names])[0]
    source, name, args, wrt = FAMILIES[family](w)
    return UserProgram(source, name, args, wrt, family)


def precheck(f, program):
    """Why this program cannot be judged (the plain function fails or is not scalar), or None."""
    try:
        with np.errstate(all="ignore"):
            value = f(*program.fresh_args())
    except Exception as error:  # noqa: BLE001 (the plain function's own error: not srcgrad's)
        return f"the plain function raises {type(error).__name__}: {error}"
    if np.ndim(value) != 0:
        return "not a scalar"
    try:
        value = float(value)
    except TypeError:
        return f"returns {type(value).__name__}"
    if not np.isfinite(value) or abs(value) > 1e8:
        return "not finite or too large"
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    for k in range(options.count):
        print(f"# ---- program {k}\n{generate(options.seed * 1000003 + k).describe()}\n")


if __name__ == "__main__":
    main()
