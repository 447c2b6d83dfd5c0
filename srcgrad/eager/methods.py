"""The Tensor methods and operators PyTorch users write (``x.mm(w)``, ``x.sum(dim=0)``, ``+``...).

Each is recorded with the derivative rule of the NumPy primitive that computes it (the rules in
``srcgrad/rules/``), under PyTorch's name for its node. In-place methods are in ``inplace.py``.
"""
import collections
import operator

import numpy as np

from ..rules.activations import log_softmax, sigmoid, softmax
from ..rules.shape import astype, transpose_attribute
from .dispatch import NDARRAY_METHODS, record, unwrap
from .dtypes import default_float, numpy_dtype_of, result_dtype
from .errors import EagerError
from .tensor import Tensor


def _axes(axis, dim):
    """NumPy's ``axis`` or PyTorch's ``dim`` (a list becomes a tuple)."""
    axis = dim if axis is None else axis
    return tuple(axis) if isinstance(axis, list) else axis


def _shape_arguments(shape):
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


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


def _float(tensor):
    """An integer or bool tensor in the default float dtype, as PyTorch's float functions take
    it (exp of an integer tensor is float32); others as they are."""
    return cast(tensor, default_float()) if tensor._data.dtype.kind in "biu" else tensor


def _binary(primitive, name=None, reflected_name=None):
    """``t op other`` and ``other op t``, both recorded with ``primitive``'s rule."""
    def forward(self, other):
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype:
            self, other = promoted(self, other)
        return record(primitive, (self, other), name=name)

    def reflected(self, other):
        if type(other) is not Tensor or other._data.dtype is not self._data.dtype:
            self, other = promoted(self, other)
        return record(primitive, (other, self), name=reflected_name)
    return forward, reflected


def _true_divide(x, y):
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
    return record(operator.truediv, (x, y))


_MATMUL_NAMES = {(2, 2): "MmBackward0", (1, 1): "DotBackward0", (2, 1): "MvBackward0",
                 (3, 3): "BmmBackward0"}


def _matmul_name(a, b):
    """PyTorch's node of a matrix product, by the operands' numbers of axes."""
    return _MATMUL_NAMES.get((a._data.ndim if type(a) is Tensor else np.ndim(a),
                              b._data.ndim if type(b) is Tensor else np.ndim(b)))


def _check_dims(tensor, wanted, name):
    if tensor.ndim != wanted:
        kind = {1: "a vector", 2: "a matrix"}.get(wanted, f"a {wanted}D tensor")
        raise EagerError(f"{name} must be {kind}")


ReturnTypes = {name: collections.namedtuple(name, ["values", "indices"])
               for name in ("max", "min", "sort", "topk", "kthvalue", "mode", "median")}


def picked(tensor, dim, keepdim, chooser, kind):
    """``(values, indices)`` of the element ``chooser`` (np.argmax, np.argmin) picks along
    ``dim``; the values are read by an index, so the gradient goes to the picked element only."""
    if tensor.ndim == 0:
        return ReturnTypes[kind](tensor * 1, Tensor._make(np.asarray(0)))
    axis = tensor._axis(dim)
    indices = chooser(tensor._data, axis=axis, keepdims=keepdim)
    shape = tensor._data.shape
    ndim = len(shape)
    index = []
    for k, n in enumerate(shape):
        if k == axis:
            index.append(indices)
            continue
        position = k if keepdim or k < axis else k - 1
        out_ndim = ndim if keepdim else ndim - 1
        index.append(np.arange(n).reshape([n if j == position else 1 for j in range(out_ndim)]))
    name = "MaxBackward0" if kind == "max" else "MinBackward0"
    values = record(operator.getitem, (tensor, tuple(index)), name=name)
    return ReturnTypes[kind](values, Tensor._make(np.asarray(indices)))


