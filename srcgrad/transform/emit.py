"""Turn generated gast statements into Python source, compile it, and register it for debuggers."""
import ast
import itertools
import linecache
import re
import warnings

import gast

from .build import constant, nodes_in, statements_in_order

_COMMENT = re.compile(r"^(\s*)(?:'|\"\"\")__srcgrad_comment_(\d+)__(?:'|\"\"\")$", re.MULTILINE)
_ORIGIN = re.compile(r"^\s*(?:'|\"\"\")__srcgrad_origin_(\d+)__(?:'|\"\"\")$")
_counter = itertools.count(1)

# Generated file name -> {generated line: (user line, user text)}, so an error raised inside
# generated code can name the line of the user's function it came from (see srcgrad.tracebacks).
LINE_ORIGINS = {}
GENERATED_FROM = {}  # generated file name -> the file of the function it was generated from


def user_location(filename, lineno):
    """The user's (file, line) behind a line of generated code (followed through code generated
    from generated code); the location itself where it is the user's."""
    while filename in GENERATED_FROM:
        origin = LINE_ORIGINS.get(filename, {}).get(lineno)
        filename, lineno = GENERATED_FROM[filename], origin[0] if origin else None
    return filename, lineno


class GeneratedSource(str):
    """Generated source text that knows, for each of its lines, the user line it came from."""

    line_origins: dict


def _mark_origins(stmts, origins, undo):
    """Put a marker before each statement that records its user line; ``undo`` restores the tree."""
    out = []
    for stmt in stmts:
        origin = getattr(stmt, "sg_origin", None)
        if origin and origin[0]:
            origins.append(origin)
            out.append(gast.Expr(value=constant(f"__srcgrad_origin_{len(origins) - 1}__")))
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner:
                undo.append((stmt, field, inner))
                setattr(stmt, field, _mark_origins(inner, origins, undo))
        out.append(stmt)
    return out


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


class _FoldNoneTests(ast.NodeTransformer):
    """``0 is not None`` -> ``True``, and an ``if`` (or ``a if c else b``) on a constant -> the
    branch that runs.

    A rule that tests an option (``if axis is not None:``) reads so once the call's value is
    substituted; left as it is, the test is dead code and Python warns about ``is`` with a
    literal wherever the text is compiled (a module written by ``--out`` too).
    """

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            left, right = _literal(node.left), _literal(node.comparators[0])
            if left is not _NOT_LITERAL and right is not _NOT_LITERAL and None in (left, right):
                same = left is right
                return ast.Constant(value=same if isinstance(node.ops[0], ast.Is) else not same)
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        return node

    def visit_IfExp(self, node):  # ``weights if True else weights * b``  ->  ``weights``
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        return node



_NOT_LITERAL = object()


def _parenthesize_negative_bases(tree):
    """``Constant(-0.7) ** 2`` (a folded ``-0.7`` raised to a power) as ``(-0.7) ** 2``:
    ast.unparse writes the former ``-0.7 ** 2``, which Python reads as ``-(0.7 ** 2)``. Returns
    whether ``tree`` holds what _FoldNoneTests folds (an ``is``/``is not`` comparison, or a
    branch on a constant), found on the same walk."""
    foldable = False
    for node in nodes_in(tree):
        kind = type(node)
        if kind is gast.BinOp and type(node.op) is gast.Pow and \
                type(node.left) is gast.Constant and \
                type(node.left.value) in (int, float) and node.left.value < 0:
            node.left = gast.UnaryOp(op=gast.USub(), operand=constant(-node.left.value))
        elif kind is gast.Compare:
            foldable = foldable or any(type(op) in (gast.Is, gast.IsNot) for op in node.ops)
        elif (kind is gast.IfExp or kind is gast.If) and type(node.test) is gast.Constant:
            foldable = True
    return foldable


def _literal(node):
    """The value of a constant or a tuple of constants (a rule option's default), else a marker."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple) and all(isinstance(e, ast.Constant) for e in node.elts):
        return tuple(e.value for e in node.elts)
    return _NOT_LITERAL


def fold_none_tests(tree, visit=True):
    """``tree`` (an ast Module) with tests of literals against None decided (_FoldNoneTests),
    ready for ast.unparse; ``visit``: False where nothing folds."""
    if visit:
        tree = _FoldNoneTests().visit(tree)
    _finish_statements(tree.body)
    return tree


def _finish_statements(body):
    """Give each statement that lacks one a line number, and ``pass`` to a block that folding
    left empty. ast.unparse reads the line numbers of statements (to look for type comments)
    and of nothing else: a walk over every node, as ast.fix_missing_locations makes, costs
    more than the unparsing."""
    for stmt in statements_in_order(body):
        if not hasattr(stmt, "lineno"):
            stmt.lineno = 1
        if isinstance(getattr(stmt, "body", None), list) and not stmt.body:
            stmt.body = [ast.Pass(lineno=1)]


def to_source(function_def, comments=()):
    """Python source text of a gast FunctionDef, with comment markers turned into comments.

    The text also carries ``line_origins``: the user line each of its lines came from.
    """
    foldable = _parenthesize_negative_bases(function_def)
    origins, undo = [], []
    body = _mark_origins([function_def], origins, undo)
    try:
        tree = gast.gast_to_ast(gast.Module(body=body, type_ignores=[]))
    finally:
        for stmt, field, inner in reversed(undo):  # the caller's tree stays as it was
            setattr(stmt, field, inner)
    tree = fold_none_tests(tree, visit=foldable)
    text = _COMMENT.sub(lambda m: f"{m.group(1)}# {comments[int(m.group(2))]}", ast.unparse(tree))
    lines, line_origins, current = [], {}, None
    for line in text.splitlines():
        marker = _ORIGIN.match(line)
        if marker:
            current = origins[int(marker.group(1))]
            continue
        lines.append(line)
        if current:
            line_origins[len(lines)] = current
    source = GeneratedSource("\n".join(lines) + "\n")
    source.line_origins = line_origins
    return source


def compile_function(source, name, namespace, label):
    """Execute ``source`` and return the function ``name``; tracebacks and pdb show the source."""
    filename = f"<srcgrad {label} #{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    LINE_ORIGINS[filename] = getattr(source, "line_origins", {})
    with warnings.catch_warnings():
        # A rule's `if axis is not None:` reads `if 0 is not None:` once the call's option is
        # substituted: well defined, but Python warns about `is` with a literal.
        warnings.simplefilter("ignore", SyntaxWarning)
        code = compile(source, filename, "exec")
    scope = dict(namespace)
    exec(code, scope)
    function = scope[name]
    function.__srcgrad_source__ = source
    return function
