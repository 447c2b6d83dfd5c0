"""In-place changes of a Tensor: a version bump and, when recorded, the history of the new value.

The new value is computed out of place from a copy of the old one, then written into the data.
"""
import numpy as np

from .dispatch import record, unwrap
from .errors import EagerError
from .function import Function
from .grad_mode import is_grad_enabled
from .tensor import Tensor


def change_in_place(target, operands, change_data, recorded_value):
    """Change ``target`` in place.

    ``change_data()`` changes ``target._data`` directly (nothing to record);
    ``recorded_value(old)`` returns the new value as a recorded Tensor, from ``old``: target's
    value and history before.
    """
    if is_grad_enabled() and any(isinstance(t, Tensor) and t._requires_grad
                                 for t in (target, *operands)):
        _check_recordable(target)
        if target._view_steps is not None and target._base is not None:
            _change_view(target, recorded_value)
        else:
            old = Tensor._make(np.copy(target._data), target.grad_fn, target._requires_grad,
                               target._output_nr)
            new = recorded_value(old)
            target._data[...] = new._data  # in place, so that arrays sharing this memory see it
            target.grad_fn, target._output_nr = new.grad_fn, new._output_nr
            target._requires_grad = new._requires_grad
    else:
        change_data()
    target._counter[0] += 1
    return target


def _check_recordable(target):
    if target.grad_fn is None and target._requires_grad and target._base is None:
        raise EagerError("a leaf Variable that requires grad is being used in an in-place "
                         "operation.")
    base = target._base
    if base is not None and base.grad_fn is None and base._requires_grad:
        raise EagerError("a view of a leaf Variable that requires grad is being used in an "
                         "in-place operation.")
    if base is not None and target._view_steps is None:
        raise EagerError("srcgrad cannot record an in-place change of this view; change the "
                         "tensor it views, or compute a new tensor out of place.")


def view_of(value, steps):
    """The view that ``steps`` (primitive, arguments, options) make of ``value``: an array or a
    Tensor (then recorded)."""
    for primitive, args, kwargs in steps:
        value = primitive(value, *args, **kwargs)
    return value


def _change_view(view, recorded_value):
    """An in-place change of a view of a tensor with history, as PyTorch records it: the base
    gets a CopySlices node (its old value with the view's region replaced by the new value), and
    the view becomes that region of the new base."""
    base, steps = view._base, view._view_steps
    old_base = Tensor._make(np.copy(base._data), base.grad_fn, base._requires_grad,
                            base._output_nr)
    new_region = recorded_value(view_of(old_base, steps))
    new_base = CopySlices.apply(old_base, steps, new_region)
    base._data[...] = new_base._data
    base.grad_fn, base._output_nr = new_base.grad_fn, new_base._output_nr
    base._requires_grad = new_base._requires_grad
    regenerated = view_of(base, steps)
    view.grad_fn, view._output_nr = regenerated.grad_fn, regenerated._output_nr
    view._requires_grad = regenerated._requires_grad


class CopySlices(Function):
    """``base`` with the region that ``steps`` view replaced by ``value``: the gradient of base
    is zero in that region, the value gets the region's gradient."""

    _node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, steps, value):
        ctx.steps = steps
        ctx.region = np.zeros(base._data.shape, dtype=bool)
        view_of(ctx.region, steps)[...] = True
        result = np.copy(base._data)
        view_of(result, steps)[...] = value._data
        return Tensor._make(result)

    @staticmethod
    def backward(ctx, grad):
        return np.where(ctx.region, 0.0, grad), None, view_of(grad, ctx.steps)


def change_by_ufunc(target, ufunc, other):
    """``target.add_(other)``, ``target -= other`` ... with the ufunc's rule when recorded."""
    return change_in_place(
        target, (other,),
        lambda: ufunc(target._data, unwrap(other), out=target._data),
        lambda old: record(ufunc, (old, other)))


def assign_index(target, index, value):
    """``target[index] = value``."""
    from .indexing import IndexPut
    def change_data():
        target._data[index] = unwrap(value)
    return change_in_place(target, (value,), change_data,
                           lambda old: IndexPut.apply(old, index, value))


def add_at(target, index, values):
    """``np.add.at(target, index, values)``: repeated indices add up (the getitem rule uses it)."""
    from .indexing import AddAt
    if not isinstance(target, Tensor):
        refuse_into_array("add.at", (values,))
        np.add.at(target, unwrap(index), unwrap(values))
        return None
    index = unwrap(index)
    change_in_place(target, (values,), lambda: np.add.at(target._data, index, unwrap(values)),
                    lambda old: AddAt.apply(old, index, values))
    return None


def refuse_into_array(operation, inputs):
    """Raise if ``operation`` would write a Tensor that requires grad into a NumPy array."""
    if is_grad_enabled() and any(isinstance(x, Tensor) and x._requires_grad for x in inputs):
        # np_array += tensor: the result lands in an array the tape cannot see, so the
        # gradient would silently stop here; PyTorch refuses the conversion too.
        raise EagerError(
            f"{operation} writes a Tensor that requires grad into a NumPy array (out=, "
            "np.add.at, or an augmented assignment such as acc += t on an array), which would "
            "drop its gradient. Make the array a Tensor (srcgrad.zeros(...), "
            "srcgrad.tensor(...)) or use t.detach() if no gradient should flow")


def ufunc_into(out, ufunc, inputs, kwargs):
    """``ufunc(*inputs, out=target)``: the result written into a Tensor in place."""
    targets = out if isinstance(out, tuple) else (out,)
    if len(targets) != 1 or not isinstance(targets[0], Tensor):
        refuse_into_array(ufunc.__name__, inputs)
        return ufunc(*unwrap(inputs), out=unwrap(out), **plain_kwargs(kwargs))
    target = targets[0]
    change_in_place(
        target, inputs,
        lambda: ufunc(*unwrap(inputs), out=target._data, **plain_kwargs(kwargs)),
        lambda old: record(ufunc, tuple(old if x is target else x for x in inputs), kwargs))
    return target


def plain_kwargs(kwargs):
    return {key: unwrap(value) for key, value in kwargs.items()}
