"""PyTorch's module functions on Tensors (``srcgrad.exp(x)``, ``srcgrad.cat([a, b])`` ...).

Most call the Tensor method of the same name on their first argument, made a Tensor if it is
not one; those with several tensor arguments (cat, stack, where ...) record their primitive.
"""
import numpy as np

from ..runtime import einsum_of as einsum_primitive
from .dispatch import record
from .methods import promoted, where  # noqa: F401  (where is one of the module functions)
from .tensor import Tensor, as_array


def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(as_array(value))


def _method(name):
    def function(input, *args, **kwargs):
        return getattr(_tensor(input), name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(...)`` (the Tensor method), as PyTorch's {name}."
    return function


_NAMES = ("exp log log1p expm1 sin cos tan tanh sinh cosh atan sigmoid relu sqrt rsqrt square "
          "abs neg negative reciprocal sign floor ceil round trunc pow add sub mul div "
          "true_divide sum mean prod max min amax amin argmax argmin all any norm logsumexp var "
          "std clamp clip softmax log_softmax matmul mm mv bmm dot inner outer ger transpose "
          "permute reshape squeeze unsqueeze flatten unflatten t flip narrow split chunk unbind "
          "maximum minimum masked_fill clone numel detach lerp").split()
for _name in _NAMES:
    globals()[_name] = _method(_name)


def pow(input, exponent):  # noqa: A001  (PyTorch's name)
    """``input ** exponent``; a number raised to a Tensor as PyTorch records it (PowBackward2)."""
    if not isinstance(input, Tensor) and isinstance(exponent, Tensor):
        return exponent.__rpow__(input)
    return _tensor(input).pow(exponent)


def cat(tensors, dim=0):
    """The tensors joined along the axis ``dim``."""
    tensors = [_tensor(t) for t in tensors]
    first = tensors[0]
    tensors = [promoted(first, t)[1] for t in tensors]
    return record(np.concatenate, (tensors,), {"axis": dim}, name="CatBackward0")


concat = concatenate = cat


def stack(tensors, dim=0):
    """The tensors stacked along a new axis ``dim``."""
    tensors = [_tensor(t) for t in tensors]
    first = tensors[0]
    tensors = [promoted(first, t)[1] for t in tensors]
    return record(np.stack, (tensors,), {"axis": dim}, name="StackBackward0")


def einsum(equation, *operands):
    """Einstein summation, ``einsum("ij,jk->ik", a, b)`` (operands also as one list)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return record(einsum_primitive, (equation, [_tensor(o) for o in operands]),
                  name="EinsumBackward0")


def is_tensor(value):
    return isinstance(value, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.allclose(as_array(input), as_array(other), rtol, atol, equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(np.isclose(as_array(input), as_array(other), rtol, atol, equal_nan))


def equal(input, other):
    return bool(np.shape(as_array(input)) == np.shape(as_array(other))
                and np.all(as_array(input) == as_array(other)))
