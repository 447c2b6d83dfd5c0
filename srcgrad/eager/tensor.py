"""The eager Tensor: an array plus what autograd needs (requires_grad, grad, grad_fn, version)."""
import itertools
import operator
import weakref

import numpy as np

from ..rules.shape import astype, transpose_attribute
from .errors import EagerError


class VersionCounter:
    """Counts in-place changes of a Tensor's data; views and detached copies share one."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def as_array(data):
    """``data`` as an array: arrays of any library that dispatches (NumPy, CuPy, ...) as they are,
    Python numbers, lists and NumPy scalars through np.asarray."""
    if isinstance(data, Tensor):
        return data.data
    if hasattr(data, "__array_function__") and hasattr(data, "shape"):
        return data
    return np.asarray(data)


def _axes(axis, dim):
    """NumPy's ``axis`` or PyTorch's ``dim`` (a list becomes a tuple)."""
    axis = dim if axis is None else axis
    return tuple(axis) if isinstance(axis, list) else axis


def _shape_arguments(shape):
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


class Tensor:
    """An array that records the operations applied to it, for ``backward()``.

    ``data`` is the array itself (shared, not tracked); ``grad`` receives gradients; ``grad_fn`` is
    the node that made this tensor, None for a leaf. Tensors made by the user are leaves.
    """

    __slots__ = ("data", "grad", "grad_fn", "_requires_grad", "_output_nr", "_version", "_base",
                 "_hooks", "_accumulator", "_retains_grad", "__weakref__")
    __hash__ = object.__hash__  # == is elementwise, so hashing is by identity

    def __init__(self, data, requires_grad=False):
        self._init(as_array(data), None, False, 0, VersionCounter())
        if requires_grad:
            self.requires_grad_(True)

    def _init(self, data, grad_fn, requires_grad, output_nr, version):
        self.data = data
        self.grad = None
        self.grad_fn = grad_fn
        self._requires_grad = requires_grad
        self._output_nr = output_nr
        self._version = version
        self._base = None  # the tensor whose memory this one views, if any
        self._hooks = None
        self._accumulator = None
        self._retains_grad = False

    @classmethod
    def _make(cls, data, grad_fn=None, requires_grad=False, output_nr=0, version=None):
        """A Tensor around an array that is already an array (no checks: the fast path)."""
        tensor = object.__new__(cls)
        tensor._init(data, grad_fn, requires_grad, output_nr,
                     VersionCounter() if version is None else version)
        return tensor

    # --- autograd state ----------------------------------------------------------------------

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        """Make this leaf record (or stop recording) the operations applied to it."""
        if self.grad_fn is not None:
            if not requires_grad:
                raise EagerError(
                    "you can only change requires_grad flags of leaf variables. If you want to use "
                    "a computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach().")
            return self
        if requires_grad and not np.issubdtype(self.data.dtype, np.inexact):
            raise EagerError(
                f"Only Tensors of floating point and complex dtype can require gradients, but "
                f"this one has dtype {self.data.dtype}; make it with a float dtype, e.g. "
                f"srcgrad.tensor([1, 2], dtype=float)")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep the gradient of this non-leaf in ``.grad`` after backward (leaves always do)."""
        if not self._requires_grad:
            raise EagerError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self.grad_fn._retained = self.grad_fn._retained or {}
            self.grad_fn._retained[self._output_nr] = weakref.ref(self)
            self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor replaces
        the gradient. Returns a handle whose ``remove()`` unregisters the hook."""
        if not self._requires_grad:
            raise EagerError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            self._hooks = self._hooks if self._hooks is not None else {}
            return RemovableHandle(self._hooks, hook)
        node = self.grad_fn
        node._pre_hooks = node._pre_hooks if node._pre_hooks is not None else {}
        return RemovableHandle(node._pre_hooks.setdefault(self._output_nr, {}), hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves it depends on.

        A non-scalar tensor needs ``gradient`` (the weights w of ``sum(w * self)``).
        """
        run_backward((self,), None if gradient is None else (gradient,), retain_graph,
                     create_graph)

    def detach(self):
        """The same data (and version counter) without history."""
        detached = Tensor._make(self.data, version=self._version)
        detached._base = self._base
        return detached

    # --- array attributes ----------------------------------------------------------------------

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size, doc="The number of elements, as in NumPy.")

    def numel(self):
        return self.data.size

    def dim(self):
        return self.data.ndim

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    @property
    def device(self):
        return device_of(self.data)

    def cuda(self):
        """This tensor on the GPU, as a CuPy array (recorded: gradients come back to the CPU)."""
        return to_device(self, "cuda")

    def cpu(self):
        """This tensor in host memory, as a NumPy array (itself when it is there already)."""
        return to_device(self, "cpu")

    # --- conversions -------------------------------------------------------------------------

    def item(self):
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def numpy(self):
        """The data as a NumPy array (shared), for a tensor that does not require grad."""
        if self._requires_grad:
            raise EagerError("Can't call numpy() on Tensor that requires grad. "
                             "Use tensor.detach().numpy() instead.")
        if not isinstance(self.data, np.ndarray):
            raise TypeError(f"can't convert a {self.device} tensor to numpy. "
                            f"Use Tensor.cpu() to copy the tensor to host memory first.")
        return self.data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __bool__(self):
        return bool(self.data)

    def __index__(self):
        return operator.index(self.data)

    def __repr__(self):
        if isinstance(self.data, np.ndarray):
            body = np.array2string(self.data, separator=", ", prefix="tensor(")
        else:
            body = repr(self.data)
        extras = ""
        if self.grad_fn is not None:
            extras = f", grad_fn=<{self.grad_fn.name()}>"
        elif self._requires_grad:
            extras = ", requires_grad=True"
        return f"tensor({body}{extras})"

    # --- NumPy dispatch: np.exp(t), np.sum(t, axis=0), ndarray + t ... are recorded -------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return numpy_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return record(func, args, kwargs)

    # --- indexing ------------------------------------------------------------------------------

    def __getitem__(self, index):
        return record(operator.getitem, (self, unwrap(index)))

    def __setitem__(self, index, value):
        assign_index(self, unwrap(index), value)

    # --- arithmetic (operators broadcast as NumPy's do) ----------------------------------------

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

    # --- methods -------------------------------------------------------------------------------

    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        return record(np.sum, (self,), {"axis": _axes(axis, dim), "keepdims": keepdims or keepdim})

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        return record(np.mean, (self,), {"axis": _axes(axis, dim), "keepdims": keepdims or keepdim})

    def prod(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        return record(np.prod, (self,), {"axis": _axes(axis, dim), "keepdims": keepdims or keepdim})

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        """The largest element(s), NumPy style: values only, ties share the gradient evenly."""
        return record(np.max, (self,), {"axis": _axes(axis, dim), "keepdims": keepdims or keepdim})

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        return record(np.min, (self,), {"axis": _axes(axis, dim), "keepdims": keepdims or keepdim})

    def exp(self):
        return record(np.exp, (self,))

    def log(self):
        return record(np.log, (self,))

    def sqrt(self):
        return record(np.sqrt, (self,))

    def sin(self):
        return record(np.sin, (self,))

    def cos(self):
        return record(np.cos, (self,))

    def tanh(self):
        return record(np.tanh, (self,))

    def abs(self):
        return record(np.abs, (self,))

    def neg(self):
        return record(operator.neg, (self,))

    def sigmoid(self):
        # (1 + tanh(x/2)) / 2 is the logistic function without exp's overflow at large |x|, and
        # needs no rule of its own: its gradient comes from the rules of tanh and arithmetic.
        return 0.5 * record(np.tanh, (0.5 * self,)) + 0.5

    def relu(self):
        # np.where's rule passes the gradient where x > 0 and none at 0, as PyTorch's relu does.
        return record(np.where, (self > 0, self, 0.0), name="ReluBackward0")

    def pow(self, exponent):
        return record(operator.pow, (self, exponent))

    def matmul(self, other):
        return record(operator.matmul, (self, other))

    def dot(self, other):
        """The inner product of two 1-D tensors (as PyTorch's dot); matmul's rule serves it."""
        if self.ndim != 1 or getattr(other, "ndim", 0) != 1:
            raise EagerError(f"1D tensors expected, but got {self.ndim}D and "
                             f"{getattr(other, 'ndim', 0)}D tensors; use matmul for others")
        return record(operator.matmul, (self, other))

    def clamp(self, min=None, max=None):
        """Values limited to [min, max]; the gradient passes where min <= x <= max."""
        # np.clip's rule compares with both bounds, so a missing bound is an infinite one.
        low = -np.inf if min is None else min
        high = np.inf if max is None else max
        return record(np.clip, (self, low, high))

    clip = clamp

    def reshape(self, *shape):
        return record(np.reshape, (self, _shape_arguments(shape)))

    def view(self, *shape):
        return record(np.reshape, (self, _shape_arguments(shape)), name="ViewBackward0")

    def flatten(self):
        return record(np.reshape, (self, (-1,)))

    def transpose(self, *axes):
        """Two axes: swap them, as PyTorch's ``transpose(0, 1)`` does (so NumPy's reading of two
        ints as a full permutation is not used); none: reverse all axes; three or more: permute."""
        axes = _shape_arguments(axes)
        if len(axes) == 2:
            return record(np.swapaxes, (self, *axes))
        return record(np.transpose, (self, axes or None))

    def permute(self, *dims):
        return record(np.transpose, (self, _shape_arguments(dims)))

    @property
    def T(self):
        return record(transpose_attribute, (self,))

    def t(self):
        if self.ndim > 2:
            raise EagerError(f"t() expects a tensor with <= 2 dimensions, but self is "
                             f"{self.ndim}D; use transpose or permute")
        return self.T

    def unsqueeze(self, dim):
        return record(np.expand_dims, (self, dim))

    def squeeze(self, dim=None):
        return record(np.squeeze, (self,), {"axis": dim})

    def expand(self, *sizes):
        """This tensor broadcast to ``sizes``; -1 keeps an axis's current length."""
        sizes = _shape_arguments(sizes)
        offset = len(sizes) - self.ndim
        shape = tuple(self.shape[i - offset] if n == -1 else n for i, n in enumerate(sizes))
        return record(np.broadcast_to, (self, shape), name="ExpandBackward0")

    def expand_as(self, other):
        return record(np.broadcast_to, (self, other.shape))

    def clone(self):
        """A copy of the data that stays in the graph (gradients flow through it unchanged)."""
        return record(np.copy, (self,), name="CloneBackward0")

    def astype(self, dtype):
        """The data cast to ``dtype``; the gradient is cast back to this tensor's dtype."""
        return record(astype, (self, np.dtype(dtype)), name="ToCopyBackward0")

    def double(self):
        return self.astype(np.float64)

    def float(self):
        return self.astype(np.float32)

    # --- in-place operations: they bump the version counter ------------------------------------

    def add_(self, other):
        return change_by_ufunc(self, np.add, other)

    def sub_(self, other):
        return change_by_ufunc(self, np.subtract, other)

    def mul_(self, other):
        return change_by_ufunc(self, np.multiply, other)

    def div_(self, other):
        return change_by_ufunc(self, np.true_divide, other)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def fill_(self, value):
        assign_index(self, Ellipsis, value)
        return self

    def zero_(self):
        return self.fill_(0)

    def copy_(self, source):
        assign_index(self, Ellipsis, source)
        return self


def _binary_operator(primitive):
    """``t op other`` and ``other op t``, both recorded with ``primitive``'s rule."""
    def forward(self, other):
        return record(primitive, (self, other))

    def reflected(self, other):
        return record(primitive, (other, self))
    return forward, reflected


Tensor.__add__, Tensor.__radd__ = _binary_operator(operator.add)
Tensor.__sub__, Tensor.__rsub__ = _binary_operator(operator.sub)
Tensor.__mul__, Tensor.__rmul__ = _binary_operator(operator.mul)
Tensor.__truediv__, Tensor.__rtruediv__ = _binary_operator(operator.truediv)
Tensor.__pow__, Tensor.__rpow__ = _binary_operator(operator.pow)
Tensor.__matmul__, Tensor.__rmatmul__ = _binary_operator(operator.matmul)
Tensor.__mod__, Tensor.__rmod__ = _binary_operator(operator.mod)
# Logical operators on masks (never differentiated: masks do not require grad).
Tensor.__and__, Tensor.__rand__ = _binary_operator(operator.and_)
Tensor.__or__, Tensor.__ror__ = _binary_operator(operator.or_)
Tensor.__xor__, Tensor.__rxor__ = _binary_operator(operator.xor)
Tensor.__invert__ = lambda self: record(operator.invert, (self,))


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    _ids = itertools.count(1)

    def __init__(self, hooks, hook):
        self.id = next(RemovableHandle._ids)
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def tensor(data, requires_grad=False, dtype=None):
    """A new leaf Tensor holding a copy of ``data`` (a list, number or array)."""
    if isinstance(data, Tensor):
        data = data.data
    if hasattr(data, "__array_function__") and hasattr(data, "shape"):
        array = data.astype(dtype) if dtype is not None else data.copy()  # CuPy keeps its device
    else:
        array = np.array(data, dtype=dtype)
    return Tensor(array, requires_grad=requires_grad)


# These modules build Tensors themselves, so they come after the class (a deliberate cycle).
from .device import device_of, to_device  # noqa: E402
from .dispatch import numpy_ufunc, record, unwrap  # noqa: E402
from .engine import backward as run_backward  # noqa: E402
from .inplace import assign_index, change_by_ufunc  # noqa: E402
