"""The few helpers that generated code and derivative rules call at run time.

Every helper uses only NumPy functions that dispatch on their arguments, so CuPy and other
array libraries that implement ``__array_ufunc__``/``__array_function__`` pass through unchanged.
"""
import numpy as np

from .errors import NonScalarOutput


def shape_of(x):
    """The shape of an array, or () for a Python or NumPy scalar."""
    return getattr(x, "shape", ())


def unbroadcast(g, x):
    """Sum the adjoint ``g`` down to the shape of ``x``, undoing NumPy broadcasting."""
    g_shape = shape_of(g)
    x_shape = shape_of(x)
    if g_shape == x_shape:
        return g
    extra = len(g_shape) - len(x_shape)
    # Axes that broadcasting added in front, then axes of length 1 that it stretched.
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(x_shape) if n == 1 and g_shape[extra + i] != 1
    )
    if axes:
        g = np.sum(g, axis=axes, keepdims=False)
    if len(shape_of(g)) != len(x_shape):
        g = np.reshape(g, x_shape)
    return g


def expand_reduced(g, x, axis, keepdims):
    """Broadcast the adjoint of a reduction over ``axis`` back to the shape of ``x``."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape_of(x))


def scalar_seed(out, function_name):
    """The seed 1.0 for the adjoint sweep; refuses a non-scalar output with advice."""
    if len(shape_of(out)) != 0:
        raise NonScalarOutput(
            f"grad needs {function_name} to return a scalar, but it returned an array of shape "
            f"{shape_of(out)}; use srcgrad.vjp for array-valued functions, or reduce the output "
            f"(for example with np.sum) before returning it"
        )
    return 1.0


def add_at(dx, index, g):
    """Add ``g`` into ``dx[index]`` in place; repeated fancy indices accumulate."""
    np.add.at(dx, index, g)