class TensorMethods:
    """The methods below are copied onto Tensor (the class stays readable in one file)."""

    # --- arithmetic ----------------------------------------------------------------------------

    __add__, __radd__ = _binary(operator.add)
    __sub__, __rsub__ = _binary(operator.sub, None, "RsubBackward1")
    __mul__, __rmul__ = _binary(operator.mul)
    __pow__, __rpow__ = _binary(operator.pow)
    # Logical operators on masks (never differentiated: masks do not require grad).
    __and__, __rand__ = _binary(operator.and_)
    __or__, __ror__ = _binary(operator.or_)
    __xor__, __rxor__ = _binary(operator.xor)

    def __truediv__(self, other):
        return _true_divide(self, other)

    def __rtruediv__(self, other):
        return _true_divide(other, self)

    def __matmul__(self, other):
        return record(operator.matmul, (self, other), name=_matmul_name(self, other))

    def __rmatmul__(self, other):
        return record(operator.matmul, (other, self), name=_matmul_name(other, self))

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
        return 1 / _float(self)

    def rsqrt(self):
        return 1 / _float(self).sqrt()

    def square(self):
        return self ** 2

    def maximum(self, other):
        self, other = promoted(self, other)
        return record(np.maximum, (self, other))

    def minimum(self, other):
        self, other = promoted(self, other)
        return record(np.minimum, (self, other))

    def exp(self):
        return record(np.exp, (_float(self),))

    def log(self):
        return record(np.log, (_float(self),))

    def log1p(self):
        return record(np.log1p, (_float(self),))

    def expm1(self):
        return record(np.expm1, (_float(self),))

    def sqrt(self):
        return record(np.sqrt, (_float(self),))

    def sin(self):
        return record(np.sin, (_float(self),))

    def cos(self):
        return record(np.cos, (_float(self),))

    def tan(self):
        return record(np.tan, (_float(self),))

    def tanh(self):
        return record(np.tanh, (_float(self),))

    def sinh(self):
        return record(np.sinh, (_float(self),))

    def cosh(self):
        return record(np.cosh, (_float(self),))

    def atan(self):
        return record(np.arctan, (_float(self),))

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

    def round(self):
        return record(np.round, (self,))

    def trunc(self):
        return record(np.trunc, (self,))

    def sigmoid(self):
        return record(sigmoid, (_float(self),))

    def relu(self):
        # np.where's rule passes the gradient where x > 0 and none at 0, as PyTorch's relu does.
        return record(np.where, (self._data > 0, self, 0.0), name="ReluBackward0")

    def softmax(self, dim, dtype=None):
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        return record(softmax, (_float(x), self._axis(dim)))

    def log_softmax(self, dim, dtype=None):
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        return record(log_softmax, (_float(x), self._axis(dim)))

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

    # --- matrix products -----------------------------------------------------------------------

    def matmul(self, other):
        return self @ other

    def mm(self, mat2):
        _check_dims(self, 2, "self")
        _check_dims(mat2, 2, "mat2")
        if self.shape[1] != mat2.shape[0]:
            raise EagerError(f"mat1 and mat2 shapes cannot be multiplied ({self.shape[0]}x"
                             f"{self.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
        return record(operator.matmul, (self, mat2), name="MmBackward0")

    def mv(self, vec):
        if self.ndim != 2 or vec.ndim != 1:
            raise EagerError(f"vector + matrix @ vector expected, got 1, {self.ndim}, "
                             f"{vec.ndim}")
        if self.shape[1] != vec.shape[0]:
            raise EagerError(f"size mismatch, got input ({self.shape[0]}), mat ({self.shape[0]}x"
                             f"{self.shape[1]}), vec ({vec.shape[0]})")
        return record(operator.matmul, (self, vec), name="MvBackward0")

    def bmm(self, mat2):
        _check_dims(self, 3, "batch1")
        _check_dims(mat2, 3, "batch2")
        if self.shape[0] != mat2.shape[0] or self.shape[2] != mat2.shape[1]:
            raise EagerError(f"Expected size for first two dimensions of batch2 tensor to be: "
                             f"[{self.shape[0]}, {self.shape[2]}] but got: "
                             f"[{mat2.shape[0]}, {mat2.shape[1]}].")
        return record(operator.matmul, (self, mat2), name="BmmBackward0")

    def dot(self, other):
        """The inner product of two 1-D tensors (as PyTorch's dot); matmul's rule serves it."""
        if self.ndim != 1 or getattr(other, "ndim", 0) != 1:
            raise EagerError(f"1D tensors expected, but got {self.ndim}D and "
                             f"{getattr(other, 'ndim', 0)}D tensors")
        if self.shape[0] != other.shape[0]:
            raise EagerError(f"inconsistent tensor size, expected tensor [{self.shape[0]}] and "
                             f"src [{other.shape[0]}] to have the same number of elements, but "
                             f"got {self.shape[0]} and {other.shape[0]} elements respectively")
        return record(operator.matmul, (self, other), name="DotBackward0")

    inner = dot

    def outer(self, vec2):
        return record(np.outer, (self, vec2))

    ger = outer

    # --- reductions ----------------------------------------------------------------------------

    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
        axis = _axes(axis, dim)
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        compute = NDARRAY_METHODS[np.sum] if type(x._data) is np.ndarray else None
        if axis is None and not (keepdims or keepdim):  # the common x.sum(): no options to pass
            return record(np.sum, (x,), name="SumBackward0", compute=compute)
        return record(np.sum, (x,), {"axis": axis, "keepdims": keepdims or keepdim},
                      name="SumBackward0" if axis is None else "SumBackward1", compute=compute)

    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
        axis = _axes(axis, dim)
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        if x._data.dtype.kind in "biu":
            raise EagerError(f"mean(): could not infer output dtype. Input dtype must be either "
                             f"a floating point or complex dtype. Got: {x.dtype}")
        compute = NDARRAY_METHODS[np.mean] if type(x._data) is np.ndarray else None
        return record(np.mean, (x,), {"axis": axis, "keepdims": keepdims or keepdim},
                      name="MeanBackward0" if axis is None else "MeanBackward1", compute=compute)

    def prod(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        return record(np.prod, (x,), {"axis": _axes(axis, dim), "keepdims": keepdims or keepdim},
                      name="ProdBackward0" if dim is None and axis is None else "ProdBackward1")

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """No ``dim``: the largest element (ties share the gradient evenly). A ``dim``: the named
        tuple ``(values, indices)``, the gradient going to the picked element only. A Tensor:
        the elementwise maximum. As PyTorch's ``max``; NumPy's ``axis`` gives values only."""
        if axis is not None or keepdims:
            return record(np.max, (self,), {"axis": _axes(axis, None), "keepdims": keepdims},
                          name="AmaxBackward0")
        if dim is None:
            return record(np.max, (self,), name="MaxBackward1")
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        return picked(self, dim, keepdim, np.argmax, "max")

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        if axis is not None or keepdims:
            return record(np.min, (self,), {"axis": _axes(axis, None), "keepdims": keepdims},
                          name="AminBackward0")
        if dim is None:
            return record(np.min, (self,), name="MinBackward1")
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return picked(self, dim, keepdim, np.argmin, "min")

    def amax(self, dim=(), keepdim=False):
        axis = None if dim == () or dim == [] else _axes(None, dim)
        return record(np.amax, (self,), {"axis": axis, "keepdims": keepdim}, name="AmaxBackward0")

    def amin(self, dim=(), keepdim=False):
        axis = None if dim == () or dim == [] else _axes(None, dim)
        return record(np.amin, (self,), {"axis": axis, "keepdims": keepdim}, name="AminBackward0")

    def argmax(self, dim=None, keepdim=False):
        return Tensor._make(np.asarray(np.argmax(self._data, axis=dim, keepdims=keepdim)))

    def argmin(self, dim=None, keepdim=False):
        return Tensor._make(np.asarray(np.argmin(self._data, axis=dim, keepdims=keepdim)))

    def all(self, dim=None, keepdim=False):
        return Tensor._make(np.asarray(np.all(self._data, axis=dim, keepdims=keepdim)))

    def any(self, dim=None, keepdim=False):
        return Tensor._make(np.asarray(np.any(self._data, axis=dim, keepdims=keepdim)))

    def norm(self, p="fro", dim=None, keepdim=False):
        """The 2-norm of all elements by default, or the p-norm along ``dim``."""
        if isinstance(dim, int):
            dim = (dim,)
        if p == "fro" or p is None:
            p = 2
        if dim is None:  # every element, as one vector
            x = record(np.reshape, (self, (-1,)), name="ViewBackward0")
            result = record(np.linalg.norm, (x,), {"ord": p}, name="LinalgVectorNormBackward0")
            return result.reshape((1,) * self.ndim) if keepdim else result
        if len(dim) == 1:
            return record(np.linalg.norm, (self,), {"ord": p, "axis": dim[0],
                                                    "keepdims": keepdim},
                          name="LinalgVectorNormBackward0")
        return (self.abs() ** p).sum(dim=dim, keepdim=keepdim) ** (1.0 / p)

    def logsumexp(self, dim, keepdim=False):
        # The largest element, taken without history, keeps exp from overflowing; the gradient
        # is the softmax either way.
        top = self.detach().amax(dim, keepdim=True)
        top = top.masked_fill(~np.isfinite(top._data), 0.0)
        total = (self - top).exp().sum(dim, keepdim=True).log() + top
        return total if keepdim else total.squeeze(dim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        mean = self.mean(dim, keepdim=True)
        squares = ((self - mean) ** 2).sum(dim, keepdim=keepdim)
        count = self.numel() if dim is None else np.prod(
            [self.shape[d] for d in ((dim,) if isinstance(dim, int) else dim)])
        return squares / max(count - correction, 0)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    # --- shapes --------------------------------------------------------------------------------

    def reshape(self, *shape):
        return record(np.reshape, (self, _shape_arguments(shape)), name="ViewBackward0")

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
            return self.to(shape[0])  # view(dtype): a reinterpretation PyTorch allows
        return record(np.reshape, (self, _shape_arguments(shape)), name="ViewBackward0")

    def view_as(self, other):
        return self.view(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        start, end = self._axis(start_dim), self._axis(end_dim)
        shape = self.shape[:start] + (-1,) + self.shape[end + 1:]
        return record(np.reshape, (self, shape), name="ViewBackward0")

    def unflatten(self, dim, sizes):
        axis = self._axis(dim)
        return self.reshape(self.shape[:axis] + tuple(sizes) + self.shape[axis + 1:])

    def transpose(self, *axes):
        """Two axes: swap them, as PyTorch's ``transpose(0, 1)`` does (so NumPy's reading of two
        ints as a full permutation is not used); none: reverse all axes; three or more: permute."""
        axes = _shape_arguments(axes)
        if len(axes) == 2:
            return record(np.swapaxes, (self, *axes))
        return record(np.transpose, (self, axes or None))

    swapaxes = transpose

    def permute(self, *dims):
        return record(np.transpose, (self, _shape_arguments(dims)))

    @property
    def T(self):
        return record(transpose_attribute, (self,))

    @property
    def mT(self):
        return record(np.swapaxes, (self, -2, -1))

    def t(self):
        if self.ndim > 2:
            raise EagerError(f"t() expects a tensor with <= 2 dimensions, but self is "
                             f"{self.ndim}D")
        return record(transpose_attribute, (self,), name="TBackward0")

    def unsqueeze(self, dim):
        return record(np.expand_dims, (self, dim))

    def squeeze(self, dim=None):
        """Axes of length 1 removed: all of them, or ``dim`` (a no-op when its length is not 1,
        as in PyTorch)."""
        if dim is None:
            return record(np.squeeze, (self,), name="SqueezeBackward0")
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = tuple(self._axis(d) for d in dims if self.ndim and self.shape[self._axis(d)] == 1)
        return record(np.squeeze, (self,), {"axis": axes},
                      name="SqueezeBackward1" if not isinstance(dim, (tuple, list))
                      else "SqueezeBackward2")

    def expand(self, *sizes):
        """This tensor broadcast to ``sizes``; -1 keeps an axis's current length."""
        sizes = _shape_arguments(sizes)
        offset = len(sizes) - self.ndim
        if offset < 0:
            raise EagerError(f"expand: the number of sizes provided ({len(sizes)}) must be "
                             f"greater or equal to the number of dimensions in the tensor "
                             f"({self.ndim})")
        shape = tuple(self.shape[i - offset] if n == -1 else n for i, n in enumerate(sizes))
        return record(np.broadcast_to, (self, shape), name="ExpandBackward0")

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *sizes):
        """The tensor tiled ``sizes`` times along each axis (broadcast, then reshaped: the rules
        of both give the gradient, summed over the copies)."""
        sizes = _shape_arguments(sizes)
        shape = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
        interleaved, stretched, final = [], [], []
        for count, n in zip(sizes, shape):
            interleaved += [1, n]
            stretched += [count, n]
            final.append(count * n)
        x = self.reshape(interleaved)
        x = record(np.broadcast_to, (x, tuple(stretched)), name="ExpandBackward0")
        return record(np.reshape, (x, tuple(final)), name="RepeatBackward0")

    def flip(self, *dims):
        return record(np.flip, (self, _shape_arguments(dims)))

    def narrow(self, dim, start, length):
        axis = self._axis(dim)
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    def split(self, split_size, dim=0):
        axis = self._axis(dim)
        n = self.shape[axis]
        sizes = ([split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
                 if isinstance(split_size, int) else list(split_size))
        starts = np.cumsum([0] + sizes[:-1])
        return tuple(self.narrow(axis, int(s), size) for s, size in zip(starts, sizes))

    def chunk(self, chunks, dim=0):
        n = self.shape[self._axis(dim)]
        return self.split(-(-n // chunks), dim)

    def unbind(self, dim=0):
        axis = self._axis(dim)
        return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))

    def contiguous(self):
        return self

    def clone(self):
        """A copy of the data that stays in the graph (gradients flow through it unchanged)."""
        return record(np.copy, (self,), name="CloneBackward0")

    # --- dtypes and devices --------------------------------------------------------------------

    def astype(self, dtype, copy=True):
        """The data cast to ``dtype``; the gradient is cast back to this tensor's dtype."""
        return record(astype, (self, numpy_dtype_of(dtype)), name="ToCopyBackward0")

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other)``: this tensor,
        itself when nothing changes."""
        from .device import device as device_type
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
        array = make(_shape_arguments(size), dtype=numpy_dtype_of(dtype) or self._data.dtype)
        return Tensor(array, requires_grad=requires_grad)


def where(condition, x, y):
    """``x`` where ``condition``, else ``y`` (PyTorch's result dtype)."""
    if isinstance(x, Tensor):
        x, y = promoted(x, y)
    elif isinstance(y, Tensor):
        y, x = promoted(y, x)
    return record(np.where, (unwrap(condition), x, y), name="WhereBackward0")


_NOT_COPIED = {"__dict__", "__module__", "__doc__", "__weakref__", "__qualname__"}
for _name, _value in list(vars(TensorMethods).items()):
    if _name not in _NOT_COPIED:
        setattr(Tensor, _name, _value)
Tensor.__hash__ = object.__hash__  # defining __eq__ above does not make Tensors unhashable

from .device import to_device  # noqa: E402
from . import inplace_methods  # noqa: E402,F401  (add_, mul_, zero_ ... on Tensor)

