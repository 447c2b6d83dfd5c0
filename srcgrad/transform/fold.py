"""Final passes over reverse-mode code that knows shapes: the seed folded, adjoints started dense."""
import gast
import numpy as np

from ..runtime import add_at, scalar_seed
from .analyze import nodes_in
from .build import clone, constant
from .optimize import Simplify


def fold_seed(function_def, specializer):
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
             specializer.called(stmt.value) is scalar_seed and stmt.value.args]
    if len(found) != 1:
        return function_def
    index, seed_stmt = found[0]
    seed = seed_stmt.targets[0].id
    shapes = specializer.shape_reader()
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

        def visit_AugAssign(self, node):
            if isinstance(node.target, gast.Subscript) and _reads(node.value, seed) and \
                    (isinstance(node.value, gast.Name) or arithmetic(node.value)):
                if isinstance(node.value, gast.Name):  # d[i] -= dresult: into an array
                    node.value = constant(1.0)
                else:
                    folded(node.value)
                    node.value = Simplify().visit(node.value)
                return node
            return self.generic_visit(node)

        def visit_Call(self, node):
            self.generic_visit(node)
            if specializer.called(node) is add_at and len(node.args) == 3:  # added into an array
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


def _rewrite_in_blocks(body, rewrite):
    """Each block's nested blocks first, then ``rewrite(block, index)`` at each position
    until it says it changed nothing there (a rewrite may make another possible in place)."""
    for stmt in body:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                _rewrite_in_blocks(getattr(stmt, field), rewrite)
    index = 0
    while index < len(body):
        if not rewrite(body, index):
            index += 1


def start_dense(function_def, specializer):
    """``d = zeros_like(x)``, sparse updates ``d[i] += g`` / ``d = add_at(d, i, g)``, then
    ``d += e`` with ``e`` new arithmetic of ``x``'s shape -> ``d = e`` where ``d += e`` was,
    the sparse updates after it: one pass and one array less."""
    shapes = specializer.shape_reader(specializer.final_shapes)

    _rewrite_in_blocks(function_def.body,
                       lambda block, index: _dense_start(block, index, specializer, shapes))
    return function_def


def _dense_start(block, index, specializer, shapes):
    stmt = block[index]
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and
            isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Call) and
            len(stmt.value.args) == 1 and not stmt.value.keywords and
            getattr(specializer.called(stmt.value), "__name__", None) == "zeros_like"):
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
        update = _sparse_update(later, name, specializer)
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


def _sparse_update(stmt, name, specializer):
    """Is ``stmt`` ``d[i] += g`` or ``d = add_at(d, i, g)`` with ``i``, ``g`` not reading d?"""
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Subscript) and \
            isinstance(stmt.target.value, gast.Name) and stmt.target.value.id == name:
        return not _reads(stmt.value, name) and not _reads(stmt.target.slice, name)
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
            isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == name and \
            isinstance(stmt.value, gast.Call) and specializer.called(stmt.value) is add_at and \
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


def _changed_in_place(stmt, specializer):
    """Names whose array ``stmt`` may change in place (``+=``, element writes, method calls,
    ``out=``): those of _changed less the names it only rebinds."""
    rebound = {n.id for n in nodes_in(stmt) if isinstance(n, gast.Name) and
               isinstance(n.ctx, gast.Store)}
    found = _changed(stmt) - rebound
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
        found.add(stmt.target.id)
    for node in nodes_in(stmt):
        if isinstance(node, gast.Call):
            found |= {k.value.id for k in node.keywords
                      if k.arg == "out" and isinstance(k.value, gast.Name)}
            if node.args and isinstance(node.args[0], gast.Name) and \
                    specializer.called(node) is add_at:
                found.add(node.args[0].id)  # add_at(d, i, g) writes into d
    return found


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


