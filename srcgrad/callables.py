"""Callables other than plain functions, as a plain function plus the arguments bound to it.

A bound method is its function with ``self`` bound first (read as a constant), a
``functools.partial`` its function with the partial's arguments, an object with ``__call__`` its
bound ``__call__``, and a NumPy ufunc or other primitive with a derivative rule a one-line
function that calls it. ``wrt`` positions count the arguments the user passes, so they move
past the bound ones.
"""
import functools
import inspect
import linecache
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

from .checkpoint import Checkpointed
from .errors import SourceError
from .rules import rule_for


_CALLING: Dict[Any, Callable[..., Any]] = {}  # primitive -> the function that calls it


@dataclass
class Adapted:
    """A Python function srcgrad can read, and what calling the user's callable adds to it."""

    function: Callable[..., Any]
    wrt: Any
    bound_args: Tuple[Any, ...] = ()
    bound_kwargs: Dict[str, Any] = field(default_factory=dict)
    source: Optional[str] = None


def _shifted(wrt: Any, by: int) -> Any:
    if isinstance(wrt, (tuple, list)):
        return type(wrt)(_shifted(w, by) for w in wrt)
    return wrt + by if isinstance(wrt, int) and wrt >= 0 else wrt


def adapt(function: Any, wrt: Any, source: Optional[str] = None) -> Adapted:
    """``function`` as a plain Python function with bound arguments (see the module doc)."""
    if isinstance(function, Checkpointed):  # sg.grad(sg.checkpoint(f)) is sg.grad(f)
        return adapt(function.function, wrt, source)
    if getattr(function, "mode", None) is not None and hasattr(function, "unbound"):
        # a srcgrad Derivative; one of a method or a partial takes its bound arguments first
        unbound, bound_args, bound_kwargs = function.unbound()
        return Adapted(unbound, _shifted(wrt, len(bound_args)), bound_args, bound_kwargs,
                       source=source)
    if inspect.isfunction(function) or getattr(function, "mode", None) is not None:
        return Adapted(function, wrt, source=source)  # a function
    if inspect.ismethod(function):
        inner = adapt(function.__func__, _shifted(wrt, 1), source)
        inner.bound_args = (function.__self__,) + inner.bound_args
        return inner
    if isinstance(function, functools.partial):
        inner = adapt(function.func, _shifted(wrt, len(function.args)), source)
        inner.bound_args = inner.bound_args + tuple(function.args)
        inner.bound_kwargs = {**inner.bound_kwargs, **function.keywords}
        return inner
    rule = rule_for(function)
    if rule is not None:
        if function not in _CALLING:  # one function per primitive, so its derivative is cached
            _CALLING[function] = _calling(function, rule.differentiable)
        return Adapted(_CALLING[function], wrt,
                       source=_calling_source(function, rule.differentiable))
    call = getattr(type(function), "__call__", None)
    if call is not None and inspect.isfunction(call):  # an object with a __call__ method
        return adapt(function.__call__, wrt, source)
    raise SourceError(f"srcgrad can differentiate Python functions, methods, lambdas, "
                      f"functools.partial objects, callable objects and primitives with a "
                      f"derivative rule, not {function!r}")


def _name(function: Any) -> str:
    name = getattr(function, "__name__", "primitive")
    return name if name.isidentifier() else "primitive"


def _calling_source(function: Any, params: Tuple[str, ...]) -> str:
    arguments = ", ".join(params)
    return f"def {_name(function)}({arguments}):\n    return primitive({arguments})\n"


def _calling(function: Any, params: Tuple[str, ...]) -> Callable[..., Any]:
    """``def sin(x): return primitive(x)`` with ``primitive`` the object itself."""
    namespace: Dict[str, Any] = {"primitive": function}
    source, filename = _calling_source(function, params), f"<srcgrad call of {_name(function)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    made: Callable[..., Any] = namespace[_name(function)]
    return made
