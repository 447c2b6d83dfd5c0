"""The transformer's layout: it never imports the API it serves (the API hands it a ``link``
for callee derivatives), and its modules stay small enough to read."""
import ast
import pathlib

import pytest

TRANSFORM = pathlib.Path(__file__).resolve().parents[2] / "srcgrad" / "transform"


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or ""), [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_the_transformer_never_imports_the_api():
    offenders = []
    for path in sorted(TRANSFORM.glob("*.py")):
        for module, names in _imports(path):
            if module in ("..api", "srcgrad.api") or \
                    (module in ("..", "srcgrad") and "api" in names):
                offenders.append(f"{path.name}: from {module} import {', '.join(names)}")
    assert not offenders, offenders


def test_every_transform_module_has_a_docstring_line():
    missing = [p.name for p in TRANSFORM.glob("*.py")
               if p.name != "__init__.py" and ast.get_docstring(ast.parse(p.read_text())) is None]
    assert not missing, missing


def _class_lengths():
    for path in sorted(TRANSFORM.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                yield f"{path.name}:{node.name}", node.end_lineno - node.lineno + 1


def test_no_transform_class_is_over_400_lines():
    long = {name: length for name, length in _class_lengths() if length > 400}
    assert not long, long


def test_holding_states_are_defined_once():
    """ZERO/SHARED/OWNED live in holding.py; both modes import them from there."""
    defining = sorted(
        path.name for path in TRANSFORM.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assign) and any(
            isinstance(name, ast.Name) and name.id == "ZERO"
            for target in node.targets for name in ast.walk(target)))
    assert defining == ["holding.py"], defining


def test_one_resolver_of_names_to_objects():
    """scope.resolve serves the user's code and generated code alike."""
    resolvers = sorted(
        f"{path.name}:{node.name}" for path in TRANSFORM.glob("*.py")
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and "resolve" in node.name and
        node.name != "resolve_namespace")
    assert resolvers == ["scope.py:resolve"], resolvers
