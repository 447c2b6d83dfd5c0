"""Final passes over reverse-mode code that knows shapes: the seed folded, adjoints started dense."""
import gast

from ..runtime import add_at, scalar_seed
from .analyze import nodes_in
from .build import clone, constant
from .optimize import Simplify


def fold_seed(function_def, engine):
    """``dresult = scalar_seed(result, 'f')`` where the shapes know ``result`` is a number: the
    check cannot fail and the seed is 1, so arithmetic that reads it multiplies by nothing.

    A read of the seed is replaced by ``1.0`` where the value it goes into is an array anyway
    (arithmetic whose shape is known and not a number's, or a value added into an array): the
    array's dtype decides the result's, as it did with the seed. Once nothing else reads the
    seed, its statement goes, and with it the value computed only for the check.
    """
    body = function_def.body
    found = [(index, stmt) for index, stmt in enumerate(body)
             if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and
             isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Call) and
             engine.called(stmt.value) is scalar_seed and stmt.value.args]
    if len(found) != 1:
        return function_def
    index, seed_stmt = found[0]
    seed = seed_stmt.targets[0].id
    shapes = engine.shape_reader()
    if shapes.of(seed_stmt.value.args[0]) != ():
        return function_def
    if any(isinstance(n, gast.Name) and n.id == seed and not isinstance(n.ctx, gast.Load)
           for stmt in body[index + 1:] for n in nodes_in(stmt)):
        return function_def  # rebound or changed later: not the seed throughout

    def folded(tree):
        """Replace the seed's reads in the arithmetic ``tree`` by 1.0; True if any."""
        changed = False
        for node in nodes_in(tree):
            for field in ("left", "right", "operand"):
                child = getattr(node, field, None)
                if isinstance(child, gast.Name) and child.id == seed and \
                        isinstance(node, (gast.BinOp, gast.UnaryOp)):
                    setattr(node, field, constant(1.0))
                    changed = True
        return changed

    def arithmetic(expr):
        return isinstance(expr, (gast.BinOp, gast.UnaryOp)) and \
            not (isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.MatMult))

    def into_array(expr):
        shape = shapes.of(expr)
        return isinstance(shape, tuple) and shape != ()

    class Fold(gast.NodeTransformer):
        def generic_visit(self, node):
            for field, old in gast.iter_fields(node):
                if isinstance(old, list):
                    old[:] = [self.visit(item) if isinstance(item, gast.AST) else item
                              for item in old]
                elif isinstance(old, gast.AST):
                    setattr(node, field, self.visit(old))
            return node

        def visit_BinOp(self, node):
            return self.tree(node)

        def visit_UnaryOp(self, node):
            return self.tree(node)

        def tree(self, node):
            # the outermost arithmetic: its shape says whether the seed meets an array
            if arithmetic(node) and _reads(node, seed) and into_array(node):
                candidate = clone(node)
                folded(candidate)
                candidate = Simplify().visit(candidate)
                # 1.0 * x is x, but the code may rely on a new array (it updates it in place)
                return candidate if arithmetic(candidate) else node
            return self.generic_visit(node)

        def visit_Call(self, node):
            self.generic_visit(node)
            if engine.called(node) is add_at and len(node.args) == 3:  # added into an array
                value = node.args[2]
                if arithmetic(value) and _reads(value, seed):
                    folded(value)
                    node.args[2] = Simplify().visit(value)
            return node

    for stmt in body[index + 1:]:
        Fold().visit(stmt)
    if not any(_reads(stmt, seed) for stmt in body[index + 1:]):
        del body[index]
    return function_def


def _reads(tree, name):
    return any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)
               for n in nodes_in(tree))


