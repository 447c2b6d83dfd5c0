"""Turn generated gast statements into Python source, compile it, and register it for debuggers."""
import ast
import itertools
import linecache
import re

import gast

from .build import constant

_COMMENT = re.compile(r"^(\s*)(?:'|\"\"\")__srcgrad_comment_(\d+)__(?:'|\"\"\")$", re.MULTILINE)
_counter = itertools.count(1)


def with_origin_comments(stmts, comments):
    """Insert a marker before each run of statements that comes from one user line."""
    out, previous = [], None
    for stmt in stmts:
        origin = getattr(stmt, "sg_origin", None)
        if origin and origin != previous and origin[1]:
            comments.append(f"line {origin[0]}: {origin[1]}")
            out.append(gast.Expr(value=constant(f"__srcgrad_comment_{len(comments) - 1}__")))
        previous = origin or previous
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list) and getattr(stmt, field):
                setattr(stmt, field, with_origin_comments(getattr(stmt, field), comments))
        out.append(stmt)
    return out


def to_source(function_def, comments=()):
    """Python source text of a gast FunctionDef, with comment markers turned into comments."""
    tree = gast.gast_to_ast(gast.Module(body=[function_def], type_ignores=[]))
    ast.fix_missing_locations(tree)
    text = ast.unparse(tree)
    return _COMMENT.sub(lambda m: f"{m.group(1)}# {comments[int(m.group(2))]}", text) + "\n"


def compile_function(source, name, namespace, label):
    """Execute ``source`` and return the function ``name``; tracebacks and pdb show the source."""
    filename = f"<srcgrad {label} #{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    scope = dict(namespace)
    exec(code, scope)
    function = scope[name]
    function.__srcgrad_source__ = source
    return function
