"""Reductions of arrays called as the array's own methods: ``x.sum()`` rather than ``np.sum(x)``."""
import gast
import numpy as np

from .analyze import nodes_in

# NumPy reductions and the ndarray method each one calls for an ndarray: the same ufunc's
# ``reduce`` with the same arguments, so the result is the same to the bit. ``np.sum(x)`` spends
# ~0.8 µs in Python (``_wrapreduction``) before it gets there; ``x.sum()`` goes straight to C.
_METHODS = {np.sum: "sum", np.max: "max", np.min: "min", np.amax: "max", np.amin: "min",
            np.mean: "mean", np.prod: "prod"}


def reductions_as_methods(function_def, specializer):
    """``np.sum(x)`` (``np.max``, ``np.min``, ``np.mean``, ``np.prod``, ``axis=`` and
    ``keepdims=`` as they were) -> ``x.sum()`` where the shapes know ``x`` is an array of one or
    more dimensions: a NumPy, CuPy or Dask array (or the strict device stand-in), each of which
    has these methods with NumPy's meaning. A number (a Python float has no ``.sum``), a
    0-d value, a list or a value of unknown shape keeps the function. Only the axis may be
    positional (``np.max(x, 0)``): past it, the methods' parameters differ between libraries.
    """
    shapes = specializer.shape_reader(specializer.final_shapes)
    for node in nodes_in(function_def):
        for field, value in gast.iter_fields(node):
            if isinstance(value, list):
                for position, item in enumerate(value):
                    replaced = _as_method(item, specializer, shapes)
                    if replaced is not None:
                        value[position] = replaced
            else:
                replaced = _as_method(value, specializer, shapes)
                if replaced is not None:
                    setattr(node, field, replaced)
    return function_def


def _as_method(node, specializer, shapes):
    if not (isinstance(node, gast.Call) and 1 <= len(node.args) <= 2 and
            not any(isinstance(a, gast.Starred) for a in node.args) and
            all(k.arg in ("axis", "keepdims") for k in node.keywords)):
        return None
    try:
        method = _METHODS.get(specializer.called(node))
    except TypeError:  # an unhashable callable
        return None
    shape = shapes.of(node.args[0])
    if method is None or not (isinstance(shape, tuple) and len(shape) >= 1):
        return None
    axis = [gast.keyword(arg="axis", value=node.args[1])] if len(node.args) == 2 else []
    replaced = gast.Call(func=gast.Attribute(value=node.args[0], attr=method, ctx=gast.Load()),
                         args=[], keywords=axis + node.keywords)
    return gast.copy_location(replaced, node)
