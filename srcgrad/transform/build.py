"""Small constructors for gast nodes, so passes read as what they build."""
import gast


def load(name):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def store(name):
    return gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)


def constant(value):
    return gast.Constant(value=value, kind=None)


def assign(target, value, like=None):
    """``target = value``; ``like`` lends its line number and origin to the new statement."""
    node = gast.Assign(targets=[store(target) if isinstance(target, str) else target],
                       value=value, type_comment=None)
    return located(node, like)


def call(function, *args, keywords=()):
    func = load(function) if isinstance(function, str) else function
    return gast.Call(func=func, args=list(args), keywords=list(keywords))


def expr_stmt(value, like=None):
    return located(gast.Expr(value=value), like)


def located(node, like):
    """Copy the source line (and the user statement it came from) of ``like`` onto ``node``."""
    if like is not None:
        gast.copy_location(node, like)
        if hasattr(like, "sg_origin"):
            node.sg_origin = like.sg_origin
    return node


def subscript(value, index):
    return gast.Subscript(value=value, slice=index, ctx=gast.Load())


def as_load(node):
    """A Load-context copy of a Name used as a store target."""
    return load(node.id) if isinstance(node, gast.Name) else node


def as_load_expr(expr):
    """A Load-context copy of an expression (a name, attribute or subscript)."""
    copy = clone(expr)
    for node in gast.walk(copy):
        if hasattr(node, "ctx"):
            node.ctx = gast.Load()
    return copy


def clone(node):
    """A deep copy of a gast tree (or list of them), several times quicker than copy.deepcopy.

    Node attributes that are not nodes (names, numbers, the objects ``sg_function`` points to,
    analysis sets) are shared, as they are never changed in place.
    """
    kind = type(node)
    if kind is list:
        return [clone(item) for item in node]
    if kind in _SHARED or not isinstance(node, gast.AST):
        return node
    new = kind.__new__(kind)
    new.__dict__.update({key: value if type(value) in _SHARED else clone(value)
                         for key, value in node.__dict__.items()})
    return new


# Never changed in place (a context is replaced, not edited): copies may share them.
_SHARED = {str, int, float, bool, type(None), gast.Load, gast.Store, gast.Param, gast.Del}


def nodes_in(root):
    """Every node under ``root`` (itself included) but the contexts (``Load``, ``Store`` ...,
    read through ``node.ctx``), depth first: ``gast.walk`` without its per-node overhead, for
    the analyses that only collect (the order differs)."""
    stack = [root]
    pop, push, extend = stack.pop, stack.append, stack.extend
    fields_of = _CHILD_FIELDS
    while stack:
        node = pop()
        yield node
        kind = type(node)
        fields = fields_of.get(kind)
        if fields is None:
            fields = fields_of[kind] = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
        for field in fields:
            child = getattr(node, field, None)
            if type(child) is list:  # kw_defaults hold None, Global.names strings
                extend([item for item in child if isinstance(item, gast.AST)])
            elif isinstance(child, gast.AST):
                push(child)


# Fields that never hold a node worth visiting: contexts, and names, numbers and flags (not
# "name": gast makes the name of `except E as name` a Name node).
_LEAF_FIELDS = {"ctx", "id", "attr", "arg", "kind", "type_comment", "module", "level",
                "conversion", "is_async", "simple", "asname"}
_CHILD_FIELDS = {}  # node class -> its fields that may hold nodes


def elementwise_operands(expr):
    """(parent, field, index, node) for each node reached from ``expr`` through elementwise
    arithmetic and comparisons only (``expr`` itself excluded)."""
    found = []

    def visit(node):
        if isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            children = [("left", None, node.left), ("right", None, node.right)]
        elif isinstance(node, gast.UnaryOp):
            children = [("operand", None, node.operand)]
        elif isinstance(node, gast.Compare):
            children = [("left", None, node.left)] + [
                ("comparators", i, c) for i, c in enumerate(node.comparators)]
        else:
            return
        for field, index, child in children:
            found.append((node, field, index, child))
            visit(child)

    visit(expr)
    return found


def put_child(parent, field, index, value):
    """Set ``parent.field`` (``index`` None) or ``parent.field[index]`` to ``value``."""
    if index is None:
        setattr(parent, field, value)
    else:
        getattr(parent, field)[index] = value


def rewrite_for_loops(body, rewrite):
    """Call ``rewrite(block, index)`` for each ``for`` loop ``block[index]`` in ``body`` and the
    blocks nested in it (a statement's own blocks first); it may put statements before and
    after the loop, and returns how many: (before, after)."""
    index = 0
    while index < len(body):
        stmt = body[index]
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                rewrite_for_loops(getattr(stmt, field), rewrite)
        if isinstance(stmt, gast.For):
            before, after = rewrite(body, index)
            index += before + after
        index += 1


def replace_in_blocks(stmts, replacement):
    """``stmts`` with each statement, its own blocks done first, replaced by the list of
    statements ``replacement(stmt)`` returns (the nested blocks of ``stmts`` in place)."""
    out = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, replace_in_blocks(inner, replacement))
        out += replacement(stmt)
    return out


def statements_in_order(body):
    """The statements of ``body`` and of the blocks nested in them, in the order written (gast or
    ast alike; a block made while iterating is walked as it is then)."""
    for stmt in body:
        yield stmt
        for field in ("body", "orelse", "handlers", "finalbody"):
            block = getattr(stmt, field, None)
            if isinstance(block, list):
                yield from statements_in_order(block)
