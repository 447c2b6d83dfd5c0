"""The workloads of ``workloads.py`` transcribed once for PyTorch (eager, CPU, float64).

Same names, same arguments, same arithmetic; ``run.py`` converts NumPy arrays and the Python
floats that are differentiated to float64 tensors once, before timing.
"""
import torch


def softmax_xent(logits, label):
    shifted = logits - torch.max(logits)
    log_norm = torch.log(torch.sum(torch.exp(shifted)))
    return log_norm - shifted[label]


def logsumexp(x):
    return torch.log(torch.sum(torch.exp(x)))


def mlp(W1, b1, W2, b2, x, y):
    hidden = torch.tanh(x @ W1 + b1)
    out = hidden @ W2 + b2
    return torch.mean((out - y) ** 2)


def rnn(W, U, x, h0):
    h = h0
    for t in range(x.shape[0]):
        h = torch.tanh(h @ W + x[t] @ U)
    return torch.sum(h * h)


def recurrence(a, b, x0, steps):
    x = x0
    for _ in range(steps):
        x = a * x + b * torch.sin(x)
    return x


def kepler(M, e, tol):
    E = M
    delta = 1.0
    while delta > tol:
        step = (E - e * torch.sin(E) - M) / (1.0 - e * torch.cos(E))
        E = E - step
        delta = torch.max(torch.abs(step))
    return torch.sum(E * E)


def chain(x, w, b):
    return torch.sum(torch.tanh(x * w + b) ** 2 * torch.exp(-x))


def lotka_volterra(alpha, beta, gamma, delta, u, v, dt, steps):
    for _ in range(steps):
        uv = u * v
        du = alpha * u - beta * uv
        dv = delta * uv - gamma * v
        u = u + dt * du
        v = v + dt * dv
    return torch.mean(u * u + v * v)
