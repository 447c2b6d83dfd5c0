"""Write generated derivatives as a standalone module that imports everything its code calls.

The text ``srcgrad.source`` shows refers to names bound when the code was compiled: ``np``, the
runtime helpers (``unbroadcast``, ``scalar_seed``), the user's own functions and constants. A copy
of that text runs only where those names exist, so :func:`module_source` writes, above the code,
one import (or constant) per name the code reads and does not define.
"""
from __future__ import annotations

import ast
import builtins
import types
from typing import Any, Dict, List, Optional

from .api import Derivative, generated_code
from .errors import SrcgradError, qualified_name

_LITERALS = (int, float, complex, bool, str, bytes, type(None))


def module_source(derivative: Derivative, *args: Any, **kwargs: Any) -> str:
    """A Python module holding the code of :func:`srcgrad.source` and the imports it needs.

    With example arguments the code is the version specialized to their shapes.
    """
    parts = generated_code(derivative, *args, **kwargs)
    code = "\n\n".join(g.source for g in parts)
    namespace: Dict[str, Any] = {}
    for generated in parts:
        namespace.update(getattr(generated.function, "__globals__", {}))
    lines = [f'"""The derivative srcgrad generated for {derivative.function.__qualname__} '
             f'({derivative.mode}, wrt={derivative.wrt!r}).',
             "",
             "Written by python -m srcgrad show --out; it needs srcgrad (for the runtime helpers)",
             'and the modules imported below, and runs without transforming anything."""']
    lines += [_binding(name, namespace[name]) for name in sorted(free_names(code))
              if name in namespace]
    missing = sorted(n for n in free_names(code) if n not in namespace)
    if missing:
        raise SrcgradError(f"the generated code reads {', '.join(missing)}, which it does not "
                           f"define and srcgrad cannot find")
    return "\n".join(_ordered(lines)) + "\n\n\n" + code


def free_names(code: str) -> set[str]:
    """Names the code reads but neither defines, binds nor gets from builtins."""
    tree = ast.parse(code)
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return {n for n in loaded - bound if not hasattr(builtins, n)}


def _binding(name: str, value: Any) -> str:
    """One line that binds ``name`` to ``value`` in a fresh module."""
    if isinstance(value, types.ModuleType):
        full_name = value.__name__
        if name == full_name:
            return f"import {full_name}"
        if "." in full_name:
            parent, _, leaf = full_name.rpartition(".")
            return f"from {parent} import {leaf}" + (f" as {name}" if name != leaf else "")
        return f"import {full_name} as {name}"
    if isinstance(value, _LITERALS) and ast.literal_eval(repr(value)) == value:
        return f"{name} = {value!r}"
    module: Optional[str] = getattr(value, "__module__", None)
    qualname: Optional[str] = getattr(value, "__qualname__", None)
    if isinstance(value, Derivative):  # a derivative object the code calls: rebuild it
        return (f"{name} = srcgrad.api.derivative({_reference(value.function)}, "
                f"{value.wrt!r}, {value.mode!r})")
    if module is None:  # NumPy ufuncs (scipy.special's too) name no module of their own
        module, _, qualname = qualified_name(value).rpartition(".")
    if not module or not qualname or "<" in qualname:
        raise SrcgradError(f"the generated code reads {name} ({value!r}), which cannot be "
                           f"imported in a standalone module")
    if "." in qualname:  # a method or nested name: import the outer object, then reach in
        outer = qualname.split(".")[0]
        return f"from {module} import {outer}\n{name} = {qualname}"
    return f"from {module} import {qualname}" + (f" as {name}" if name != qualname else "")


def _reference(function: Any) -> str:
    return f"__import__({function.__module__!r}, fromlist=['_']).{function.__qualname__}"


def _ordered(lines: List[str]) -> List[str]:
    """The docstring, then imports (one line per module), then bindings that may use them."""
    docstring, rest = lines[:4], [part for line in lines[4:] for part in line.split("\n")]
    plain = sorted({line for line in rest if line.startswith("import ")})
    from_lines: Dict[str, List[str]] = {}
    for line in rest:
        if line.startswith("from "):
            module, _, names = line[len("from "):].partition(" import ")
            from_lines.setdefault(module, []).append(names)
    others = [line for line in rest if not line.startswith(("import ", "from "))]
    if any("srcgrad.api." in line for line in others):
        plain.append("import srcgrad.api")
    imports = plain + [f"from {module} import {', '.join(sorted(set(names)))}"
                       for module, names in sorted(from_lines.items())]
    return docstring + [""] + imports + others


__all__ = ["free_names", "module_source"]
