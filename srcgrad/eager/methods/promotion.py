"""Casts and PyTorch's type promotion, shared by the method families."""
import numpy as np

from ...rules.shape import astype
from ..dispatch import record
from ..dtypes import default_float, result_dtype
from ..tensor import Tensor


def cast(tensor, dtype):
    """``tensor`` in the NumPy dtype ``dtype``; recorded (the gradient is cast back) when it
    requires grad."""
    if tensor._data.dtype == dtype:
        return tensor
    if tensor._requires_grad:
        return record(astype, (tensor, np.dtype(dtype)), name="ToCopyBackward0")
    return Tensor._make(tensor._data.astype(dtype))


def promoted(x, y):
    """``x`` (a Tensor) and ``y`` cast to PyTorch's result dtype where NumPy's would differ
    (a 0-d float64 tensor does not make a float32 one float64; an integer tensor and a Python
    float give the default float dtype)."""
    kind = x._data.dtype.kind
    kind_of_y = type(y)
    if kind_of_y is float or kind_of_y is int:
        if kind in "fc" or (kind_of_y is int and kind in "iu"):
            return x, y  # NumPy's weak Python numbers already do what PyTorch does
    elif kind_of_y is Tensor:
        if y._data.dtype == x._data.dtype:
            return x, y
    elif not (hasattr(y, "dtype") or isinstance(y, (bool, complex, float, int))):
        return x, y  # lists and the like: NumPy decides
    data_of_y = y._data if kind_of_y is Tensor else y
    wanted = result_dtype((x._data, data_of_y))
    if x._data.dtype != wanted:
        x = cast(x, wanted)
    if kind_of_y is Tensor:
        y = cast(y, wanted)
    elif hasattr(y, "dtype") and y.dtype != wanted:
        y = y.astype(wanted)
    return x, y


def as_float(tensor):
    """An integer or bool tensor in the default float dtype, as PyTorch's float functions take
    it (exp of an integer tensor is float32); others as they are."""
    return cast(tensor, default_float()) if tensor._data.dtype.kind in "biu" else tensor
