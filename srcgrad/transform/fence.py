"""The language fence: every syntax node of a function is one the transformer handles, or an error.

The list is a whitelist. A node type that is not named below (a construct of a newer Python,
say) is refused at the user's file and line, never passed through, so no construct can reach
the derivative passes without having been thought about. Constructs that the later passes
support only in some positions (a tuple of differentiated values, a comprehension over them)
are refused there, by the pass that knows the position; this module refuses what is never
right anywhere in a differentiated function.
"""
import gast

from . import contexts

# Handled by the passes (statements, expressions and the small nodes they are made of).
HANDLED = frozenset({
    # statements
    gast.FunctionDef, gast.Return, gast.Assign, gast.AugAssign, gast.AnnAssign, gast.For,
    gast.While, gast.If, gast.Expr, gast.Pass, gast.Break, gast.Continue, gast.Raise,
    gast.Assert, gast.Import, gast.ImportFrom, gast.alias, gast.With, gast.withitem,
    # expressions
    gast.BoolOp, gast.NamedExpr, gast.BinOp, gast.UnaryOp, gast.Lambda, gast.IfExp, gast.Dict,
    gast.Set, gast.ListComp, gast.GeneratorExp, gast.Compare, gast.Call, gast.FormattedValue,
    gast.JoinedStr, gast.Constant, gast.Attribute, gast.Subscript, gast.Starred, gast.Name,
    gast.List, gast.Tuple, gast.Slice,
    # parts of the above
    gast.arguments, gast.keyword, gast.comprehension, gast.Load, gast.Store, gast.Param,
    gast.Del, gast.And, gast.Or, gast.Add, gast.Sub, gast.Mult, gast.MatMult, gast.Div,
    gast.Mod, gast.Pow, gast.LShift, gast.RShift, gast.BitOr, gast.BitXor, gast.BitAnd,
    gast.FloorDiv, gast.Invert, gast.Not, gast.UAdd, gast.USub, gast.Eq, gast.NotEq, gast.Lt,
    gast.LtE, gast.Gt, gast.GtE, gast.Is, gast.IsNot, gast.In, gast.NotIn,
})

# Refused wherever they appear: (what the user wrote, what to do instead).
REFUSED = {
    gast.Try: ("try/except", "move error handling outside the differentiated function"),
    gast.ExceptHandler: ("try/except", "move error handling outside the differentiated function"),
    gast.AsyncFunctionDef: ("an async def", "differentiate a plain def"),
    gast.AsyncFor: ("async for", "use a plain for loop"),
    gast.AsyncWith: ("async with", "move it outside the differentiated function"),
    gast.Await: ("await", "differentiate a plain def"),
    gast.Yield: ("a generator (yield)", "return a value or a list instead"),
    gast.YieldFrom: ("a generator (yield from)", "return a value or a list instead"),
    gast.ClassDef: ("a class definition", "define the class at module level"),
    gast.Global: ("a global statement", "pass the value in as an argument and return it"),
    gast.Nonlocal: ("a nonlocal statement", "pass the value in as an argument and return it"),
    gast.Delete: ("a del statement", "let the name go out of scope instead"),
    gast.SetComp: ("a set comprehension", "build a list with a for loop"),
    gast.DictComp: ("a dict comprehension", "build the dict with a for loop"),
    gast.Match: ("a match statement", "write it as if/elif"),
    gast.match_case: ("a match statement", "write it as if/elif"),
    gast.TryStar: ("try/except*", "move error handling outside the differentiated function"),
    gast.TypeAlias: ("a type alias statement", "define it at module level"),
}
for _pattern in ("MatchValue", "MatchSingleton", "MatchSequence", "MatchMapping", "MatchClass",
                 "MatchStar", "MatchAs", "MatchOr"):
    REFUSED[getattr(gast, _pattern)] = ("a match statement", "write it as if/elif")
for _other in ("TemplateStr", "Interpolation", "TypeVar", "ParamSpec", "TypeVarTuple"):
    if hasattr(gast, _other):  # newer Pythons only
        REFUSED[getattr(gast, _other)] = (f"the construct {_other}",
                                          "write it with plain expressions")

# Keywords that make a NumPy function write into an array instead of returning a new one.
WRITING_KEYWORDS = {"out": "assign the result instead: y = f(...)"}


def check(parsed, tree):
    """Raise UnsupportedSyntax at the first construct of ``tree`` outside the language."""
    for node in _walk_located(tree):
        kind, located = node
        if type(kind) in HANDLED:
            _check_position(parsed, kind, located)
            continue
        construct, advice = REFUSED.get(type(kind), (
            f"the construct {type(kind).__name__}",
            "rewrite it with the statements listed under 'What srcgrad refuses' in the README"))
        raise parsed.unsupported(located, construct, advice)


def _check_position(parsed, node, located):
    if isinstance(node, gast.Call):
        for keyword in node.keywords:
            if keyword.arg in WRITING_KEYWORDS:
                raise parsed.unsupported(
                    located, f"a call with {keyword.arg}= (it writes into an existing array)",
                    WRITING_KEYWORDS[keyword.arg])
    elif isinstance(node, gast.With):
        contexts.check(parsed, node)  # np.errstate and warnings.catch_warnings only
    elif isinstance(node, gast.Assign):
        for target in node.targets:
            for part in gast.walk(target):
                if isinstance(part, gast.Starred):
                    raise parsed.unsupported(located, "a starred assignment (a, *rest = ...)",
                                             "index the parts: a, rest = v[0], v[1:]")


def _walk_located(tree):
    """(node, the nearest node with a line number) for every node of ``tree``."""
    pending = [(tree, tree)]
    while pending:
        node, located = pending.pop()
        if hasattr(node, "lineno") and getattr(node, "lineno", None):
            located = node
        yield node, located
        pending.extend((child, located) for child in reversed(list(gast.iter_child_nodes(node))))