def fold_signs(function_def, specializer):
    """``a = -b`` (or ``a = -b * c``) whose readers can take the sign -> ``neg_a = b`` and the
    readers flip: ``d += a * w`` -> ``d -= neg_a * w``, ``d += np.dot(a, v)`` ->
    ``d -= np.dot(neg_a, v)``, ``x - a`` -> ``x + neg_a``: a pass over an array less.

    A reader that cannot take it (``z = a / s``) carries it on (``z = -neg_a / s``) when it is
    the only one, and may hand it on in turn; never more negations than before. A negated name
    (``neg_a = b``) is read as ``b`` itself where ``b`` does not change in between.
    """
    stores, loads, fixed = _name_uses(function_def)
    mutated = _mutated(function_def)
    # Names that may hold the same array as another (d = g hands g's array over): reading one
    # in place of a negation is wrong once the other is updated in place (d -= ...).
    aliased = set()
    for node in nodes_in(function_def):
        if isinstance(node, gast.Call) and node.args and isinstance(node.args[0], gast.Name) \
                and specializer.called(node) is add_at:
            mutated.add(node.args[0].id)  # add_at(d, i, g) writes into d
        elif isinstance(node, gast.Assign) and isinstance(node.value, gast.Name):
            aliased.add(node.value.id)
            if isinstance(node.targets[0], gast.Name):
                aliased.add(node.targets[0].id)
    for name, others in specializer.shared_arrays.items():
        aliased |= {name} | set(others)

    _rewrite_in_blocks(function_def.body, lambda block, index: _fold_sign(
        block, index, specializer, stores, loads, fixed, mutated, aliased))
    return function_def


def _name_uses(function_def):
    from .optimize import name_uses
    return name_uses(function_def)


def _mutated(function_def):
    from .analyze import mutated_names
    return mutated_names(function_def)


def _fold_sign(block, index, specializer, stores, loads, fixed, mutated, aliased=frozenset()):
    from .optimize import _without_negation
    plan = _sign_plan(block, index, specializer, stores, loads, fixed, mutated, "neg_", 0)
    if plan is None or plan[2]:
        return False  # a negation would remain: no pass saved
    rewritten, readers, _ = plan
    stmt, name = block[index], block[index].targets[0].id
    value = _without_negation(stmt.value)
    if isinstance(value, gast.Name) and value.id in aliased:
        return False  # -b was a new array; b itself may be changed in place under a second name
    if isinstance(value, gast.Name) and any(
            value.id in _changed_in_place(block[p], specializer)
            for p in range(index + 1, max(readers) + 1)):
        return False  # neg_a = b would be b's array, which d -= ... changes before neg_a is read
    negated = specializer.names.fresh("neg_" + name)
    for position, candidate in rewritten:
        block[position] = gast.copy_location(_renamed(candidate, "neg_", negated,
                                                      negate=False), block[position])
    copies = []  # x = -a became x = neg_a: read neg_a itself
    for position in readers:
        reader = block[position]
        if isinstance(reader, gast.Assign) and isinstance(reader.value, gast.Name) and \
                reader.value.id == negated and isinstance(reader.targets[0], gast.Name):
            copy = reader.targets[0].id
            if stores.get(copy) == 1 and copy not in fixed | mutated and \
                    sum(_count(s, copy) for s in block[position + 1:]) == loads.get(copy):
                for later in range(position + 1, len(block)):
                    block[later] = _renamed(block[later], copy, negated, negate=False)
                copies.append(position)
    for position in reversed(copies):
        del block[position]
    last = max([p for p in range(index + 1, len(block)) if _reads(block[p], negated)],
               default=index)
    if isinstance(value, gast.Name) and not any(
            value.id in _changed(s) for s in block[index + 1:last]):
        for position in range(index + 1, last + 1):  # neg_a = b: read b
            block[position] = _renamed(block[position], negated, value.id, negate=False)
        del block[index]
    else:
        if isinstance(value, gast.Name) and any(
                value.id in _changed_in_place(s, specializer) for s in block[index + 1:last]):
            # neg_a = b would share b's array, which changes before neg_a's last read (copies
            # renamed to neg_a above may read it later than the readers checked first)
            value = gast.Call(func=specializer.np_function("copy"), args=[value], keywords=[])
        block[index] = gast.copy_location(gast.Assign(
            targets=[gast.Name(id=negated, ctx=gast.Store(), annotation=None,
                               type_comment=None)], value=value, type_comment=None), stmt)
        stores[negated], loads[negated] = 1, loads[name]
        shape = specializer.shape_reader(specializer.final_shapes).of(value)
        if isinstance(shape, tuple):
            specializer.final_shapes[negated] = shape
    return True


