"""The in-place methods of Tensor (``add_``, ``mul_``, ``zero_``, ``relu_``, ``copy_`` ...).

Each bumps the version counter. When recorded, the new value is the out-of-place method's,
computed from the old value and history (``inplace.change_in_place``), so the rules are those of
the out-of-place methods; PyTorch's checks for leaves and views apply.
"""
import numpy as np

from ..runtime import cast_like, unbroadcast
from .dispatch import unwrap
from .function import Function
from .grad_mode import no_grad
from .indexing import IndexPut
from .inplace import change_by_ufunc, change_in_place
from .tensor import Tensor


def _in_place(target, method, *args, **kwargs):
    """``target`` changed in place to ``target.method(*args, **kwargs)``."""
    out_of_place = getattr(Tensor, method)

    def change_data():
        with no_grad():
            target._data[...] = out_of_place(target.detach(), *args, **kwargs)._data

    operands = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
    return change_in_place(target, operands, change_data,
                           lambda old: out_of_place(old, *args, **kwargs))


class CopyBackwards(Function):
    """``target.copy_(source)``: the source's values, broadcast and cast to the target's; the
    gradient goes to the source (summed over the broadcast, in its dtype), none to the target."""

    _node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, target, source):
        ctx.source = source
        result = np.empty_like(target._data)
        result[...] = unwrap(source)
        return Tensor._make(result)

    @staticmethod
    def backward(ctx, grad):
        source = ctx.source
        grad_source = (cast_like(unbroadcast(grad, source), source)
                       if isinstance(source, Tensor) else None)
        return grad * 0, grad_source


class Fill(IndexPut):
    """``x.fill_(value)``: every element set (the gradient of x is zero)."""

    _node_name = "FillBackward2"


class Zero(IndexPut):
    _node_name = "ZeroBackward0"


def _assign_all(target, value, function):
    """``target[...] = value``, recorded under ``function``'s name."""
    def change_data():
        target._data[...] = unwrap(value)
    return change_in_place(target, (value,), change_data,
                           lambda old: function.apply(old, Ellipsis, value))


class InPlaceMethods:
    """Copied onto Tensor below."""

    def add_(self, other, *, alpha=1):
        return change_by_ufunc(self, np.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, *, alpha=1):
        return change_by_ufunc(self, np.subtract, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return change_by_ufunc(self, np.multiply, other)

    def div_(self, other):
        return change_by_ufunc(self, np.true_divide, other)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def pow_(self, exponent):
        return _in_place(self, "pow", exponent)

    def neg_(self):
        return _in_place(self, "neg")

    def abs_(self):
        return _in_place(self, "abs")

    def exp_(self):
        return _in_place(self, "exp")

    def log_(self):
        return _in_place(self, "log")

    def sqrt_(self):
        return _in_place(self, "sqrt")

    def tanh_(self):
        return _in_place(self, "tanh")

    def sigmoid_(self):
        return _in_place(self, "sigmoid")

    def relu_(self):
        return _in_place(self, "relu")

    def clamp_(self, min=None, max=None):
        return _in_place(self, "clamp", min, max)

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        return _in_place(self, "masked_fill", mask, value)

    def fill_(self, value):
        return _assign_all(self, value, Fill)

    def zero_(self):
        return _assign_all(self, 0, Zero)

    def copy_(self, source):
        return change_in_place(self, (source,),
                               lambda: self._data.__setitem__(Ellipsis, unwrap(source)),
                               lambda old: CopyBackwards.apply(old, source))

    def uniform_(self, a=0.0, b=1.0):
        from .factories import generator
        return self.fill_(generator().uniform(a, b, self._data.shape))

    def normal_(self, mean=0.0, std=1.0):
        from .factories import generator
        return self.fill_(generator().normal(mean, std, self._data.shape))


for _name, _value in list(vars(InPlaceMethods).items()):
    if _name not in {"__dict__", "__module__", "__doc__", "__weakref__", "__qualname__"}:
        setattr(Tensor, _name, _value)