def start_dense(function_def, engine):
    """``d = zeros_like(x)``, sparse updates ``d[i] += g`` / ``d = add_at(d, i, g)``, then
    ``d += e`` with ``e`` new arithmetic of ``x``'s shape -> ``d = e`` where ``d += e`` was,
    the sparse updates after it: one pass and one array less."""
    shapes = engine.shape_reader(dict(engine.batched_shapes))

    def visit(block):
        for stmt in block:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    visit(getattr(stmt, field))
        index = 0
        while index < len(block):
            if not _dense_start(block, index, engine, shapes):
                index += 1

    visit(function_def.body)
    return function_def


def _dense_start(block, index, engine, shapes):
    stmt = block[index]
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and
            isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Call) and
            len(stmt.value.args) == 1 and not stmt.value.keywords and
            getattr(engine.called(stmt.value), "__name__", None) == "zeros_like"):
        return False
    name, like = stmt.targets[0].id, stmt.value.args[0]
    shape = shapes.of(like)
    if not (isinstance(shape, tuple) and shape and None not in shape):
        return False
    sparse = []  # (position, statement)
    for position in range(index + 1, len(block)):
        later = block[position]
        if _is_comment(later):
            continue
        if isinstance(later, (gast.If, gast.For, gast.While, gast.FunctionDef)):
            if _reads(later, name) or name in _changed(later) or \
                    any(_loaded(s) & _changed(later) for _, s in sparse):
                return False
            continue  # a loop that leaves d alone
        update = _sparse_update(later, name, engine)
        if update:
            sparse.append((position, later))
            continue
        if isinstance(later, gast.AugAssign) and isinstance(later.op, gast.Add) and \
                isinstance(later.target, gast.Name) and later.target.id == name:
            value = later.value
            if _reads(value, name) or not isinstance(value, (gast.BinOp, gast.UnaryOp)) or \
                    shapes.of(value) != shape:
                return False
            between = block[sparse[0][0]:position] if sparse else []
            changed = set()
            for s in between:
                if s not in [p[1] for p in sparse]:
                    changed |= _changed(s)
            if any(_loaded(s) & changed for _, s in sparse):
                return False  # a sparse update reads what changes before the dense one
            block[position] = gast.Assign(targets=[gast.Name(id=name, ctx=gast.Store(),
                                                             annotation=None, type_comment=None)],
                                          value=value, type_comment=None)
            gast.copy_location(block[position], later)
            for offset, (_, s) in enumerate(sparse):
                block.insert(position + 1 + offset, s)
            for at, _ in reversed(sparse):
                del block[at]
            del block[index]
            return True
        if _reads(later, name) or name in _changed(later):
            return False
    return False


def _sparse_update(stmt, name, engine):
    """Is ``stmt`` ``d[i] += g`` or ``d = add_at(d, i, g)`` with ``i``, ``g`` not reading d?"""
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Subscript) and \
            isinstance(stmt.target.value, gast.Name) and stmt.target.value.id == name:
        return not _reads(stmt.value, name) and not _reads(stmt.target.slice, name)
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
            isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == name and \
            isinstance(stmt.value, gast.Call) and engine.called(stmt.value) is add_at and \
            len(stmt.value.args) == 3 and isinstance(stmt.value.args[0], gast.Name) and \
            stmt.value.args[0].id == name:
        return not any(_reads(a, name) for a in stmt.value.args[1:])
    return False


def _is_comment(stmt):
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant) and \
        isinstance(stmt.value.value, str)


def _loaded(stmt):
    return {n.id for n in nodes_in(stmt) if isinstance(n, gast.Name) and
            isinstance(n.ctx, gast.Load)}


def _changed(stmt):
    """Names ``stmt`` rebinds or changes in place (element writes, ``+=``, method calls)."""
    found = set()
    for node in nodes_in(stmt):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            found.add(node.id)
        elif isinstance(node, (gast.Subscript, gast.Attribute)) and \
                isinstance(node.ctx, gast.Store) and isinstance(node.value, gast.Name):
            found.add(node.value.id)
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
                isinstance(node.func.value, gast.Name):
            found.add(node.func.value.id)
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
        found.add(stmt.target.id)
    return found
