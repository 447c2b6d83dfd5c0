"""Custom differentiable operations: subclass Function, write static forward and backward."""
import functools
import types
import weakref

import numpy as np

from ..runtime import shape_of, unbroadcast
from .errors import EagerError, GraphFreedError
from .grad_mode import is_grad_enabled, no_grad, set_grad_enabled
from .node import Node, edge_of, named
from .saved import SavedOutput, SavedTensor
from .tensor import Tensor, as_array


class FunctionCtx:
    """What ``forward`` hands to ``backward``: saved tensors, ``needs_input_grad``, and any
    attribute set on it (``ctx.constant = c``)."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._to_save = ()
        self._saved = ()
        self._freed = False
        self._node = None  # a weak reference: the node holds this context
        self._non_differentiable = ()
        self._dirty = ()
        self.materialize_grads = True

    def mark_non_differentiable(self, *tensors):
        """These outputs get no gradient: they do not require grad, and backward receives zeros
        (or None, see set_materialize_grads) for them."""
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors):
        """These inputs were changed in place by forward and are returned as outputs: they take
        this node as their history, as PyTorch's in-place operations do."""
        self._dirty = tensors

    def set_materialize_grads(self, value):
        """False: backward gets None, not zeros, for an output that received no gradient."""
        self.materialize_grads = bool(value)

    def save_for_backward(self, *tensors):
        """Keep these tensors (inputs or outputs of forward) for backward, guarded against
        in-place changes; read them back as ``ctx.saved_tensors``."""
        self._to_save = tensors

    @property
    def saved_tensors(self):
        if self._freed:
            raise GraphFreedError()
        node = self._node() if self._node is not None else None
        return tuple(None if saved is None else saved.unpack(node, True) for saved in self._saved)


