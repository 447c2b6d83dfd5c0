"""Reductions of Tensor (``sum``, ``mean``, ``max(dim)``, ``norm``, ``var`` ...)."""
import collections
import operator

import numpy as np

from ..dispatch import NDARRAY_METHODS, record
from ..dtypes import numpy_dtype_of
from ..errors import EagerError
from ..tensor import Tensor
from .arguments import axes_of, numpy_aliases
from .promotion import cast


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


class ReductionMethods:
    """Copied onto Tensor by the package."""

    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
        if dim is None and axis is None and dtype is None and not (keepdim or keepdims):
            # The common x.sum(): no options to pass, NumPy's sum called as the array's method.
            return record(np.sum, (self,), None, "SumBackward0",
                          NDARRAY_METHODS[np.sum] if type(self._data) is np.ndarray else None)
        axis = axes_of(axis, dim)
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        compute = NDARRAY_METHODS[np.sum] if type(x._data) is np.ndarray else None
        return record(np.sum, (x,), {"axis": axis, "keepdims": keepdims or keepdim},
                      name="SumBackward0" if axis is None else "SumBackward1", compute=compute)

    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
        axis = axes_of(axis, dim)
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        if x._data.dtype.kind in "biu":
            raise EagerError(f"mean(): could not infer output dtype. Input dtype must be either "
                             f"a floating point or complex dtype. Got: {x.dtype}")
        compute = NDARRAY_METHODS[np.mean] if type(x._data) is np.ndarray else None
        return record(np.mean, (x,), {"axis": axis, "keepdims": keepdims or keepdim},
                      name="MeanBackward0" if axis is None else "MeanBackward1", compute=compute)

    def prod(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        return record(np.prod, (x,), {"axis": axes_of(axis, dim), "keepdims": keepdims or keepdim},
                      name="ProdBackward0" if dim is None and axis is None else "ProdBackward1")

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """No ``dim``: the largest element (ties share the gradient evenly). A ``dim``: the named
        tuple ``(values, indices)``, the gradient going to the picked element only. A Tensor:
        the elementwise maximum. As PyTorch's ``max``; NumPy's ``axis`` gives values only."""
        if axis is not None or keepdims:
            return record(np.max, (self,), {"axis": axes_of(axis, None), "keepdims": keepdims},
                          name="AmaxBackward0")
        if dim is None:
            return record(np.max, (self,), name="MaxBackward1")
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        return picked(self, dim, keepdim, np.argmax, "max")

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        if axis is not None or keepdims:
            return record(np.min, (self,), {"axis": axes_of(axis, None), "keepdims": keepdims},
                          name="AminBackward0")
        if dim is None:
            return record(np.min, (self,), name="MinBackward1")
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return picked(self, dim, keepdim, np.argmin, "min")

    @numpy_aliases
    def amax(self, dim=(), keepdim=False):
        axis = None if dim == () or dim == [] else axes_of(None, dim)
        return record(np.amax, (self,), {"axis": axis, "keepdims": keepdim}, name="AmaxBackward0")

    @numpy_aliases
    def amin(self, dim=(), keepdim=False):
        axis = None if dim == () or dim == [] else axes_of(None, dim)
        return record(np.amin, (self,), {"axis": axis, "keepdims": keepdim}, name="AminBackward0")

    @numpy_aliases
    def argmax(self, dim=None, keepdim=False):
        return Tensor._make(np.asarray(np.argmax(self._data, axis=dim, keepdims=keepdim)))

    @numpy_aliases
    def argmin(self, dim=None, keepdim=False):
        return Tensor._make(np.asarray(np.argmin(self._data, axis=dim, keepdims=keepdim)))

    @numpy_aliases
    def all(self, dim=None, keepdim=False):
        return Tensor._make(np.asarray(np.all(self._data, axis=dim, keepdims=keepdim)))

    @numpy_aliases
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

    @numpy_aliases
    def logsumexp(self, dim, keepdim=False):
        # The largest element, taken without history, keeps exp from overflowing; the gradient
        # is the softmax either way.
        top = self.detach().amax(dim, keepdim=True)
        top = top.masked_fill(~np.isfinite(top._data), 0.0)
        total = (self - top).exp().sum(dim, keepdim=True).log() + top
        return total if keepdim else total.squeeze(dim)

    @numpy_aliases
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        mean = self.mean(dim, keepdim=True)
        squares = ((self - mean) ** 2).sum(dim, keepdim=keepdim)
        count = self.numel() if dim is None else np.prod(
            [self.shape[d] for d in ((dim,) if isinstance(dim, int) else dim)])
        return squares / max(count - correction, 0)

    @numpy_aliases
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def cumsum(self, dim, *, dtype=None):
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        return record(np.cumsum, (x,), {"axis": self._axis(dim)}, name="CumsumBackward0")

    def cumprod(self, dim, *, dtype=None):
        x = self if dtype is None else cast(self, numpy_dtype_of(dtype))
        return record(np.cumprod, (x,), {"axis": self._axis(dim)}, name="CumprodBackward0")
