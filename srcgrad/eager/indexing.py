"""Index assignment and scatter-add as recorded operations.

No rule in ``srcgrad.rules`` covers ``x[index] = value`` or ``np.add.at``; their backward steps
are written with recorded Tensor operations (indexing, whose rule is operator.getitem's, and
``unbroadcast``), so that second derivatives through them work as well.
"""
import numpy as np

from ..runtime import unbroadcast
from .function import Function
from .tensor import Tensor


def _data(value):
    return value._data if isinstance(value, Tensor) else value


class IndexPut(Function):
    """``x[index] = value`` out of place: the gradient of x is zero where value was written."""

    _node_name = "CopySlices"

    @staticmethod
    def forward(ctx, x, index, value):
        ctx.index, ctx.value = index, value
        result = np.copy(x._data)
        result[index] = _data(value)
        return Tensor._make(result)

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad.clone()
        grad_x[ctx.index] = 0.0
        grad_value = (unbroadcast(grad[ctx.index], ctx.value)
                      if isinstance(ctx.value, Tensor) else None)
        return grad_x, None, grad_value


class AddAt(Function):
    """``np.add.at(x, index, values)`` out of place: each value gets the gradient of its place."""

    @staticmethod
    def forward(ctx, x, index, values):
        ctx.index, ctx.values = index, values
        result = np.copy(x._data)
        np.add.at(result, index, _data(values))
        return Tensor._make(result)

    @staticmethod
    def backward(ctx, grad):
        grad_values = (unbroadcast(grad[ctx.index], ctx.values)
                       if isinstance(ctx.values, Tensor) else None)
        return grad, None, grad_values