class Function:
    """A differentiable operation defined by two static methods::

        class MultiplyAdd(Function):
            @staticmethod
            def forward(ctx, x, y, z):
                ctx.save_for_backward(x, y)
                return x * y + z

            @staticmethod
            def backward(ctx, grad):
                x, y = ctx.saved_tensors
                return grad * y, grad * x, grad

    ``MultiplyAdd.apply(a, b, c)`` runs forward without recording it and records one node whose
    backward step is ``backward``: it gets one gradient per output and returns one per input of
    forward (None for inputs that need none). Written with Tensor operations, backward is itself
    recorded under ``create_graph=True``, so second derivatives work.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define a static backward(ctx, ...)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Overridden (PyTorch 2 style): ``forward(*args)`` takes no ctx, and this saves what
        backward needs from the inputs and the output."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a._requires_grad for a in args))
        separate_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate_setup:
                returned = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, returned)
            else:
                returned = cls.forward(ctx, *args, **kwargs)
        for tensor in ctx._dirty:
            if tensor.grad_fn is None and tensor._requires_grad and is_grad_enabled():
                raise EagerError("a leaf Variable that requires grad has been used in an in-place "
                                 "operation.")
        single = not isinstance(returned, tuple)
        outputs = tuple(_as_tensor(o) for o in ((returned,) if single else returned))
        if is_grad_enabled() and any(ctx.needs_input_grad):
            name = getattr(cls, "_node_name", None) or f"{cls.__name__}Backward"
            node = named(name, FunctionNode)(cls, ctx, args)
            outputs = node.connect(outputs)
        return outputs[0] if single else outputs


def once_differentiable(backward):
    """Run a Function's ``backward`` without recording it (it is written with operations that
    need no second derivative); its results then carry no history."""
    @functools.wraps(backward)
    def without_recording(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)
    return without_recording


def _as_tensor(value):
    if isinstance(value, Tensor) or value is None or isinstance(value, (int, float, bool)):
        return value
    return Tensor._make(as_array(value))


class FunctionNode(Node):
    """The backward step of a custom Function: calls its ``backward`` with the saved context."""

    __slots__ = ("next_functions", "input_shapes", "_pre_hooks", "_retained", "function", "ctx",
                 "arg_positions", "n_args", "output_data")

    def __init__(self, function, ctx, args):
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        super().__init__(tuple(edge_of(args[i]) for i in positions),
                         tuple(args[i]._data.shape for i in positions))
        self.function, self.ctx = function, ctx
        self.arg_positions, self.n_args = positions, len(args)
        self.output_data = ()

    def connect(self, outputs):
        """New output Tensors whose grad_fn is this node (same data as forward's results), and
        the context's saved tensors, outputs among them saved without a reference cycle."""
        non_differentiable = {id(t) for t in self.ctx._non_differentiable}
        dirty = {id(t) for t in self.ctx._dirty}
        connected = []
        for nr, o in enumerate(outputs):
            if not isinstance(o, Tensor) or id(o) in non_differentiable or \
                    o._data.dtype.kind not in "fc":
                connected.append(o)
            elif id(o) in dirty:  # the input itself, its history now this node
                o.grad_fn, o._requires_grad, o._output_nr = self, True, nr
                connected.append(o)
            else:
                connected.append(Tensor._make(o._data, grad_fn=self, requires_grad=True,
                                              output_nr=nr))
        connected = tuple(connected)
        self.output_data = tuple(getattr(o, "_data", None) for o in connected)
        position_of_output = {id(o): nr for nr, o in enumerate(outputs) if isinstance(o, Tensor)}
        saved = []
        for t in self.ctx._to_save:
            if t is None:
                saved.append(None)
            elif id(t) in position_of_output and isinstance(connected[position_of_output[id(t)]],
                                                            Tensor):
                saved.append(SavedOutput(connected[position_of_output[id(t)]]))
            elif isinstance(t, Tensor):
                saved.append(SavedTensor(t))
            else:
                raise TypeError(f"save_for_backward can only save Tensors (or None), "
                                f"not {type(t).__name__}; keep other values as ctx attributes")
        self.ctx._saved, self.ctx._to_save = tuple(saved), ()
        self.ctx._node = weakref.ref(self)
        return connected

    def apply(self, grads, create_graph):
        # A missing output gradient is a zero one (unless the context said not to), so that
        # backward gets arrays. A freed context fails only if backward reads saved tensors.
        grads = list(grads) + [None] * (len(self.output_data) - len(grads))
        if self.ctx.materialize_grads:
            grads = [np.zeros_like(data) if g is None and data is not None else g
                     for g, data in zip(grads, self.output_data)]
        grads = [g if isinstance(g, Tensor) or g is None else Tensor._make(as_array(g))
                 for g in grads]
        with set_grad_enabled(create_graph):
            returned = self.function.backward(self.ctx, *grads)
        returned = returned if isinstance(returned, tuple) else (returned,)
        if len(returned) != self.n_args:
            raise EagerError(f"function {self.name()} returned an incorrect number of gradients "
                             f"(expected {self.n_args}, got {len(returned)})")
        result = []
        for i, shape in zip(self.arg_positions, self.input_shapes):
            g = returned[i]
            if g is not None:
                if create_graph:
                    g = g if isinstance(g, Tensor) else Tensor._make(as_array(g))
                elif isinstance(g, Tensor):
                    g = g._data
                g = _sum_to_shape(g, shape)
            result.append(g)
        return result

    def release(self):
        self.ctx._freed = True
        self.ctx._saved = ()


def _sum_to_shape(gradient, shape):
    """A gradient that the input's shape broadcasts to is summed down to it, as PyTorch does for
    custom Functions (``x * y + z`` with a smaller z); any other shape is left for the engine to
    report."""
    gradient_shape = shape_of(gradient)
    if gradient_shape == shape:
        return gradient
    try:
        compatible = np.broadcast_shapes(shape, gradient_shape) == gradient_shape
    except ValueError:
        return gradient
    return unbroadcast(gradient, types.SimpleNamespace(shape=shape)) if compatible else gradient
