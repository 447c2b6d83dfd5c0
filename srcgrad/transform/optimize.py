"""Tidy generated code: fold constants, drop identities, remove assignments nobody reads."""
import operator

import gast

from ..rules import is_non_differentiable, rule_for
from ..runtime import scalar_seed
from .analyze import loaded_names, mutated_names, nodes_in
from .build import clone, statements_in_order
from .scope import resolve

_FOLDABLE = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
             gast.Div: operator.truediv, gast.Pow: operator.pow}


def _number(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)


def _negated(node):
    """Is ``node`` ``-b``, or a product or quotient whose first factor is (``-b * c``)?"""
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div)):
        return _negated(node.left)
    return isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)


def _without_negation(node):
    """``node`` of which _negated is true, without its minus sign."""
    if isinstance(node, gast.BinOp):
        return gast.BinOp(left=_without_negation(node.left), op=node.op, right=node.right)
    return node.operand


def _is(node, value):
    return _number(node) and node.value == value


class Simplify(gast.NodeTransformer):
    """``2 - 1`` -> ``1``, ``x ** 1`` -> ``x``, ``g * 1`` -> ``g``, ``-(-x)`` -> ``x``."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, type(node.op)
        if _number(left) and _number(right) and op in _FOLDABLE:
            try:
                value = _FOLDABLE[op](left.value, right.value)
            except (ArithmeticError, ValueError):
                return node
            if len(repr(value)) > max(len(repr(left.value)), len(repr(right.value))) + 2:
                return node  # 1.0 / 12 reads better than 0.08333333333333333
            return gast.Constant(value=value, kind=None)
        if op is gast.Pow and _is(right, 1):
            return left
        if op is gast.Mult and _is(right, 1):
            return left
        if op is gast.Mult and _is(left, 1):
            return right
        if op in (gast.Add, gast.Sub) and _is(right, 0):
            return left
        if op is gast.Div and _is(right, 1):
            return left
        if op in (gast.Add, gast.Sub) and _negated(right):  # a + -b -> a - b: one pass less
            flipped = gast.Sub() if op is gast.Add else gast.Add()
            return gast.BinOp(left=left, op=flipped, right=_without_negation(right))
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (gast.Add, gast.Sub)) and _negated(node.value):
            node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
            node.value = _without_negation(node.value)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.BinOp) and \
                _negated(node.operand):  # -(-a * b) -> a * b
            return _without_negation(node.operand)
        if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.UnaryOp) and \
                isinstance(node.operand.op, gast.USub):
            return node.operand.operand
        if isinstance(node.op, gast.USub) and _number(node.operand):
            return gast.Constant(value=-node.operand.value, kind=None)
        return node


def simplify(stmts, mutated=None):
    """The statements with identities dropped and constants folded.

    ``y = x * 1.0`` becomes ``y = x`` only where neither name is changed in place anywhere
    (``y[0] = ...``, ``y += ...``): there the copy is what keeps ``x`` intact.
    """
    if mutated is None:
        mutated = set()
        for stmt in stmts:
            mutated |= mutated_names(stmt) | {
                n.target.id for n in nodes_in(stmt)
                if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name)}
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Assign) and not isinstance(stmt.value, gast.Name):
            value = Simplify().visit(clone(stmt.value))
            targets = {n.id for n in nodes_in(stmt.targets[0]) if isinstance(n, gast.Name)}
            if not (isinstance(value, gast.Name) and ({value.id} | targets) & mutated):
                stmt.value = value
            out.append(stmt)
            continue
        if not isinstance(stmt, (gast.If, gast.For, gast.While, gast.FunctionDef)):
            out.append(Simplify().visit(stmt))
            continue
        for field in ("body", "orelse"):
            block = getattr(stmt, field, None)
            if isinstance(block, list):
                setattr(stmt, field, simplify(block, mutated))
        for field in ("test", "iter"):
            part = getattr(stmt, field, None)
            if isinstance(part, gast.AST):
                setattr(stmt, field, Simplify().visit(part))
        out.append(stmt)
    return out


def remove_dead_assignments(function_def, namespace):
    """Drop side-effect-free assignments to names that nothing reads, until none is left."""
    while True:
        read = set()
        for node in nodes_in(function_def):
            kind = type(node)
            if kind is gast.Name and type(node.ctx) is gast.Load:
                read.add(node.id)
            elif kind is gast.AugAssign and type(node.target) is gast.Name:
                read.add(node.target.id)  # ``x += y`` reads x too
        removed = False

        def prune(stmts):
            nonlocal removed
            kept = []
            for stmt in stmts:
                if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
                        isinstance(stmt.targets[0], gast.Name) and \
                        stmt.targets[0].id not in read and _pure(stmt.value, namespace):
                    removed = True
                    continue
                if isinstance(getattr(stmt, "body", None), list):
                    stmt.body = prune(stmt.body)
                if isinstance(getattr(stmt, "orelse", None), list):
                    stmt.orelse = prune(stmt.orelse)
                kept.append(stmt)
            return kept

        function_def.body = drop_empty_branches(drop_dangling_comments(prune(function_def.body)))
        if not removed:
            return function_def


def propagate_copies(function_def):
    """``a = b`` followed by reads of ``a`` -> the reads read ``b``, and the copy goes.

    Only where it cannot change a value: ``a`` is bound nowhere else and read only later in the
    same block (not in a nested function), and nothing rebinds ``b`` before the last read.
    Mutating ``b`` in place is fine: ``a`` and ``b`` are the same object.
    """
    stores, loads, fixed = name_uses(function_def)
    cache = {}
    remove_in_blocks(function_def.body, lambda block, index: _propagated(
        block, index, stores, loads, fixed, cache))
    return function_def


def remove_in_blocks(body, removed, step_back=False):
    """Visit every statement of ``body`` and of the blocks nested in it (a statement's own
    blocks first); drop those for which ``removed(block, index)``, which has rewritten what it
    needed to, says True. ``step_back``: look at the statement before a dropped one again."""
    index = 0
    while index < len(body):
        stmt = body[index]
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                remove_in_blocks(getattr(stmt, field), removed, step_back)
        if removed(body, index):
            del body[index]
            if step_back:
                index = max(index - 1, 0)
        else:
            index += 1


LINE_LENGTH = 88  # a value is written into the line that uses it only if that line stays this short


def inline_single_use(function_def, namespace, shared_arrays=None):
    """``t = a * b`` read once, by the next statements of the same block -> the reader says
    ``a * b`` itself, where the line stays short.

    Reads like the user's own nested expressions, and frees each temporary array as soon as it
    is used (a name keeps its array alive until the function returns). Only pure expressions
    move, and only past statements that change none of the names they read, nor any name
    holding the same array (``shared_arrays``: name -> names sharing its array), nor past a
    write into an array a name they read may be a view of (``t = m[0]`` read after the adjoint
    puts m's elements back).
    """
    stores, loads, fixed = name_uses(function_def)
    cache = {}
    views = _views(function_def, namespace)
    # After a value moves, the statement before may move into its reader too.
    remove_in_blocks(function_def.body, lambda block, index: _inlined(
        block, index, stores, loads, fixed, namespace, cache, shared_arrays or {}, views),
        step_back=True)
    function_def.body = drop_dangling_comments(function_def.body)  # its lines went into others
    return function_def


def _views(function_def, namespace):
    """name -> the names whose array it may be (or view): ``t = m``, ``t = m[0]``, ``m.T``..."""
    from .aliasing import _aliased_name
    views = {}
    for node in statements_in_order(function_def.body):  # assignments are statements
        if isinstance(node, gast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], gast.Name):
            source = _aliased_name(node.value, namespace)
            if source is not None and source != node.targets[0].id:
                views.setdefault(node.targets[0].id, set()).add(source)
    changed = True
    while changed:  # views of views
        changed = False
        for name, sources in views.items():
            more = set().union(*(views.get(s, ()) for s in sources)) - sources - {name}
            if more:
                sources |= more
                changed = True
    return views


def _inlined(block, index, stores, loads, fixed, namespace, cache, shared_arrays, views):
    stmt = block[index]
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and
            isinstance(stmt.targets[0], gast.Name)):
        return False
    name, value = stmt.targets[0].id, stmt.value
    if loads.get(name) != 1 or stores.get(name) != 1 or name in fixed or \
            not _once(cache, "pure", value, lambda node: _pure(node, namespace) and
                      not _seeds(node, namespace)):
        return False
    read = loaded_names(value)  # and the names that hold the same arrays as those it reads
    read |= set().union(*(shared_arrays.get(used, ()) for used in read))
    viewed = set().union(*(views.get(used, ()) for used in read))  # changed in place: changed
    for position in range(index + 1, len(block)):
        reader = block[position]
        loads_here, changed_here, stored_here = _facts(reader, cache)
        if loads_here.get(name):
            break
        if isinstance(reader, (gast.If, gast.For, gast.While, gast.FunctionDef)) or \
                changed_here & read or (changed_here - stored_here) & viewed:
            return False
    else:
        return False
    if not isinstance(reader, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return)) or \
            _once(cache, "changed first", reader, _changed_before_use) & read or \
            _once(cache, "seeds", reader, lambda node: _seeds(node, namespace)):
        return False  # the returned value and the seed keep their own lines
    targets = reader.targets if isinstance(reader, gast.Assign) else \
        [reader.target] if isinstance(reader, gast.AugAssign) else []
    if any(isinstance(n, gast.Name) and n.id == name for t in targets for n in nodes_in(t)):
        return False  # y = a * 1.0; y[0] = v writes into y: the value must keep its name
    # The line's length bounds without unparsing the candidate (the value may gain a pair of
    # parentheses where it goes); unparse only when the bounds straddle the limit.
    uses = loads_here[name]
    shortest = len(_text(reader, cache)) + (len(_text(value, cache)) - len(name)) * uses + 8
    if shortest > LINE_LENGTH:
        return False
    candidate = clone(reader)
    for node in gast.walk(candidate):
        for field, child in gast.iter_fields(node):
            if isinstance(child, gast.Name) and child.id == name and \
                    isinstance(child.ctx, gast.Load):
                setattr(node, field, clone(value))
            elif isinstance(child, list):
                for i, item in enumerate(child):
                    if isinstance(item, gast.Name) and item.id == name and \
                            isinstance(item.ctx, gast.Load):
                        child[i] = clone(value)
    if shortest + 2 * uses > LINE_LENGTH and len(_unparse(candidate)) + 8 > LINE_LENGTH:
        return False  # 8: room for two levels of indentation
    candidate = Simplify().visit(candidate)  # what inlining brought together
    if isinstance(candidate, gast.Assign) and _is_new(reader.value) and \
            not _is_new(candidate.value):
        return False  # -(-a) would become plain a: the target must stay a new array
    block[position] = candidate
    return True


def _is_new(expr):
    """Arithmetic, which makes a new array (a name, an item or a helper's result may share
    memory with another name's, and the code may rely on the difference)."""
    return isinstance(expr, (gast.BinOp, gast.UnaryOp))


def _seeds(node, namespace):
    return any(resolve(n.func, namespace) is scalar_seed for n in nodes_in(node)
               if isinstance(n, gast.Call))


def _changed_before_use(stmt):
    """What ``stmt`` changes before it reads its values: nothing, except calls that mutate."""
    return {n.func.value.id for n in nodes_in(stmt)
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and
            isinstance(n.func.value, gast.Name)}


def _once(cache, kind, node, compute):
    """``compute(node)``, worked out once per node in a pass (``cache`` keeps the nodes alive,
    so ids stay unique)."""
    key = (kind, id(node))
    found = cache.get(key)
    if found is None or found[0] is not node:
        found = cache[key] = (node, compute(node))
    return found[1]


def _text(node, cache):
    """The source text of ``node``, worked out once per node in a pass (``cache`` keeps the
    nodes alive, so ids stay unique)."""
    return _once(cache, "text", node, _unparse)


def _unparse(node):
    import ast
    return ast.unparse(gast.gast_to_ast(node))


def name_uses(tree):
    """How often each name is bound and read, and the names never to replace (parameters,
    targets of ``+=``, names read inside nested functions)."""
    stores, loads, fixed = {}, {}, set()
    Name, Load, Store, Param = gast.Name, gast.Load, gast.Store, gast.Param
    for node in nodes_in(tree):
        kind = type(node)
        if kind is Name:
            context = type(node.ctx)
            if context is Load:
                loads[node.id] = loads.get(node.id, 0) + 1
            elif context is Store:
                stores[node.id] = stores.get(node.id, 0) + 1
            elif context is Param:
                fixed.add(node.id)
        elif kind is gast.AugAssign:
            fixed |= {n.id for n in nodes_in(node.target) if type(n) is Name}
        elif (kind is gast.FunctionDef or kind is gast.Lambda) and node is not tree:
            fixed |= loaded_names(node)
    return stores, loads, fixed


def _propagated(block, index, stores, loads, fixed, cache):
    """Replace the reads of the copy ``block[index]`` if that is safe; True when done."""
    stmt = block[index]
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and
            isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Name)):
        return False
    copy_name, source = stmt.targets[0].id, stmt.value.id
    if copy_name == source or stores.get(copy_name) != 1 or copy_name in fixed:
        return False
    wanted, found, last = loads.get(copy_name, 0), 0, None
    for position in range(index + 1, len(block)):
        if found == wanted:  # (every read of the copy in the function is found)
            break
        count = _facts(block[position], cache)[0].get(copy_name, 0)
        if count:
            found, last = found + count, position
    if found != wanted or not found:
        return False
    between = block[index + 1:last]
    if isinstance(block[last], (gast.If, gast.For, gast.While)):
        between = between + [block[last]]
    if any(source in _facts(s, cache)[2] for s in between):
        return False
    for later in block[index + 1:last + 1]:
        for node in nodes_in(later):
            if isinstance(node, gast.Name) and node.id == copy_name and \
                    isinstance(node.ctx, gast.Load):
                node.id = source
                cache.pop(id(later), None)  # changed in place: its facts are out of date
    loads[source] = loads.get(source, 0) + loads.pop(copy_name)
    return True


