"""Activations and losses on eager Tensors, as PyTorch's ``torch.nn.functional``.

Written with Tensor operations, so their gradients come from the rules of those operations.
"""
import numpy as np

from ..eager.errors import EagerError
from ..eager.methods import cast
from ..eager.tensor import Tensor


def relu(input, inplace=False):
    return input.relu_() if inplace else input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def softmax(input, dim, dtype=None):
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    return input.log_softmax(dim, dtype=dtype)


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _same_shape(input, target, name):
    if tuple(input.shape) != tuple(target.shape):
        raise EagerError(f"{name}: the target size ({tuple(target.shape)}) must be the same as "
                         f"the input size ({tuple(input.shape)})")


def mse_loss(input, target, reduction="mean"):
    """The mean (or sum) of squared differences."""
    _same_shape(input, target, "mse_loss")
    difference = input - target
    return _reduce(difference * difference, reduction)


def l1_loss(input, target, reduction="mean"):
    _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch clamps it (so a
    probability of exactly 0 or 1 gives a finite loss)."""
    _same_shape(input, target, "binary_cross_entropy")
    loss = -(target * input.log().clamp(min=-100)
             + (1 - target) * (1 - input).log().clamp(min=-100))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean"):
    """binary_cross_entropy of sigmoid(input), computed without the sigmoid's rounding:
    max(x, 0) - x t + log(1 + exp(-|x|))."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    loss = input.clamp(min=0) - input * target + (-input.abs()).exp().log1p()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-input[n, target[n]] averaged over n (weighted by ``weight[target[n]]``)."""
    classes = target._data if isinstance(target, Tensor) else np.asarray(target)
    if input.ndim == 1:
        input, classes = input.unsqueeze(0), classes.reshape(1)
    if input.ndim != 2:
        raise EagerError(f"nll_loss: expected input of 1 or 2 dimensions (got {input.ndim})")
    kept = classes != ignore_index
    rows = np.arange(classes.shape[0])
    picked = -input[rows, np.where(kept, classes, 0)]
    weights = np.where(kept, 1.0 if weight is None else np.asarray(weight._data
                                                                   if isinstance(weight, Tensor)
                                                                   else weight)[np.where(
                                                                       kept, classes, 0)], 0.0)
    weights = weights.astype(input._data.dtype)
    losses = picked * weights
    if reduction == "mean":
        return losses.sum() / weights.sum()
    return _reduce(losses, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """nll_loss of log_softmax over the classes (axis 1), with class indices as targets, or
    the mean over rows of -sum(target * log_softmax) with class probabilities as targets."""
    log_probabilities = input.log_softmax(1 if input.ndim > 1 else 0)
    if isinstance(target, Tensor) and target._data.dtype.kind == "f":
        loss = -(target * log_probabilities).sum(1 if input.ndim > 1 else 0)
        return _reduce(loss, reduction)
    if label_smoothing:
        smooth = -log_probabilities.mean(1 if input.ndim > 1 else 0)
        hard = nll_loss(log_probabilities, target, weight, ignore_index, "none")
        loss = (1 - label_smoothing) * hard + label_smoothing * smooth
        return _reduce(loss, reduction)
    return nll_loss(log_probabilities, target, weight, ignore_index, reduction)


def linear(input, weight, bias=None):
    """input @ weight.T + bias, as PyTorch's Linear layer computes it."""
    output = input @ weight.t()
    return output if bias is None else output + bias


def dropout(input, p=0.5, training=True, inplace=False):
    if not training or p == 0:
        return input
    from ..eager.factories import generator
    keep = (generator().random(input._data.shape) >= p).astype(input._data.dtype)
    return input * cast(Tensor._make(keep / (1 - p)), input._data.dtype)
