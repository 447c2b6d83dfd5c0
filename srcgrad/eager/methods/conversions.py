"""Dtypes, devices and new tensors of Tensor (``to``, ``double``, ``type_as``, ``new_zeros``)."""
import numpy as np

from ...rules.shape import astype
from ..device import device as device_type
from ..device import to_device
from ..dispatch import record, unwrap
from ..dtypes import numpy_dtype_of
from ..tensor import Tensor
from .arguments import shape_arguments
from .promotion import cast


class ConversionMethods:
    """Copied onto Tensor by the package."""

    def astype(self, dtype, copy=True):
        """The data cast to ``dtype``; the gradient is cast back to this tensor's dtype."""
        return record(astype, (self, numpy_dtype_of(dtype)), name="ToCopyBackward0")

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other)``: this tensor,
        itself when nothing changes."""
        dtype, place = kwargs.get("dtype"), kwargs.get("device")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype, place = arg._data.dtype, arg.device
            elif isinstance(arg, str) or isinstance(arg, device_type):
                place = arg
            elif arg is not None:
                dtype = arg
        result = self
        if place is not None:
            result = to_device(result, str(place))
        if dtype is not None:
            result = cast(result, numpy_dtype_of(dtype))
        return result

    def type(self, dtype=None):
        if dtype is None:
            return f"srcgrad.{self.dtype.name.capitalize()}Tensor"
        return self.to(dtype)

    def type_as(self, other):
        return cast(self, other._data.dtype)

    def double(self):
        return cast(self, np.float64)

    def float(self):
        return cast(self, np.float32)

    def half(self):
        return cast(self, np.float16)

    def long(self):
        return cast(self, np.int64)

    def int(self):
        return cast(self, np.int32)

    def bool(self):
        return cast(self, np.bool_)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        array = np.array(unwrap(data), dtype=numpy_dtype_of(dtype) or self._data.dtype)
        return Tensor(array, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        return self._new(np.zeros, size, dtype, requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        return self._new(np.ones, size, dtype, requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        return self._new(np.zeros, size, dtype, requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        array = np.full(tuple(size), fill_value, dtype=numpy_dtype_of(dtype) or self._data.dtype)
        return Tensor(array, requires_grad=requires_grad)

    def _new(self, make, size, dtype, requires_grad):
        array = make(shape_arguments(size), dtype=numpy_dtype_of(dtype) or self._data.dtype)
        return Tensor(array, requires_grad=requires_grad)
