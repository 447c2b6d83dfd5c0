"""In-place changes of a Tensor: a version bump and, when recorded, the history of the new value.

The new value is computed out of place from a copy of the old one, then written into the data.
"""
import numpy as np

from .dispatch import record, unwrap
from .errors import EagerError
from .grad_mode import is_grad_enabled
from .tensor import Tensor


def change_in_place(target, operands, change_data, recorded_value):
    """Change ``target`` in place.

    ``change_data()`` changes ``target.data`` directly (nothing to record); ``recorded_value(old)``
    returns the new value as a recorded Tensor, from ``old``: target's value and history before.
    """
    if is_grad_enabled() and any(isinstance(t, Tensor) and t._requires_grad
                                 for t in (target, *operands)):
        _check_recordable(target)
        old = Tensor._make(np.copy(target.data), target.grad_fn, target._requires_grad,
                           target._output_nr)
        new = recorded_value(old)
        target.data[...] = new.data  # in place, so that arrays sharing this memory see it
        target.grad_fn, target._output_nr = new.grad_fn, new._output_nr
        target._requires_grad = new._requires_grad
    else:
        change_data()
    target._version.value += 1
    return target


def _check_recordable(target):
    if target.grad_fn is None and target._requires_grad:
        raise EagerError("a leaf Variable that requires grad is being used in an in-place "
                         "operation. Change it inside `with srcgrad.no_grad():`, or compute a new "
                         "tensor out of place.")
    if target._base is not None:
        # The viewed tensor would keep its old history although its memory changed.
        raise EagerError("srcgrad cannot record an in-place change of a view (a tensor made by "
                         "indexing, reshaping or transposing another, sharing its memory); change "
                         "the tensor it views (base[index] = ...) or compute a new tensor out of "
                         "place.")


def change_by_ufunc(target, ufunc, other):
    """``target.add_(other)``, ``target -= other`` ... with the ufunc's rule when recorded."""
    return change_in_place(
        target, (other,),
        lambda: ufunc(target.data, unwrap(other), out=target.data),
        lambda old: record(ufunc, (old, other)))


def assign_index(target, index, value):
    """``target[index] = value``."""
    from .indexing import IndexPut
    def change_data():
        target.data[index] = unwrap(value)
    return change_in_place(target, (value,), change_data,
                           lambda old: IndexPut.apply(old, index, value))


def add_at(target, index, values):
    """``np.add.at(target, index, values)``: repeated indices add up (the getitem rule uses it)."""
    from .indexing import AddAt
    if not isinstance(target, Tensor):
        np.add.at(target, unwrap(index), unwrap(values))
        return None
    index = unwrap(index)
    change_in_place(target, (values,), lambda: np.add.at(target.data, index, unwrap(values)),
                    lambda old: AddAt.apply(old, index, values))
    return None


def ufunc_into(out, ufunc, inputs, kwargs):
    """``ufunc(*inputs, out=target)``: the result written into a Tensor in place."""
    targets = out if isinstance(out, tuple) else (out,)
    if len(targets) != 1 or not isinstance(targets[0], Tensor):
        return ufunc(*unwrap(inputs), out=unwrap(out), **plain_kwargs(kwargs))
    target = targets[0]
    change_in_place(
        target, inputs,
        lambda: ufunc(*unwrap(inputs), out=target.data, **plain_kwargs(kwargs)),
        lambda old: record(ufunc, tuple(old if x is target else x for x in inputs), kwargs))
    return target


def plain_kwargs(kwargs):
    return {key: unwrap(value) for key, value in kwargs.items()}
