"""Rules of the activations PyTorch has as operations of their own: sigmoid, softmax, log_softmax.

Each is a small primitive here (NumPy has none) so that its node is named as PyTorch names it
(SigmoidBackward0 ...) and its derivative reads the result, as PyTorch's does.
"""
import numpy as np

from .registry import jvp, vjp


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), written with tanh so that no exp overflows."""
    return 0.5 * np.tanh(0.5 * x) + 0.5


def softmax(x, axis):
    """exp(x) / sum(exp(x)) along ``axis``; the maximum is subtracted first against overflow."""
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def log_softmax(x, axis):
    """log(softmax(x)) along ``axis``, without forming the softmax (no log of an underflow)."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@vjp(sigmoid)
def sigmoid_(g, ans, x):
    return g * ans * (1 - ans)


@jvp(sigmoid)
def sigmoid_jvp(ans, x, *, dx):
    return dx * ans * (1 - ans)


@vjp(softmax)
def softmax_(g, ans, x, axis):
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True)), None


@jvp(softmax)
def softmax_jvp(ans, x, axis, *, dx):
    return ans * (dx - np.sum(dx * ans, axis=axis, keepdims=True))


@vjp(log_softmax)
def log_softmax_(g, ans, x, axis):
    return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True), None


@jvp(log_softmax)
def log_softmax_jvp(ans, x, axis, *, dx):
    return dx - np.sum(np.exp(ans) * dx, axis=axis, keepdims=True)
