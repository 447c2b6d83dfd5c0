"""The specializer of adjoint code: rewrites that the arguments' shapes make possible.

With the shapes known (shapes.py), ``unbroadcast`` either goes or becomes the ``np.sum`` it
amounts to, a matrix product's adjoint becomes ``g @ b.T``, a reduction's adjoint is stretched by
broadcasting instead of copied, and an adjoint array that is certainly new and full-size may be
updated in place. The passes that need the whole generated function (fold.py, batch.py,
inplace.py) read shapes through it too. Forward mode's counterpart is specialize.py.
"""
import math

import gast
import numpy as np

from ..runtime import expand_reduced, matmul_adjoint_left, matmul_adjoint_right, size_of, \
    unbroadcast
from .analyze import assigned_names, loaded_names, nodes_in
from .batch import batch_accumulations
from .build import call, clone, constant, elementwise_operands, put_child
from .fold import fold_seed, fold_signs, start_dense
from .inplace import scale_in_place
from .optimize import inline_single_use, name_uses, remove_in_blocks, simplify
from .shapes import UNKNOWN, Shapes, is_known, matmul_shape


# The runtime helpers whose work the shapes may make unnecessary or simpler.
_SPECIALIZED_HELPERS = {id(helper) for helper in (unbroadcast, size_of, matmul_adjoint_left,
                                                  matmul_adjoint_right)}


