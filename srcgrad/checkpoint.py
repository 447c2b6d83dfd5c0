"""``srcgrad.checkpoint``: a function of the user's whose derivative keeps only its inputs.

Where differentiated code calls a checkpointed function, the generated primal calls it as it is
and keeps its arguments; the adjoint calls ``f_adjoint(dy, *args)``, which runs ``f`` again and
then its adjoint (as ``jax.checkpoint`` and ``torch.utils.checkpoint`` do): the values inside
``f`` are never saved, at the cost of computing ``f`` twice. Called on eager Tensors that
require grad, it records one node that keeps the inputs and runs ``f`` again in backward.

``srcgrad.checkpoint_range`` marks a long loop instead: ``for t in sg.checkpoint_range(n):``
runs as ``for t in range(n):``, and where srcgrad differentiates it (transform/segments.py) the
loop becomes about sqrt(n) segments of about sqrt(n) steps, each a checkpointed function of the
state the loop carries: the primal keeps one state per segment, the adjoint runs each segment
again (as Tapenade's binomial loop directive and torch's ``checkpoint_sequential`` do, with one
level of segments).
"""
import functools
import math
from typing import Any, Callable, List, Optional


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


def checkpoint_range(*bounds: int, segments: Optional[int] = None) -> range:
    """``range(*bounds)``, marking a loop whose derivative keeps about sqrt(n) of its states.

    ``for t in sg.checkpoint_range(n):`` (or ``(start, stop[, step])``) runs exactly as
    ``range`` does. Where srcgrad differentiates the function, the loop is cut into segments of
    consecutive steps; the derivative keeps the loop's state at the start of each segment only,
    and the backward sweep runs each segment again to rebuild its inside. ``segments``: how many
    (default about sqrt(n), which keeps about 2 sqrt(n) states for one more forward run). On
    eager Tensors it is a plain ``range``: the tape keeps every step.
    """
    steps = range(*bounds)
    _check_segments(segments)
    return steps


def checkpoint_segments(*bounds: int, segments: Optional[int] = None) -> List[range]:
    """The steps of ``checkpoint_range(*bounds, segments=segments)`` cut into consecutive
    ranges of (nearly) equal length, about sqrt(n) of them: what a differentiated loop over
    ``checkpoint_range`` runs one checkpointed segment for each of."""
    steps = range(*bounds)
    _check_segments(segments)
    count = len(steps)
    if count == 0:
        return []
    number = min(count, segments if segments is not None else math.isqrt(count - 1) + 1)
    length = -(-count // number)
    return [steps[start:start + length] for start in range(0, count, length)]


def _check_segments(segments: Optional[int]) -> None:
    if segments is not None and (not isinstance(segments, int) or isinstance(segments, bool)
                                 or segments < 1):
        raise ValueError(f"srcgrad.checkpoint_range(..., segments={segments!r}): segments is "
                         "the number of checkpointed segments, a positive int")
