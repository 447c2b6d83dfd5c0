"""Final tidying of reverse-mode code that knows shapes: the seed of grad folded to 1.0."""
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