def _sign_plan(block, index, specializer, stores, loads, fixed, mutated, placeholder, depth):
    """(readers rewritten to read ``-placeholder``, their positions, how many negations would
    remain after the readers that carry the sign on fold in turn), or None."""
    from .optimize import _negated
    stmt = block[index]
    if depth > 4 or not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and
                         isinstance(stmt.targets[0], gast.Name) and _negated(stmt.value)):
        return None
    name = stmt.targets[0].id
    if stores.get(name) != 1 or name in fixed or name in mutated or not loads.get(name):
        return None
    readers, reads = [], 0
    for position in range(index + 1, len(block)):
        if reads == loads[name]:  # (every read of the name in the function is found)
            break
        count = _count(block[position], name)
        if count:
            readers.append(position)
            reads += count
    if reads != loads[name] or \
            any(not isinstance(block[p], (gast.Assign, gast.AugAssign)) for p in readers):
        return None  # read elsewhere (a nested block, a return, a call statement)
    rewritten, remaining = [], 0
    for position in readers:
        candidate = _renamed(clone(block[position]), name, placeholder)
        candidate = _SignSimplify(specializer).visit(candidate)
        if isinstance(candidate, gast.Assign) and \
                isinstance(candidate.targets[0], gast.Name) and \
                isinstance(block[position].value, (gast.BinOp, gast.UnaryOp)) and \
                not isinstance(candidate.value, (gast.BinOp, gast.UnaryOp)) and \
                (candidate.targets[0].id in fixed | mutated or
                 stores.get(candidate.targets[0].id) != 1):
            # x = --a would make x the array of a, which x then changes (an element write,
            # x[i] = --a, copies the value: nothing is shared)
            return None
        if _negation_reads(candidate.value, placeholder):
            if not isinstance(candidate, gast.Assign):
                return None
            # it carries the sign on: does it fold in turn?
            hypothetical = list(block)
            hypothetical[position] = candidate
            further = _sign_plan(hypothetical, position, specializer, stores, loads, fixed,
                                 mutated, placeholder + "_", depth + 1)
            remaining += 1 if further is None or further[2] else 0
        rewritten.append((position, candidate))
    return rewritten, readers, remaining


def _count(tree, name):
    return sum(1 for n in nodes_in(tree) if isinstance(n, gast.Name) and n.id == name and
               isinstance(n.ctx, gast.Load))


def _renamed(tree, old, new, negate=True):
    """``tree`` reading ``-new`` (or ``new``) where it read ``old``."""
    class Rename(gast.NodeTransformer):
        def visit_Name(self, node):
            if node.id == old and isinstance(node.ctx, gast.Load):
                replacement = gast.Name(id=new, ctx=gast.Load(), annotation=None,
                                        type_comment=None)
                return gast.UnaryOp(op=gast.USub(), operand=replacement) if negate \
                    else replacement
            return node
    return Rename().visit(tree)


def _negation_reads(tree, name):
    """Does a minus sign in ``tree`` still apply to something that reads ``name``?"""
    return any(isinstance(n, gast.UnaryOp) and isinstance(n.op, gast.USub) and
               _reads(n.operand, name) for n in nodes_in(tree))


class _SignSimplify(Simplify):
    """Simplify, and a minus sign moved out of a product's right factor and out of np.dot
    (``a * -b`` -> ``-(a * b)``, ``np.dot(-a, b)`` -> ``-np.dot(a, b)``), where the sums
    around them take it."""

    def __init__(self, specializer):
        self.specializer = specializer

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (gast.Mult, gast.Div, gast.MatMult)) and \
                isinstance(node.right, gast.UnaryOp) and isinstance(node.right.op, gast.USub):
            node = gast.UnaryOp(op=gast.USub(), operand=gast.BinOp(
                left=node.left, op=node.op, right=node.right.operand))
            return self.visit_UnaryOp(node)
        if isinstance(node.op, gast.MatMult) and isinstance(node.left, gast.UnaryOp) and \
                isinstance(node.left.op, gast.USub):
            node = gast.UnaryOp(op=gast.USub(), operand=gast.BinOp(
                left=node.left.operand, op=node.op, right=node.right))
            return self.visit_UnaryOp(node)
        return Simplify.visit_BinOp(self, node)

    def visit_Call(self, node):
        self.generic_visit(node)
        if self.specializer.called(node) is np.dot and len(node.args) == 2 and not node.keywords:
            for position, argument in enumerate(node.args):
                if isinstance(argument, gast.UnaryOp) and isinstance(argument.op, gast.USub):
                    node.args[position] = argument.operand
                    return gast.UnaryOp(op=gast.USub(), operand=node)
        return node
