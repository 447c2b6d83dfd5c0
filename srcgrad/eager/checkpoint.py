"""``srcgrad.checkpoint`` on the eager Tensor: the tape keeps the function's inputs only, and
backward runs the function again to rebuild its inside (``torch.utils.checkpoint``'s way)."""
from .engine import grad
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor


class CheckpointFunction(Function):
    """One node for a whole call: forward without a tape, backward by running it again."""

    @staticmethod
    def forward(ctx, function, *args):
        ctx.function, ctx.args = function, args
        with no_grad():
            return function(*args)

    @staticmethod
    def backward(ctx, *output_grads):
        inputs = [a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a
                  for a in ctx.args]
        with enable_grad():
            outputs = ctx.function(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        wanted = [i for i in inputs if isinstance(i, Tensor) and i.requires_grad]
        pairs = [(o, g) for o, g in zip(outputs, output_grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        found = iter(grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                          allow_unused=True) if pairs and wanted else [None] * len(wanted))
        return (None,) + tuple(next(found) if isinstance(i, Tensor) and i.requires_grad else None
                               for i in inputs)


def records(args):
    """Would calling a function on ``args`` record on the tape?"""
    return is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args)
