"""PyTorch's ways of passing axes and shapes, as NumPy takes them."""


def axes_of(axis, dim):
    """NumPy's ``axis`` or PyTorch's ``dim`` (a list becomes a tuple)."""
    axis = dim if axis is None else axis
    return tuple(axis) if isinstance(axis, list) else axis


def shape_arguments(shape):
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
