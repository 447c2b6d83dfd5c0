"""Matrix products of Tensor (``@``, ``mm``, ``mv``, ``bmm``, ``dot``, ``outer``)."""
import operator

import numpy as np

from ..dispatch import record
from ..errors import EagerError
from ..tensor import Tensor


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


class ProductMethods:
    """Copied onto Tensor by the package."""

    def __matmul__(self, other):
        return record(operator.matmul, (self, other), name=_matmul_name(self, other))

    def __rmatmul__(self, other):
        return record(operator.matmul, (other, self), name=_matmul_name(other, self))

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
