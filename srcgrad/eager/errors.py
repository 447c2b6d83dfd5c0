"""Errors of the eager Tensor; RuntimeError subclasses where PyTorch raises RuntimeError."""
from ..errors import SrcgradError


class EagerError(SrcgradError, RuntimeError):
    """Base class of the errors that recording or running the backward graph raises."""


class GraphFreedError(EagerError):
    """A second backward through a graph whose saved values were already freed."""

    def __init__(self):
        super().__init__(
            "Trying to backward through the graph a second time (or directly access saved "
            "tensors after they have already been freed). Saved intermediate values of the graph "
            "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
            "you need to backward through the graph a second time or if you need to access saved "
            "tensors after calling backward.")


class InplaceModifiedError(EagerError):
    """A value saved for the backward pass was changed in place before the backward pass ran."""

    def __init__(self, description, saved_by, version, expected):
        super().__init__(
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {description}, saved by {saved_by}, is at version {version}; "
            f"expected version {expected} instead. Hint: compute a new tensor (y = y + 1) instead "
            f"of changing this one in place (y += 1, y[...] = ..., y.add_(...)), or clone() it "
            f"before the in-place change.")


class NoEagerRule(EagerError, TypeError):
    """A function without a derivative rule met a Tensor that requires grad."""


class ShapeError(EagerError, ValueError):
    """Shapes that do not fit the operation (PyTorch's RuntimeError; NumPy's ValueError)."""
