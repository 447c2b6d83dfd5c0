"""Derivatives of calls whose callee is known only when the code runs: ``self.helper(x)``,
``layer(x)``, ``act(x)`` where ``act`` is a parameter, a partial or a callable object.

Generated code calls these with the callee itself; the derivative of what it turns out to be is
generated (once per function, as for any call of the user's functions) and called.
"""
from typing import Any, Sequence, Tuple

from .callables import Adapted, adapt


def _derivative(callee: Any, wrt: Any, mode: str) -> Tuple[Adapted, Any]:
    from .api import derivative  # the api builds on the transformer, which emits calls to these
    adapted = adapt(callee, wrt)
    return adapted, derivative(adapted.function, adapted.wrt, mode)


def call_vjp(callee: Any, wrt: Any, *args: Any, **kwargs: Any) -> Any:
    """``callee(*args, **kwargs)`` and its pullback for the arguments ``wrt`` (positions or
    keyword names): ``(value, pullback)``."""
    adapted, derivative = _derivative(callee, wrt, "vjp")
    return derivative(*adapted.bound_args, *args, **{**adapted.bound_kwargs, **kwargs})


def call_jvp(callee: Any, wrt: Any, tangents: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
    """``callee(*args, **kwargs)`` and its tangent along ``tangents`` (one per ``wrt``
    argument): ``(value, tangent)``."""
    adapted, derivative = _derivative(callee, wrt, "jvp")
    names = derivative.generated.function.__srcgrad_tangents__
    return derivative(*adapted.bound_args, *args,
                      **{**adapted.bound_kwargs, **kwargs, **dict(zip(names, tangents))})
