"""Operators, comparisons and elementwise functions of Tensor (``+``, ``<``, ``exp``, ``relu``)."""
import operator

import numpy as np

from ...rules.activations import log_softmax, sigmoid, softmax
from ..dispatch import record, unwrap
from ..dtypes import default_float, numpy_dtype_of
from ..errors import EagerError
from ..tensor import Tensor
from .arguments import numpy_aliases
from .promotion import as_float, cast, promoted


def _binary(primitive, name=None, reflected_name=None, tensor_name=None):
    """``t op other`` and ``other op t``, both recorded with ``primitive``'s rule (``tensor_name``:
    the node's name when ``other`` is a Tensor, if it differs)."""
    tensor_name = tensor_name or name

    def forward(self, other):
        node_name = tensor_name if type(other) is Tensor else name
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype:
            self, other = promoted(self, other)
        return record(primitive, (self, other), name=node_name)

    def reflected(self, other):
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype:
            self, other = promoted(self, other)
        return record(primitive, (other, self), name=reflected_name)
    return forward, reflected


def _true_divide(x, y, name=None):
    """``x / y``: integers divide to the default float dtype, as in PyTorch."""
    if not isinstance(x, Tensor):
        y, x = promoted(y, x)
    else:
        x, y = promoted(x, y)
    data_y = y._data if isinstance(y, Tensor) else np.asarray(y)
    data_x = x._data if isinstance(x, Tensor) else np.asarray(x)
    if data_x.dtype.kind in "biu" and data_y.dtype.kind in "biu":
        wanted = default_float()
        x = cast(x, wanted) if isinstance(x, Tensor) else np.asarray(x, wanted)
        y = cast(y, wanted) if isinstance(y, Tensor) else np.asarray(y, wanted)
    return record(operator.truediv, (x, y), name=name)


