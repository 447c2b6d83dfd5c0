"""The eager Tensor: an array plus what autograd needs (requires_grad, grad, grad_fn, version).

This module holds the class and its autograd state; the operations PyTorch users call on it
(``mm``, ``sum`` ...) are in the ``methods`` package, ``add_`` ... in ``inplace_methods.py``,
printing in ``printing.py``.
"""
import itertools
import operator
import warnings
import weakref

import numpy as np

from .dtypes import dtype_of, inferred
from .errors import EagerError


class Size(tuple):
    """A Tensor's shape, as PyTorch's torch.Size: a tuple that prints as ``Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self):
        return f"srcgrad.Size({list(self)})"

    def numel(self):
        count = 1
        for n in self:
            count *= n
        return count


def as_array(data):
    """``data`` as an array: arrays of any library that dispatches (NumPy, CuPy, ...) as they are,
    Python numbers and lists through np.asarray (Python floats in the default dtype)."""
    if isinstance(data, Tensor):
        return data._data
    if hasattr(data, "__array_function__") and hasattr(data, "shape"):
        return data
    return inferred(np.asarray(data), data)


class Tensor:
    """An array that records the operations applied to it, for ``backward()``.

    ``data`` is the same values as a Tensor that is not recorded (PyTorch's ``.data``), ``array``
    the array itself (NumPy, CuPy or Dask, shared); ``grad`` receives gradients; ``grad_fn`` is
    the node that made this tensor, None for a leaf. Tensors made by the user are leaves.
    """

    __slots__ = ("_data", "_grad", "grad_fn", "_requires_grad", "_output_nr", "_counter", "_base",
                 "_view_steps", "_hooks", "_accumulator", "_retains_grad", "__weakref__")
    __hash__ = object.__hash__  # == is elementwise, so hashing is by identity

    def __init__(self, data, requires_grad=False):
        self._init(as_array(data), None, False, 0, [0])
        if requires_grad:
            self.requires_grad_(True)

    def _init(self, data, grad_fn, requires_grad, output_nr, version):
        self._data = data
        self._grad = None
        self.grad_fn = grad_fn
        self._requires_grad = requires_grad
        self._output_nr = output_nr
        self._counter = version
        self._base = None  # the tensor whose memory this one views, if any
        self._view_steps = None  # how to make this view from _base: ((primitive, args, kwargs),)
        self._hooks = None
        self._accumulator = None
        self._retains_grad = False

    @classmethod
    def _make(cls, data, grad_fn=None, requires_grad=False, output_nr=0, version=None):
        """A Tensor around an array that is already an array (no checks: the fast path)."""
        tensor = object.__new__(cls)  # _init written out: one call less on the hot path
        tensor._data = data
        tensor._grad = None
        tensor.grad_fn = grad_fn
        tensor._requires_grad = requires_grad
        tensor._output_nr = output_nr
        # The version counter: how many in-place changes the data has seen, in a one-element
        # list that views and detached copies share (a list is the cheapest mutable cell).
        tensor._counter = [0] if version is None else version
        tensor._base = tensor._view_steps = tensor._hooks = tensor._accumulator = None
        tensor._retains_grad = False
        return tensor

    # --- the data ------------------------------------------------------------------------------

    @property
    def data(self):
        """The same memory as a Tensor that does not require grad and is not recorded, with a
        version counter of its own: changes through it (``w.data.sub_(...)``) are not seen by
        autograd, as in PyTorch."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        """``x.data = other`` makes x hold other's memory (its history stays as it was)."""
        self._data = value._data if isinstance(value, Tensor) else as_array(value)

    @property
    def _version(self):
        """How many in-place changes the data has seen (shared with views and detached copies),
        as PyTorch's ``tensor._version``."""
        return self._counter[0]

    @property
    def array(self):
        """The array inside (NumPy, CuPy, Dask ...), shared: what ``numpy()`` returns, also for
        arrays of other libraries and for tensors that require grad."""
        return self._data

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        # As PyTorch, a gradient must be a Tensor of the same shape and dtype as this one.
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise EagerError(f"attempting to assign a gradient of size "
                                 f"'{list(value._data.shape)}' to a tensor of size "
                                 f"'{list(self._data.shape)}'. Please ensure that the gradient "
                                 f"and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
                raise EagerError(f"attempting to assign a gradient with dtype "
                                 f"'{dtype_of(value._data.dtype)}' to a tensor with dtype "
                                 f"'{dtype_of(self._data.dtype)}'. Please ensure that the "
                                 f"gradient and the tensor have the same dtype")
        self._grad = value

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
        if requires_grad and self._data.dtype.kind not in "fc":
            raise EagerError(
                f"Only Tensors of floating point and complex dtype can require gradients, but "
                f"this one has dtype {dtype_of(self._data.dtype)}; make it with a float dtype, "
                f"e.g. srcgrad.tensor([1, 2], dtype=srcgrad.float32)")
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

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves it depends on
        (only of ``inputs``, when given).

        A non-scalar tensor needs ``gradient`` (the weights w of ``sum(w * self)``).
        """
        run_backward((self,), None if gradient is None else (gradient,), retain_graph,
                     create_graph, inputs=inputs)

    def detach(self):
        """The same data (and version counter) without history."""
        detached = Tensor._make(self._data, version=self._counter)
        detached._base = self._base
        return detached

    def detach_(self):
        """Make this tensor a leaf that does not require grad, in place."""
        if self._base is not None and self._base._requires_grad:
            raise EagerError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn, self._requires_grad, self._output_nr = None, False, 0
        return self

    # --- array attributes ----------------------------------------------------------------------

    shape = property(lambda self: Size(self._data.shape))
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: dtype_of(self._data.dtype))
    is_cuda = property(lambda self: str(self.device).startswith("cuda"))

    @property
    def device(self):
        return device_of(self._data)

    def size(self, dim=None):
        """The shape (a Size), or the length of axis ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._axis(dim)]

    def _axis(self, dim):
        """``dim`` as a non-negative axis, with PyTorch's error when out of range."""
        ndim = self._data.ndim
        if not -max(ndim, 1) <= dim < max(ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})")
        return dim % max(ndim, 1)

    def numel(self):
        return self._data.size

    nelement = numel

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def element_size(self):
        return self._data.dtype.itemsize

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def cuda(self):
        """This tensor on the GPU, as a CuPy array (recorded: gradients come back to the CPU)."""
        return to_device(self, "cuda")

    def cpu(self):
        """This tensor in host memory, as a NumPy array (itself when it is there already)."""
        return to_device(self, "cpu")

    # --- conversions -------------------------------------------------------------------------

    def item(self):
        if self._data.size != 1:
            raise EagerError(f"a Tensor with {self._data.size} elements cannot be converted to "
                             f"Scalar")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self):
        """The data as a NumPy array (shared), for a tensor that does not require grad."""
        if self._requires_grad:
            raise EagerError("Can't call numpy() on Tensor that requires grad. "
                             "Use tensor.detach().numpy() instead.")
        if not isinstance(self._data, np.ndarray):
            raise TypeError(f"can't convert a {self.device} tensor to numpy. "
                            f"Use Tensor.cpu() to copy the tensor to host memory first.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.item()

    def __float__(self):
        if self._requires_grad:  # as PyTorch: the number leaves the tape (NumPy's a[i] = t too)
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                          "unexpected behavior. Consider using tensor.detach() first.",
                          UserWarning, stacklevel=2)
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __complex__(self):
        return complex(self._scalar())

    def __bool__(self):
        if self._data.size != 1:
            amount = "no values" if self._data.size == 0 else "more than one value"
            raise EagerError(f"Boolean value of Tensor with {amount} is ambiguous")
        return bool(self._data.item())

    def __index__(self):
        return operator.index(self._data)

    def __format__(self, spec):
        # As PyTorch: a 0-d tensor formats as its number ("{loss:.4f}"), others only without a
        # format specification.
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self):
        return tensor_repr(self)

    # --- NumPy dispatch: np.exp(t), np.sum(t, axis=0), ndarray + t ... are recorded -------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return numpy_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return numpy_function(func, args, kwargs)

    # --- indexing ------------------------------------------------------------------------------

    def __getitem__(self, index):
        if type(index) is slice:  # the common x[2:5] without the calls below
            return record(operator.getitem, (self, index), None, "SliceBackward0")
        return record(operator.getitem, (self, unwrap(index)), name=index_node_name(index))

    def __setitem__(self, index, value):
        assign_index(self, unwrap(index), value)


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


