"""The workloads of ``workloads.py`` transcribed once for PyTorch (eager, CPU, float64).

Same names, same arguments, same arithmetic; ``run.py`` converts NumPy arrays and the Python
floats that are differentiated to float64 tensors once, before timing.
"""
import torch


def softmax_xent(logits, labels):
    shifted = logits - torch.amax(logits, dim=1, keepdim=True)
    log_norm = torch.log(torch.sum(torch.exp(shifted), dim=1, keepdim=True))
    log_probs = shifted - log_norm
    n = logits.shape[0]
    return -torch.sum(log_probs[torch.arange(n), labels]) / n


def mlp(W1, b1, W2, b2, x, labels):
    hidden = torch.tanh(x @ W1 + b1)
    logits = hidden @ W2 + b2
    return softmax_xent(logits, labels)


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


def chain(x):
    a = torch.exp(-x * x)
    b = torch.tanh(2.0 * a + x)
    c = torch.sin(b) * torch.cos(x)
    d = c + torch.log1p(b * b)
    y = torch.sqrt(1.0 + d * d) * x
    return torch.sum(y)


def lotka_volterra(alpha, beta, gamma, delta, u, v, dt, steps):
    for _ in range(steps):
        uv = u * v
        du = alpha * u - beta * uv
        dv = delta * uv - gamma * v
        u = u + dt * du
        v = v + dt * dv
    return torch.mean(u * u + v * v)
