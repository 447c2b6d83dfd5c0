"""Functions that make new leaf Tensors, with PyTorch's signatures (``ones(2, 3)``, ``rand_like``).

Random tensors come from one NumPy generator that ``manual_seed`` resets; its numbers are
NumPy's, not PyTorch's, so a seed gives the same tensors on every run of srcgrad only.
"""
import numpy as np

from .dtypes import default_float, numpy_dtype_of
from .tensor import Tensor, as_array

_generator = [np.random.default_rng()]


def manual_seed(seed):
    """Seed the generator of ``rand``, ``randn``, ``randint``, ``randperm`` and ``*_like``."""
    _generator[0] = np.random.default_rng(seed)
    return _generator[0]


seed = manual_seed


def generator():
    return _generator[0]


def _size(size):
    """``ones(2, 3)``, ``ones((2, 3))`` and ``ones([2, 3])`` alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(int(n) for n in size)


def _leaf(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def _float_dtype(dtype):
    return numpy_dtype_of(dtype) or default_float()


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf Tensor holding a copy of ``data`` (a list, number, array or Tensor). Python
    floats become the default dtype (float32); NumPy arrays keep theirs."""
    if isinstance(data, Tensor):
        data = data._data
    dtype = numpy_dtype_of(dtype)
    if hasattr(data, "__array_function__") and hasattr(data, "shape"):
        array = data.astype(dtype) if dtype is not None else data.copy()  # CuPy keeps its device
    elif dtype is not None:
        array = np.array(_unwrapped(data), dtype=dtype)
    else:
        array = as_array(_unwrapped(data)).copy()
    result = _leaf(array, requires_grad)
    return result if device is None else result.to(device)


def _unwrapped(data):
    """Lists of 0-d Tensors (``tensor([a, b])``) as lists of numbers."""
    if isinstance(data, (list, tuple)):
        return [_unwrapped(item) for item in data]
    return data.item() if isinstance(data, Tensor) else data


def as_tensor(data, dtype=None, device=None):
    """``data`` as a Tensor, sharing an array's memory when no conversion is needed."""
    if isinstance(data, Tensor) and dtype is None:
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == numpy_dtype_of(dtype)):
        return Tensor(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A Tensor sharing the memory of a NumPy array, with its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor(array)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _leaf(np.zeros(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _leaf(np.ones(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    # Zeros rather than uninitialized memory: the same cost here, and no garbage values.
    return _leaf(np.zeros(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:  # as PyTorch: the fill value's kind decides (a bool, an int, a float)
        dtype = (np.bool_ if isinstance(fill_value, bool) else
                 np.int64 if isinstance(fill_value, int) else default_float())
    return _leaf(np.full(tuple(size), fill_value, dtype=numpy_dtype_of(dtype)), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """``arange(5)``, ``arange(1, 4)``, ``arange(0, 1, 0.25)``: integers when every bound is one
    (int64), else the default float dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        whole = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if whole else default_float()
    return _leaf(np.arange(start, end, step, dtype=numpy_dtype_of(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return _leaf(np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    return _leaf(np.logspace(start, end, steps, base=base, dtype=_float_dtype(dtype)),
                 requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    array = generator().random(_size(size)).astype(_float_dtype(dtype))
    return _leaf(array, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    array = generator().standard_normal(_size(size)).astype(_float_dtype(dtype))
    return _leaf(array, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    array = generator().integers(low, high, tuple(size)).astype(numpy_dtype_of(dtype) or np.int64)
    return _leaf(array, requires_grad)


def randperm(n, dtype=None, device=None, requires_grad=False):
    return _leaf(generator().permutation(n).astype(numpy_dtype_of(dtype) or np.int64),
                 requires_grad)


def _like(function, other, dtype, requires_grad, *args):
    dtype = numpy_dtype_of(dtype) or other._data.dtype
    return function(*args, *other.shape, dtype=dtype, requires_grad=requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return _like(zeros, input, dtype, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return _like(ones, input, dtype, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return _like(empty, input, dtype, requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False):
    return _like(rand, input, dtype, requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    return _like(randn, input, dtype, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    dtype = numpy_dtype_of(dtype) or input._data.dtype
    return full(input.shape, fill_value, dtype=dtype, requires_grad=requires_grad)