def index_node_name(index):
    """PyTorch's node of an indexing read. PyTorch applies integers, slices and None in turn
    (select, slice, unsqueeze; ``...`` and ``:`` in a tuple do nothing), so the node is that of
    the last one that does something: SelectBackward0, SliceBackward0 or UnsqueezeBackward0
    (AliasBackward0 when none does: ``x[...]``, ``x[:, :]``; but ``x[:]`` is a slice). Arrays,
    masks and lists: IndexBackward0."""
    kind = type(index)
    if kind is int:
        return "SelectBackward0"
    if kind is slice:
        return "SliceBackward0"
    if index is None:
        return "UnsqueezeBackward0"
    if index is Ellipsis:
        return "AliasBackward0"
    if kind is tuple and all(type(i) in (int, slice) or i is None or i is Ellipsis
                             for i in index):
        for item in reversed(index):
            if type(item) is int:
                return "SelectBackward0"
            if item is None:
                return "UnsqueezeBackward0"
            if type(item) is slice and item != slice(None):
                return "SliceBackward0"
        return "AliasBackward0"
    return "IndexBackward0"


# These modules build Tensors themselves, so they come after the class (a deliberate cycle).
from .device import device_of, to_device  # noqa: E402
from .dispatch import numpy_function, numpy_ufunc, record, unwrap  # noqa: E402
from .engine import backward as run_backward  # noqa: E402
from .inplace import assign_index  # noqa: E402
from .printing import tensor_repr  # noqa: E402
from . import methods  # noqa: E402,F401  (adds the PyTorch-style methods to Tensor)
