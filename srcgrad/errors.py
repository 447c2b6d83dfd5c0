"""The errors a user can meet: each names the user's file, line and construct, and says what to do."""
from __future__ import annotations

import builtins
import inspect
import os
import sys
import warnings
from typing import Any, Optional


class SrcgradError(Exception):
    """Base class of every error srcgrad raises on purpose.

    ``filename`` and ``lineno`` name the place in the user's code the error is about, once known.
    """

    filename: Optional[str] = None
    lineno: Optional[int] = None

    def locate(self, filename: str, lineno: Optional[int]) -> None:
        """Name ``filename``, line ``lineno`` at the start of the message, unless it names a place.

        Errors found while transforming already say where; an error found later (a wrong ``wrt``,
        a non-scalar output) learns the place from the traceback (see :mod:`srcgrad.tracebacks`).
        """
        if self.filename is not None:
            return
        self.filename, self.lineno = filename, lineno
        message = str(self.args[0]) if self.args else ""
        if filename in message:  # the message already says where
            return
        where = f"{filename}, line {lineno}" if lineno else filename
        self.args = (f"{where}: {message}",) + tuple(self.args[1:])


    def relocate(self, filename: str, lineno: Optional[int]) -> None:
        """Name ``filename``, line ``lineno`` instead of the place the message names now (srcgrad's
        own code, where a helper differentiated for the user failed)."""
        message = str(self.args[0]) if self.args else ""
        if self.filename is not None:
            prefix = f"{self.filename}, line {self.lineno}: " if self.lineno else f"{self.filename}: "
            if message.startswith(prefix):
                message = message[len(prefix):] + (f" (in srcgrad's {os.path.basename(self.filename)}"
                                                   f", line {self.lineno}, differentiated for "
                                                   f"this line)")
        self.args = (message,) + tuple(self.args[1:])
        self.filename = self.lineno = None
        self.locate(filename, lineno)


class SourceError(SrcgradError):
    """A function's source code cannot be read, so it cannot be transformed."""


class UnsupportedSyntax(SrcgradError):
    """The function uses a construct the transformer does not handle."""

    def __init__(self, construct: str, filename: str, lineno: Optional[int],
                 advice: str = "") -> None:
        self.construct, self.filename, self.lineno = construct, filename, lineno
        where = f"{filename}, line {lineno}" if lineno else filename
        message = f"{where}: srcgrad cannot differentiate {construct}"
        if advice:
            message += f". {advice[:1].upper()}{advice[1:]}"
        super().__init__(message)


class NoDerivativeRule(UnsupportedSyntax):
    """An active value flows into a function that has no derivative rule."""


class NonScalarOutput(SrcgradError, ValueError):
    """`grad` was asked for the gradient of a function whose output is not a scalar."""


class InputTypeError(SrcgradError, TypeError):
    """An argument to differentiate with respect to is not a real floating-point value."""


# Where objects that name a private module (or none) are published.
_PUBLIC_HOMES = ("numpy", "numpy.linalg", "numpy.fft", "scipy.special", "scipy.linalg",
                 "scipy.stats", "scipy.signal", "math", "operator")


def qualified_name(function: Any, written: str = "") -> str:
    """The name a user would import ``function`` by: ``scipy.special.erf``, ``numpy.linalg.det``,
    ``scipy.stats.norm.logpdf``, ``operator.add``; a builtin by its own name (``abs``).

    NumPy ufuncs (scipy.special's functions among them) have no ``__module__``, and many
    functions name a private one, so the public module that holds the object is looked up among
    those already imported. ``written`` is how the user's code spelled it, used when nothing
    better is found.
    """
    name = getattr(function, "__name__", None) or written or repr(function)
    owner = getattr(function, "__self__", None)
    if owner is not None and not inspect.ismodule(owner):  # a bound method: norm.logpdf
        for home in _PUBLIC_HOMES:
            for attribute, value in list(vars(sys.modules.get(home) or object).items()):
                if value is owner:
                    return f"{home}.{attribute}.{name}"
    if getattr(builtins, name, None) is function:
        return name
    module: Optional[str] = getattr(function, "__module__", None)
    if module == "_operator":
        module = "operator"
    if module and getattr(sys.modules.get(module), name, None) is function:
        return _public(module, name, function)
    holders = sorted(m for m, obj in list(sys.modules.items())
                     if obj is not None and _holds(obj, name, function))
    public = [m for m in holders if not any(part.startswith("_") for part in m.split("."))]
    if public:
        return f"{min(public, key=len)}.{name}"
    if module:
        return f"{module}.{getattr(function, '__qualname__', name)}"
    return written or name


def _holds(module: Any, name: str, function: Any) -> bool:
    # Looking a name up may warn (a deprecated alias) or fail in a module with a __getattr__ of
    # its own; neither concerns the user, who only gets a better name in a message.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return getattr(module, name, None) is function
        except Exception:
            return False


def _public(module: str, name: str, function: Any) -> str:
    """``numpy._core.umath.exp`` -> ``numpy.exp``: the shortest public parent holding it."""
    parts = module.split(".")
    for end in range(1, len(parts) + 1):
        candidate = ".".join(parts[:end])
        if _holds(sys.modules.get(candidate), name, function):
            return f"{candidate}.{name}"
    return f"{module}.{name}"


__all__ = ["InputTypeError", "NoDerivativeRule", "NonScalarOutput", "SourceError", "SrcgradError",
           "UnsupportedSyntax", "qualified_name"]
