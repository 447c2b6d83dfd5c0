"""Checks of the arguments a derivative is taken with respect to: real floating-point values.

A gradient with respect to an integer array would be truncated to integers, and one with respect
to a complex value needs a convention srcgrad does not implement, so both are refused, as JAX,
HIPS autograd and PyTorch refuse them, with the argument named and the fix spelled out.
"""
import dataclasses
import inspect
from typing import Any, List, Mapping, Sequence, Union

from .errors import InputTypeError

def parameter_names(function: Any) -> List[str]:
    """The positional parameter names of ``function`` (a Derivative: of what it wraps)."""
    function = getattr(function, "function", function)
    try:
        return [p.name for p in inspect.signature(function).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return []


def wrt_positions(wrt: Any, names: Sequence[str]) -> List[Union[int, str]]:
    """Positions (or keyword names) of the ``wrt`` arguments."""
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    found: List[Union[int, str]] = []
    for item in items:
        if isinstance(item, str) and item in names:
            found.append(names.index(item))
        elif isinstance(item, (int, str)):
            found.append(item)
    return found


def check_differentiable(args: Sequence[Any], kwargs: Mapping[str, Any],
                         positions: Sequence[Union[int, str]], names: Sequence[str],
                         function_name: str) -> None:
    """Raise InputTypeError if an argument to differentiate is not real floating point."""
    for position in positions:
        if isinstance(position, int):
            if not -len(args) <= position < len(args):
                continue
            value = args[position]
            name = names[position] if 0 <= position < len(names) else f"#{position}"
        elif position in kwargs:
            value, name = kwargs[position], position
        else:
            continue
        problem = _problem(value)
        if problem:
            raise InputTypeError(
                f"cannot differentiate {function_name} with respect to {name}: {problem}")


def _problem(value: Any, depth: int = 0) -> Union[str, None]:
    kind = type(value)
    if kind is float:
        return None
    if kind is bool or kind is int:
        return (f"it is a Python {kind.__name__} ({value!r}), so its derivative would be "
                f"truncated; pass a float, e.g. {float(value)!r}")
    if kind is complex:
        return ("it is complex; srcgrad differentiates real functions of real inputs: pass the "
                "real and imaginary parts as separate float arguments")
    dtype = getattr(value, "dtype", None)
    if dtype is not None and hasattr(value, "shape"):
        if dtype.kind == "f":
            return None
        if dtype.kind in "iub":
            return (f"it has dtype {dtype}, so its derivative would be truncated; pass "
                    f"x.astype(float)")
        if dtype.kind == "c":
            return (f"it has dtype {dtype}; srcgrad differentiates real functions of real "
                    f"inputs: pass the real and imaginary parts as separate float arrays")
        return f"it has dtype {dtype}; pass a floating-point array"
    if isinstance(value, (list, tuple)) and depth < 32:
        for item in value:
            problem = _problem(item, depth + 1)
            if problem:
                return f"an element of the {kind.__name__}: {problem}"
        return None
    if isinstance(value, dict) and depth < 32:
        for key, item in value.items():
            problem = _problem(item, depth + 1)
            if problem:
                return f"the entry {key!r}: {problem}"
        return None
    if isinstance(value, float):  # np.float64 and other float subclasses
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and depth < 32:
        for item in dataclasses.fields(value):
            problem = _problem(getattr(value, item.name), depth + 1)
            if problem:
                return f"the field {item.name!r}: {problem}"
        return None
    return (f"it is a {kind.__qualname__} object, not a float or an array of floats; pass "
            f"the arrays to differentiate as separate arguments")
