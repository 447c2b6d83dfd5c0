"""PyTorch's ways of passing axes and shapes, as NumPy takes them."""
import functools


def axes_of(axis, dim):
    """NumPy's ``axis`` or PyTorch's ``dim`` (a list becomes a tuple)."""
    axis = dim if axis is None else axis
    return tuple(axis) if isinstance(axis, list) else axis


def shape_arguments(shape):
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


_UNSET = object()


def numpy_aliases(method):
    """Let ``method`` take NumPy's ``axis=`` and ``keepdims=`` for ``dim=`` and ``keepdim=``, as
    PyTorch's methods do (``t.var(axis=0)`` is ``t.var(dim=0)``, PyTorch's variance)."""
    @functools.wraps(method)
    def with_aliases(self, *args, axis=_UNSET, keepdims=_UNSET, **kwargs):
        if axis is not _UNSET:
            if args or "dim" in kwargs:
                raise TypeError(f"{method.__name__}() got both dim and axis")
            kwargs["dim"] = axis
        if keepdims is not _UNSET:
            kwargs["keepdim"] = keepdims
        return method(self, *args, **kwargs)
    return with_aliases
