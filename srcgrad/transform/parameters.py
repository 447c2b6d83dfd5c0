"""The parameters of a function being differentiated: which ``wrt`` names, and the names of
the tangent parameters its forward derivative takes (known before it is generated)."""

from ..errors import SrcgradError
from .analyze import loaded_names, local_names, parameter_names
from .names import NameAllocator
from .parse import parse_function


def wrt_names(parsed, wrt):
    """Parameter names for ``wrt`` given as an index, a name, or a tuple of them."""
    params = parameter_names(parsed.tree)
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    names = []
    for item in items:
        if isinstance(item, int) and -len(params) <= item < len(params):
            names.append(params[item])
        elif isinstance(item, str) and item in params:
            names.append(item)
        else:
            packed = [("*" if a is parsed.tree.args.vararg else "**") + a.id
                      for a in (parsed.tree.args.vararg, parsed.tree.args.kwarg) if a is not None]
            shown = ", ".join(params + packed)
            verb = "are read as constants" if len(packed) > 1 else "is read as a constant"
            advice = "give positions or parameter names" + (
                f" ({' and '.join(packed)} {verb}, never differentiated)" if packed else "")
            raise SrcgradError(f"wrt={wrt!r} does not name a parameter of {parsed.name}"
                               f"({shown}); {advice}")
    return names


def tangent_parameters(function, wrt, source=None):
    """The names of the tangent parameters of ``function``'s generated jvp, in ``wrt`` order.

    Named before anything else is, so a caller can pass them by keyword without generating it.
    """
    parsed = parse_function(function, source)
    names = allocator(parsed.tree)
    return [names.fresh("d" + p) for p in wrt_names(parsed, wrt)]


def allocator(tree):
    return NameAllocator(local_names(tree) | loaded_names(tree) | {tree.name})
