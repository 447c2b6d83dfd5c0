"""Load a function from a Python file without running the file's work: only what defines it.

``python -m srcgrad show train.py:loss`` must not train. The file is parsed, and only the
statements that define names are executed: imports, ``def`` and ``class`` statements (with their
decorators, so ``@srcgrad.defvjp`` rules register), assignments whose value calls nothing
(``N = 10``, ``SCALE = 2 * np.pi``), srcgrad registrations written as statements
(``srcgrad.non_differentiable(f)``), and ``try`` blocks of such statements (an optional import).
Everything else (calls, loops, ``if __name__ == "__main__":``) is left out. The code keeps the
file's name and line numbers, so srcgrad reads the function's source and reports its lines as
in the file.
"""
from __future__ import annotations

import ast
import pathlib
import sys
import types
from typing import Any, List

# Statement-level calls that only register something with srcgrad, kept so the derivative the
# command shows is the one the script would get.
_REGISTRATIONS = {"non_differentiable", "defvjp", "defjvp"}


def definitions_only(tree: ast.Module) -> ast.Module:
    """The statements of ``tree`` that define names without doing the script's work."""
    return ast.Module(body=_kept(tree.body), type_ignores=[])


def _kept(statements: List[ast.stmt]) -> List[ast.stmt]:
    kept: List[ast.stmt] = []
    for stmt in statements:
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)):
            kept.append(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None and \
                not _calls(stmt.value):
            kept.append(stmt)
        elif isinstance(stmt, ast.Expr) and _is_registration(stmt.value):
            kept.append(stmt)
        elif isinstance(stmt, ast.Try):
            body = _kept(stmt.body)
            if body and len(body) == len(stmt.body):  # only if every statement defines
                handlers = [ast.ExceptHandler(type=h.type, name=h.name,
                                              body=_kept(h.body) or [ast.Pass()])
                            for h in stmt.handlers]
                kept.append(ast.Try(body=body, handlers=handlers, orelse=_kept(stmt.orelse),
                                    finalbody=[]))
    for node in kept:
        ast.fix_missing_locations(node)
    return kept


def _calls(expr: ast.expr) -> bool:
    return any(isinstance(node, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr))
               for node in ast.walk(expr))


def _is_registration(expr: ast.expr) -> bool:
    """``srcgrad.non_differentiable(f)``, ``sg.defvjp(f)(rule)``: a call of a registration."""
    while isinstance(expr, ast.Call):
        expr = expr.func
    return isinstance(expr, ast.Attribute) and expr.attr in _REGISTRATIONS or \
        isinstance(expr, ast.Name) and expr.id in _REGISTRATIONS


def load_definitions(path: pathlib.Path) -> types.ModuleType:
    """The module of ``path`` with only its definitions executed (see the module docstring).

    Registered in ``sys.modules`` under the file's stem, with the file's directory on
    ``sys.path``, so the file's imports of its neighbours work as when it runs.
    """
    path = path.resolve()
    tree = ast.parse(path.read_text(), filename=str(path))
    code = compile(definitions_only(tree), str(path), "exec")
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    sys.modules[path.stem] = module
    exec(code, module.__dict__)
    return module


def evaluate_arguments(text: str, namespace: dict[str, Any]) -> tuple[Any, ...]:
    """The example arguments given on the command line (``"np.ones(3), np.ones((4, 3))"``),
    evaluated with the script's names and NumPy (as ``np``) in scope."""
    import numpy

    scope = {"np": numpy, "numpy": numpy, **namespace}
    value = eval(compile(f"({text},)", "<--args>", "eval"), scope)
    return tuple(value)


__all__ = ["definitions_only", "evaluate_arguments", "load_definitions"]
