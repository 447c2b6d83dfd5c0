"""The Tensor methods and operators PyTorch users write (``x.mm(w)``, ``x.sum(dim=0)``, ``+``...).

Each is recorded with the derivative rule of the NumPy primitive that computes it (the rules in
``srcgrad/rules/``), under PyTorch's name for its node. One module per family: operators and
elementwise functions (``arithmetic``), matrix products (``products``), reductions, shapes and
views (``shapes``), dtypes and devices (``conversions``); in-place methods are in
``inplace_methods.py``. The methods are copied onto Tensor here, so that the class itself stays
readable in one file.
"""
from ..tensor import Tensor
from .arithmetic import ArithmeticMethods, where
from .conversions import ConversionMethods
from .products import ProductMethods
from .promotion import cast, promoted
from .reductions import ReductionMethods
from .shapes import ShapeMethods

__all__ = ["cast", "promoted", "where"]

_NOT_COPIED = {"__dict__", "__module__", "__doc__", "__weakref__", "__qualname__"}
for _family in (ArithmeticMethods, ProductMethods, ReductionMethods, ShapeMethods,
                ConversionMethods):
    for _name, _value in list(vars(_family).items()):
        if _name not in _NOT_COPIED:
            setattr(Tensor, _name, _value)
Tensor.__hash__ = object.__hash__  # defining __eq__ above does not make Tensors unhashable

from .. import inplace_methods  # noqa: E402,F401  (add_, mul_, zero_ ... on Tensor)