class ArithmeticMethods:
    """Copied onto Tensor by the package."""

    __add__, __radd__ = _binary(operator.add)
    __sub__, __rsub__ = _binary(operator.sub, None, "RsubBackward1")
    __mul__, __rmul__ = _binary(operator.mul)
    # PyTorch's pow nodes: PowBackward0 for a number exponent, 1 for a Tensor's, 2 for a number
    # raised to a Tensor.
    __pow__, __rpow__ = _binary(operator.pow, None, "PowBackward2", "PowBackward1")
    # Logical operators on masks (never differentiated: masks do not require grad).
    __and__, __rand__ = _binary(operator.and_)
    __or__, __ror__ = _binary(operator.or_)
    __xor__, __rxor__ = _binary(operator.xor)

    def __truediv__(self, other):
        return _true_divide(self, other)

    def __rtruediv__(self, other):
        # PyTorch computes number / t as t.reciprocal() * number: its node is MulBackward0.
        return _true_divide(other, self, "MulBackward0")

    def __floordiv__(self, other):
        # Piecewise constant: no gradient flows, so the operands are taken without history.
        x, y = promoted(self.detach(), other)
        return Tensor._make(np.asarray(np.floor_divide(x._data, unwrap(y))))

    def __rfloordiv__(self, other):
        x, y = promoted(self.detach(), other)
        return Tensor._make(np.asarray(np.floor_divide(unwrap(y), x._data)))

    def __mod__(self, other):
        # x - y * floor(x / y): the rules of arithmetic give PyTorch's gradient (1 for x,
        # -floor(x / y) for y); floor contributes none.
        return self - other * (self / other).detach().floor()

    def __rmod__(self, other):
        return other - self * (other / self).detach().floor()

    def __invert__(self):
        return record(operator.invert, (self,))

    def __neg__(self):
        return record(operator.neg, (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return record(np.abs, (self,))

    def __lt__(self, other):
        return record(np.less, (self, other))

    def __le__(self, other):
        return record(np.less_equal, (self, other))

    def __gt__(self, other):
        return record(np.greater, (self, other))

    def __ge__(self, other):
        return record(np.greater_equal, (self, other))

    def __eq__(self, other):
        return record(np.equal, (self, other))

    def __ne__(self, other):
        return record(np.not_equal, (self, other))

    eq = __eq__
    ne = __ne__
    lt = __lt__
    le = __le__
    gt = __gt__
    ge = __ge__

    def equal(self, other):
        return bool(self.shape == other.shape and np.all(self._data == unwrap(other)))

    def isnan(self):
        return record(np.isnan, (self,))

    def add(self, other, *, alpha=1):
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        return self - (other if alpha == 1 else other * alpha)

    subtract = sub

    def mul(self, other):
        return self * other

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":
            return (self / other).detach().trunc()
        return self / other

    divide = true_divide = div

    def pow(self, exponent):
        return self ** exponent

    def neg(self):
        return record(operator.neg, (self,))

    negative = neg

    def reciprocal(self):
        return 1 / as_float(self)

    def rsqrt(self):
        return 1 / as_float(self).sqrt()

    def square(self):
        return self ** 2

    def maximum(self, other):
        self, other = promoted(self, other)
        return record(np.maximum, (self, other))

    def minimum(self, other):
        self, other = promoted(self, other)
        return record(np.minimum, (self, other))

    def exp(self):
        return record(np.exp, (as_float(self),))

    def log(self):
        return record(np.log, (as_float(self),))

    def log1p(self):
        return record(np.log1p, (as_float(self),))

    def expm1(self):
        return record(np.expm1, (as_float(self),))

    def sqrt(self):
        return record(np.sqrt, (as_float(self),))

    def sin(self):
        return record(np.sin, (as_float(self),))

    def cos(self):
        return record(np.cos, (as_float(self),))

    def tan(self):
        return record(np.tan, (as_float(self),))

    def tanh(self):
        return record(np.tanh, (as_float(self),))

    def sinh(self):
        return record(np.sinh, (as_float(self),))

    def cosh(self):
        return record(np.cosh, (as_float(self),))

    def atan(self):
        return record(np.arctan, (as_float(self),))

    arctan = atan

    def abs(self):
        return record(np.abs, (self,))

    absolute = abs

    def sign(self):
        return record(np.sign, (self,))

    def floor(self):
        return record(np.floor, (self,))

    def ceil(self):
        return record(np.ceil, (self,))

    def round(self, decimals=0):
        return record(np.round, (self,), {"decimals": decimals} if decimals else None)

    def trunc(self):
        return record(np.trunc, (self,))

    def sigmoid(self):
        return record(sigmoid, (as_float(self),))

    def relu(self):
        # np.where's rule passes the gradient where x > 0 and none at 0, as PyTorch's relu does.
        return record(np.where, (self._data > 0, self, 0.0), name="ReluBackward0")

    @numpy_aliases
    def softmax(self, dim, dtype=None):
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        return record(softmax, (as_float(x), self._axis(dim)))

    @numpy_aliases
    def log_softmax(self, dim, dtype=None):
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        return record(log_softmax, (as_float(x), self._axis(dim)))

    def clamp(self, min=None, max=None):
        """Values limited to [min, max]; the gradient passes where min <= x <= max."""
        if min is None and max is None:
            raise EagerError("torch.clamp: At least one of 'min' or 'max' must not be None")
        # np.clip's rule compares with both bounds, so a missing bound is an infinite one.
        low = -np.inf if min is None else min
        high = np.inf if max is None else max
        name = "ClampBackward1" if not isinstance(low, Tensor) and not isinstance(high, Tensor) \
            else "ClampBackward0"
        return record(np.clip, (self, low, high), name=name)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def where(self, condition, other):
        return where(condition, self, other)

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` is true; the gradient passes elsewhere (and to a Tensor
        value, summed over where it was used)."""
        mask = unwrap(mask)
        if not isinstance(value, Tensor):
            value = np.asarray(value, dtype=self._data.dtype)
        return record(np.where, (mask, value, self), name="MaskedFillBackward0")

    def lerp(self, end, weight):
        return self + weight * (end - self)


def where(condition, x, y):
    """``x`` where ``condition``, else ``y`` (PyTorch's result dtype)."""
    if isinstance(x, Tensor):
        x, y = promoted(x, y)
    elif isinstance(y, Tensor):
        y, x = promoted(y, x)
    return record(np.where, (unwrap(condition), x, y), name="WhereBackward0")
