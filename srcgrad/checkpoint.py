"""``srcgrad.checkpoint``: a function of the user's whose derivative keeps only its inputs.

Where differentiated code calls a checkpointed function, the generated primal calls it as it is
and keeps its arguments; the adjoint calls ``f_adjoint(dy, *args)``, which runs ``f`` again and
then its adjoint (as ``jax.checkpoint`` and ``torch.utils.checkpoint`` do): the values inside
``f`` are never saved, at the cost of computing ``f`` twice. Called on eager Tensors that
require grad, it records one node that keeps the inputs and runs ``f`` again in backward.
"""
import functools
from typing import Any, Callable


class Checkpointed:
    """``function``, marked for the transformer; calling it calls ``function``."""

    def __init__(self, function: Callable[..., Any]) -> None:
        if isinstance(function, Checkpointed):
            function = function.function
        self.function: Callable[..., Any] = function
        functools.update_wrapper(self, function)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            from .eager.checkpoint import CheckpointFunction, records  # eager builds on this
            if records(args):  # eager Tensors: one tape node that runs the function again
                return CheckpointFunction.apply(self.function, *args)
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<srcgrad.checkpoint of {getattr(self.function, '__qualname__', self.function)}>"


def checkpoint(function: Callable[..., Any]) -> Checkpointed:
    """Mark ``function`` so that derivatives of code calling it keep only its arguments and
    recompute its inside in the backward sweep (memory for time). Use it as a decorator or
    around a call: ``x = sg.checkpoint(step)(x, dt)``."""
    if not callable(function):
        raise TypeError(f"srcgrad.checkpoint takes a function, got {function!r}")
    return Checkpointed(function)