class AdjointSpecializer:
    """Shapes of the names of one function's adjoint code, and the rewrites they allow.

    ``shapes``: name -> shape of the primal's names, or None for code that takes any shapes;
    ``primal_of``, ``previous_of``, ``list_names``, ``shared_arrays``: the generator's own
    tables, shared (an adjoint has its primal's shape, ``x_prev`` that of ``x``);
    ``resolve``: the object a name of generated code names; ``np_function(attr)``:
    ``np.<attr>`` as generated code spells it.
    """

    def __init__(self, shapes, primal_of, previous_of, list_names, indexed_names, params,
                 resolve, np_function, names, shared_arrays, differentiable=False):
        self.shapes = shapes
        self.primal_of = primal_of
        self.previous_of = previous_of
        self.list_names = list_names
        self.indexed_names = indexed_names  # names indexed or written element by element
        self.params = params
        self.resolve = resolve
        self.np_function = np_function
        self.names = names
        self.shared_arrays = shared_arrays  # adjoint -> the adjoints holding the same array
        self.differentiable = differentiable  # code that will be differentiated again
        self.stand_ins = set()  # adjoints that may hold a 0.0 standing in for an array
        self.seed_parameter = None  # vjp: the output's adjoint, whatever shape the caller gives
        self.final_shapes = {}  # name -> shape of names the final passes make (fold, batch)

    def is_number(self, name):
        """Is ``name`` certainly a number or 0-d value, whose adjoint can be a plain number?"""
        return self.shapes is not None and self.shapes.get(name) == () and \
            name not in self.indexed_names and name not in self.list_names

    def shape_of_name(self, name, local):
        if name in local:
            return local[name]
        if self.shapes is None:
            return UNKNOWN
        if name in self.primal_of:  # an adjoint has its primal's shape, unless it may hold
            shape = self.shapes.get(self.primal_of[name], UNKNOWN)  # the 0.0 stand-in, or
            if shape != () and (name in self.stand_ins or name == self.seed_parameter):
                return UNKNOWN  # the caller's cotangent of a vjp
            return shape
        return self.shapes.get(self.previous_of.get(name, name), UNKNOWN)

    def shape_reader(self, local=None):
        """Shapes of expressions of generated code (``local``: shapes of a rule's temporaries)."""
        local = local if local is not None else {}
        return Shapes(lambda name: self.shape_of_name(name, local), self.resolve)

    def called(self, node):
        """The object a call in generated code calls (``unbroadcast``, ``np.sum``), or None."""
        return self.resolve(node.func) if isinstance(node, gast.Call) else None

    def note_assigned(self, adjoint, expr):
        """An adjoint assigned from ``expr`` that may lack its primal's shape (a 0.0 stand-in
        flowed into it) joins the stand-ins."""
        if self.shapes is None or adjoint not in self.primal_of:
            return
        shape = self.shapes.get(self.primal_of[adjoint], UNKNOWN)
        if shape != () and self.shape_reader().of(expr) != shape:
            self.stand_ins.add(adjoint)

    def specialize(self, expr, local=None):
        """``expr`` with each ``unbroadcast`` the shapes make unnecessary taken out, and each
        one they make certain turned into the ``np.sum`` it amounts to."""
        if self.shapes is None:
            return expr
        shapes = self.shape_reader(local)

        class Specialize(gast.NodeTransformer):
            def visit_Call(inner, node):
                inner.generic_visit(node)
                function = self.called(node)
                if function is unbroadcast and len(node.args) == 2:
                    value, like = node.args
                    return self.summed_to(value, shapes.of(value), shapes.of(like)) or node
                if function is size_of and len(node.args) == 1 and \
                        is_known(shapes.of(node.args[0])):
                    return constant(math.prod(shapes.of(node.args[0])))
                if function in (matmul_adjoint_left, matmul_adjoint_right) and \
                        len(node.args) == 3:
                    return self.matrix_product_adjoint(function is matmul_adjoint_left,
                                                       node.args, shapes) or node
                return node

        if any(type(node) is gast.Call and id(self.called(node)) in _SPECIALIZED_HELPERS
               for node in nodes_in(expr)):  # (most expressions call none of them)
            expr = Specialize().visit(expr)
        return self.without_expansions(expr, shapes)

    def without_expansions(self, expr, shapes):
        """``expand_reduced(g, x, ...) * y`` -> ``g * y`` where broadcasting stretches ``g`` to
        the same shape: elementwise arithmetic gives the same values, with no full-size copy."""
        target = shapes.of(expr)
        if not is_known(target):
            return expr
        for parent, field, index, node in elementwise_operands(expr):
            if self.called(node) is not expand_reduced or len(node.args) != 4:
                continue
            axis, keepdims = node.args[2], node.args[3]
            if not (isinstance(keepdims, gast.Constant) and keepdims.value is True or
                    isinstance(axis, gast.Constant) and axis.value is None):
                replacement = self.reduced_axes_back(node.args[0], axis, shapes.of(node.args[1]))
                if replacement is None:
                    continue
            else:
                replacement = node.args[0]
            put_child(parent, field, index, replacement)
            if shapes.of(expr) != target:
                put_child(parent, field, index, node)
        return expr

    @staticmethod
    def reduced_axes_back(g, axis, shape):
        """The adjoint ``g`` of a reduction of an array of ``shape`` over the constant ``axis``
        (keepdims False) with the reduced axes back as axes of length 1, for broadcasting to
        stretch: ``g`` itself for leading axes, else ``g[:, None]`` and the like; or None."""
        parts = axis.elts if isinstance(axis, gast.Tuple) else [axis]
        if not is_known(shape) or not all(isinstance(p, gast.Constant) and
                                          type(p.value) is int for p in parts):
            return None
        axes = {p.value + len(shape) if p.value < 0 else p.value for p in parts}
        if not all(0 <= a < len(shape) for a in axes):
            return None
        if axes == set(range(len(axes))):
            return g  # leading axes: broadcasting puts them back
        last = max(axes)
        index = [constant(None) if a in axes else gast.Slice(lower=None, upper=None, step=None)
                 for a in range(last + 1)]
        return gast.Subscript(value=g, slice=gast.Tuple(elts=index, ctx=gast.Load()),
                              ctx=gast.Load())

    def final_passes(self, function_def, bound):
        """The rewrites that need the final code and its shapes, on ``function_def`` in place.

        ``without_expansions`` once more, where inlining has brought an expanded adjoint next to
        the arithmetic that reads it; then numbers stretched to an array only for arithmetic
        that stretches them anyway are not (values read only for their shape may be unread
        now); then the seed of grad folded (fold.py), per-step products added up in a loop
        batched into one after it (batch.py), an adjoint started from its first dense part
        instead of zeros (fold.py), a dead array scaled in place (inplace.py). ``bound``: the
        generated code's globals."""
        shapes = self.shape_reader()
        for node in gast.walk(function_def):
            if isinstance(node, (gast.Assign, gast.AugAssign, gast.Return)) and \
                    node.value is not None:
                node.value = self.without_expansions(node.value, shapes)
        stores, _, fixed = name_uses(function_def)
        remove_in_blocks(function_def.body, lambda block, index: self.number_spread(
            block, index, shapes, stores, fixed))
        # the seed's readers meet the arrays they scale only once single uses are inlined
        inline_single_use(function_def, bound, self.shared_arrays)
        fold_seed(function_def, self)
        fold_signs(function_def, self)
        batch_accumulations(function_def, self)
        start_dense(function_def, self)
        scale_in_place(function_def, self)

    def number_spread(self, block, index, shapes, stores, fixed):
        """``dy = expand_reduced(g, y, None, False)``, a number stretched to y's shape and read
        only by arithmetic that stretches it anyway -> the readers read ``g``, and the array is
        never made. True when the assignment at ``block[index]`` went that way."""
        stmt = block[index]
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            return False
        name = stmt.targets[0].id
        number = self.as_number(stmt.value, shapes)
        if number is None or stores.get(name) != 1 or name in fixed or name in self.params:
            return False
        readers = [s for later in block[index + 1:] for s in _simple_statements(later)
                   if name in loaded_names(s)]
        if not readers or any(set(loaded_names(number)) & assigned_names(later)
                              for later in block[index + 1:]):
            return False
        rewritten = []
        for reader in readers:
            if not isinstance(reader, (gast.Assign, gast.AugAssign, gast.Return)):
                return False
            value = clone(reader.value)
            places = [(parent, field, position) for parent, field, position, node
                      in elementwise_operands(value)
                      if isinstance(node, gast.Name) and node.id == name]
            if len(places) != sum(1 for n in nodes_in(value)
                                  if isinstance(n, gast.Name) and n.id == name):
                return False  # read by something that is not elementwise arithmetic
            before = shapes.of(value)
            for parent, field, position in places:
                put_child(parent, field, position, clone(number))
            if not is_known(before) or shapes.of(value) != before:
                return False
            rewritten.append((reader, value))
        for reader, value in rewritten:
            reader.value = value
        return True

    def as_number(self, expr, shapes):
        """``expr`` without its stretching of a number (``expand_reduced(g, y, None, False)``,
        possibly scaled by numbers), or None."""
        if self.called(expr) is expand_reduced and len(expr.args) == 4 and \
                shapes.of(expr.args[0]) == ():
            return expr.args[0]
        if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Mult, gast.Div)):
            left = self.as_number(expr.left, shapes)
            if left is not None and shapes.of(expr.right) == ():
                return gast.BinOp(left=left, op=expr.op, right=expr.right)
        if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
            operand = self.as_number(expr.operand, shapes)
            return None if operand is None else gast.UnaryOp(op=expr.op, operand=operand)
        return None

    def summed_to(self, value, value_shape, like_shape):
        """``value`` summed down to ``like_shape`` (the work of unbroadcast), or None."""
        if not (is_known(value_shape) and is_known(like_shape)) or \
                len(value_shape) < len(like_shape) or (value_shape == () != like_shape):
            return None
        if value_shape == like_shape:
            return value
        if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
            inner = self.summed_to(value.operand, value_shape, like_shape)
            return None if inner is None else gast.UnaryOp(op=gast.USub(), operand=inner)
        shapes = self.shape_reader()
        if like_shape == () and len(value_shape) == 1 and isinstance(value, gast.BinOp) and \
                isinstance(value.op, gast.Mult) and \
                shapes.of(value.left) == value_shape == shapes.of(value.right):
            return call(self.np_function("dot"), value.left, value.right)  # one pass, no copy
        extra = len(value_shape) - len(like_shape)
        leading = tuple(range(extra))
        stretched = tuple(i for i, n in enumerate(like_shape)
                          if n == 1 and value_shape[extra + i] != 1)
        if any(n != 1 and n != value_shape[extra + i] for i, n in enumerate(like_shape)):
            return None
        if leading:
            value = self.np_sum(value, None if not like_shape else leading, False)
        if stretched:
            value = self.np_sum(value, stretched, True)
        return value

    def matrix_product_adjoint(self, left, args, shapes):
        """``g @ b.T`` or ``a.T @ g`` (``np.outer`` with a vector) for ``a @ b`` of matrices and
        vectors whose shapes are known, instead of the helper that works out the general case."""
        g, a, b = args
        g_shape, a_shape, b_shape = (shapes.of(e) for e in args)
        if not all(is_known(s) and 1 <= len(s) <= 2 for s in (a_shape, b_shape)) or \
                len(a_shape) + len(b_shape) < 3 or g_shape != matmul_shape(a_shape, b_shape):
            return None

        def transposed(e):
            return gast.Attribute(value=e, attr="T", ctx=gast.Load())

        def product(x, y):
            return gast.BinOp(left=x, op=gast.MatMult(), right=y)

        def outer(x, y):
            return call(self.np_function("outer"), x, y)

        if left:
            return product(g, transposed(b)) if len(b_shape) == 2 else outer(g, b)
        return product(transposed(a), g) if len(a_shape) == 2 else outer(a, g)

    def np_sum(self, value, axes, keepdims):
        keywords = []
        if axes is not None:
            axis = constant(axes[0]) if len(axes) == 1 else \
                gast.Tuple(elts=[constant(a) for a in axes], ctx=gast.Load())
            keywords.append(gast.keyword(arg="axis", value=axis))
        if keepdims:
            keywords.append(gast.keyword(arg="keepdims", value=constant(True)))
        return gast.Call(func=self.np_function("sum"), args=[value], keywords=keywords)

    def specialize_rule(self, prelude, outputs):
        """A rule's inlined statements and adjoint expressions, specialized (see specialize)."""
        if self.shapes is None:
            return prelude, outputs
        local = {}
        shapes = self.shape_reader(local)
        for stmt in prelude:
            if not isinstance(stmt, (gast.Assign, gast.AugAssign)):  # a user rule's own `if`
                local.update((target, UNKNOWN) for target in assigned_names(stmt))
                continue
            stmt.value = self.specialize(stmt.value, local)
            for target in assigned_names(stmt):
                local[target] = shapes.of(stmt.value) if isinstance(stmt, gast.Assign) \
                    else UNKNOWN
                if local[target] is None:
                    local[target] = UNKNOWN
        return prelude, {p: self.specialize(e, local) for p, e in outputs.items()}

    def is_fresh(self, expr, adjoint):
        """Is ``expr`` certainly a new array (or a number) of its adjoint's full shape, which
        the adjoint may then update in place?"""
        if self.shapes is None or adjoint not in self.primal_of:
            return False
        shape = self.shapes.get(self.primal_of[adjoint], UNKNOWN)
        if not is_known(shape):
            return False
        if isinstance(expr, (gast.BinOp, gast.UnaryOp)):  # g * 1.0 is g, -(-g) is g
            expr = simplify([gast.Expr(value=clone(expr))])[0].value
        new_value = isinstance(expr, gast.BinOp) or (
            isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub))
        if isinstance(expr, gast.Call):
            function = self.resolve(expr.func)
            new_value = isinstance(function, np.ufunc) or function in (np.sum, np.outer)
        return new_value and self.shape_reader().of(expr) == shape


def _simple_statements(stmt):
    """``stmt`` and the statements nested in it, compound ones left out."""
    if isinstance(stmt, (gast.If, gast.For, gast.While)):
        return [s for child in stmt.body + stmt.orelse for s in _simple_statements(child)]
    return [stmt]