def _facts(stmt, cache):
    """(name -> how often ``stmt`` reads it, names it changes, names it rebinds), worked out in
    one walk, once per statement in a pass (which asks for the statements after each candidate:
    quadratic if every question walked the tree again). ``cache`` keeps the statements alive,
    so ids stay unique."""
    found = cache.get(id(stmt))
    if found is None or found[0] is not stmt:
        loads, changed, stored = {}, set(), set()
        for node in nodes_in(stmt):
            if isinstance(node, gast.Name):
                if isinstance(node.ctx, gast.Load):
                    loads[node.id] = loads.get(node.id, 0) + 1
                elif isinstance(node.ctx, gast.Store):
                    stored.add(node.id)
            elif isinstance(node, (gast.Subscript, gast.Attribute)):
                if isinstance(node.value, gast.Name) and isinstance(node.ctx, gast.Store):
                    changed.add(node.value.id)  # x[i] = v
            elif isinstance(node, gast.Call):
                if isinstance(node.func, gast.Attribute) and isinstance(node.func.value, gast.Name):
                    changed.add(node.func.value.id)  # items.append(v), stack.pop()
        found = cache[id(stmt)] = (stmt, loads, changed | stored, stored)
    return found[1:]


def _pure(expr, namespace):
    """True when evaluating ``expr`` has no effect beyond its value (NumPy math, indexing...)."""
    for node in nodes_in(expr):
        if isinstance(node, gast.Call):
            function = resolve(node.func, namespace)
            if function is None or not (rule_for(function) or is_non_differentiable(function)):
                return False
        elif isinstance(node, (gast.Yield, gast.YieldFrom, gast.Await, gast.NamedExpr)):
            return False
    return True


_INVERSE = {gast.Eq: gast.NotEq, gast.NotEq: gast.Eq, gast.Is: gast.IsNot, gast.IsNot: gast.Is,
            gast.In: gast.NotIn, gast.NotIn: gast.In}


def negate(test):
    """``not test``, written the way a person would: ``a != b`` for ``not a == b``."""
    if isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not):
        return test.operand
    if isinstance(test, gast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _INVERSE:
        return gast.Compare(left=test.left, ops=[_INVERSE[type(test.ops[0])]()],
                            comparators=test.comparators)
    return gast.UnaryOp(op=gast.Not(), operand=test)


def drop_empty_branches(stmts):
    """``if c: pass else: b`` -> ``if not c: b``; an if with nothing in it disappears."""
    out = []
    for stmt in stmts:
        if isinstance(getattr(stmt, "body", None), list):
            stmt.body = drop_empty_branches(stmt.body)
        if isinstance(getattr(stmt, "orelse", None), list):
            stmt.orelse = drop_empty_branches(stmt.orelse)
        if isinstance(stmt, gast.If):
            empty = not stmt.body or all(isinstance(s, gast.Pass) for s in stmt.body)
            if empty and not stmt.orelse and _pure_test(stmt.test):
                continue
            if empty and stmt.orelse:
                stmt.test, stmt.body, stmt.orelse = negate(stmt.test), stmt.orelse, []
            elif not stmt.body:
                stmt.body = [gast.Pass()]
        elif isinstance(stmt, (gast.For, gast.While)) and not stmt.body:
            stmt.body = [gast.Pass()]
        out.append(stmt)
    return out


def _pure_test(test):
    return not any(isinstance(n, gast.Call) for n in nodes_in(test))


def _is_comment(stmt):
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant) and \
        isinstance(stmt.value.value, str) and stmt.value.value.startswith("__srcgrad_comment_")


def drop_dangling_comments(stmts):
    """A comment whose statements were all removed goes too."""
    out = []
    for index, stmt in enumerate(stmts):
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, drop_dangling_comments(getattr(stmt, field)))
        following = stmts[index + 1] if index + 1 < len(stmts) else None
        if _is_comment(stmt) and (following is None or _is_comment(following)):
            continue
        out.append(stmt)
    return out
