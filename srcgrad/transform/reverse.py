"""Reverse mode: from a normalized function, the primal sweep and the adjoint sweep.

The adjoint sweep visits the primal's statements in reverse. For each assignment it inlines the
operation's derivative rule and adds the result into the adjoints of the operands. Which adjoints
hold a value is tracked statically (ZERO: none yet, SHARED: holds a value that may alias another,
OWNED: a fresh array this function may update in place), so no zero arrays are made where an
adjoint is simply assigned, and branches and loops get explicit zeros only where paths disagree.

Values that the adjoint reads are served, in order of preference, by: the primal variable itself
when nothing rebinds it later (``safe``); recomputing a cheap view such as ``err[i]`` from safe
names (``rematerialize``); or saving it on a stack in the primal and popping it in the adjoint.
A value needed when the adjoint of a compound statement starts is pushed when its primal ends,
so pushes and pops always pair up last-in, first-out.
"""
import builtins
import inspect
import math

import gast
import numpy as np

from ..dynamic import call_vjp
from ..rules import rule_for
from ..errors import NonScalarOutput
from ..runtime import (expand_reduced, matmul_adjoint_left, matmul_adjoint_right, scalar_seed,
                       size_of, unbroadcast)
from .analyze import (annotate_available, annotate_defined, annotate_unsafe, assigned_names,
                      loaded_names, mutated_names, nodes_in)
from .batch import batch_accumulations
from .fold import fold_seed, fold_signs, start_dense
from .inplace import scale_in_place
from .invariance import zero_shift_adjoints
from .build import (assign, call, clone, constant, expr_stmt, load, located, store,
                    subscript)
from .inline import inline_rule, literal
from .normalize import DynamicCallee
from .optimize import inline_single_use, name_uses, negate, remove_in_blocks, simplify
from .shapes import UNKNOWN, Shapes, is_known, matmul_shape
from .sweep import Sweep, appended_list, bind_call, popped_list, rename_loads, replace, unparse

ZERO, SHARED, OWNED = "zero", "shared", "owned"



class ReverseMode(Sweep):
    """Builds the two sweeps of one function; see the module docstring for the strategy."""

    def __init__(self, parsed, body, params, activity, local_names, names, binder, shapes=None):
        super().__init__(parsed, body, params, activity, local_names, names, binder)
        self.shapes = shapes  # name -> shape for the arguments' shapes (shapes.py), or None
        self.seed_parameter = None  # vjp: the output's adjoint, whatever shape the caller gives
        self.indexed_names = _indexed_names(body)
        self.loop_depth = 0
        self.stack_name = None
        self.saved_pairs = []  # pair id -> the name its pop rebinds
        self.previous_names = {}
        self.previous_of = {}
        # adjoint -> the adjoints holding the same array after a handover (see heir): tidying
        # must not move a read of one past an in-place update of another
        self.shared_arrays = {}
        self.scalar_zeros = set()  # adjoints that may hold a 0.0 standing in for an array
        self.stand_in_used = False
        self.final_shapes = {}  # name -> shape of names the final passes make (fold, batch)
        self.zero_shifts = {}  # id of y = x - c -> c, whose adjoint is zero (invariance.py)
        self.definitions = _definitions(body)
        self.integer_names = _range_loop_targets(body)
        self.pullback_names = {  # named in the order the calls appear
            id(node): names.fresh(f"{node.value.sg_user_function.__name__}_pullback")
            for node in gast.walk(gast.Module(body=body, type_ignores=[]))
            if isinstance(node, gast.Assign) and
            getattr(node.value, "sg_user_function", None) is not None}
        self.adjoint = self.derivative
        # Code that will be differentiated again calls helper(a) and helper_adjoint(dy, a)
        # instead of a vjp and its pullback closure (see adjoint_call).
        self.recompute_calls = False

    def save(self, source, target, like):
        """``push(source)`` for the primal and ``target = pop()`` for the adjoint, as a pair."""
        pair = len(self.saved_pairs)
        self.saved_pairs.append(target)
        push = expr_stmt(self.stack_call("append", load(source)), like)
        pop = assign(target, self.stack_call("pop"), like)
        push.sg_pair = pop.sg_pair = pair
        return push, pop

    def stack_call(self, method, *args):
        """``stack.append(value)`` or ``stack.pop()``: the one list that holds saved values."""
        if self.stack_name is None:
            self.stack_name = self.names.fresh("stack")
        return call(gast.Attribute(value=load(self.stack_name), attr=method, ctx=gast.Load()),
                    *args)

    # -- reading primal values in the adjoint --------------------------------------------------
    def serve_reads(self, names_read, unsafe, like, pop_into=None):
        """Make primal values readable in the adjoint.

        ``unsafe`` holds the names that may be rebound between the moment the value is taken and
        the end of the primal. Returns ``(pushes, pops, recompute)``: statements for the primal
        (at the moment the value is taken), and for the adjoint, to run before the reads.
        """
        pushes, pops, recompute = [], [], []
        pop_into = pop_into or {}
        for name in sorted(names_read):
            source = pop_into.get(name, name)
            if source not in self.locals or (source not in unsafe and name == source):
                continue
            steps = self.rematerialize(source, like)
            if steps is not None and name == source:
                recompute.extend(clone(s) for s in steps)
                continue
            push, pop = self.save(source, name, like)
            pushes.append(push)
            pops.insert(0, pop)
        return pushes, pops, recompute

    def rematerialize(self, name, like, depth=0):
        """Statements that recompute ``name`` from values that stay intact, or None."""
        definitions = self.definitions.get(name, [])
        if depth > 4 or name in self.params or not definitions or \
                not all(isinstance(d, gast.Assign) for d in definitions):
            return None  # a loop variable, among others, is never recomputed
        value = definitions[0].value
        cheap = isinstance(value, (gast.Subscript, gast.Name)) or (
            isinstance(value, gast.Attribute) and value.attr == "T")
        # Several definitions are fine when all compute the same view of the same intact names.
        if not cheap or any(gast.dump(d.value) != gast.dump(value) for d in definitions):
            return None
        steps = []
        for used in sorted(loaded_names(value) & self.locals):
            if any(used in d.sg_unsafe_before for d in definitions):
                inner = self.rematerialize(used, like, depth + 1)
                if inner is None:
                    return None
                steps.extend(inner)
        return steps + [assign(name, clone(value), like)]

    # -- adjoint bookkeeping -------------------------------------------------------------------
    def accumulate(self, name, contribution, state, like, fresh=False, shaped=False):
        """Add ``contribution`` into the adjoint of ``name``; returns the statements.

        ``fresh``: the contribution is a new array, sharing memory with no other adjoint;
        ``shaped``: it certainly has the shape of ``name`` (a pullback's result).
        """
        adjoint = self.adjoint(name)
        status = state.get(adjoint, ZERO)
        if status == ZERO:
            if self.is_fresh(contribution, adjoint):
                state[adjoint] = OWNED
                self.note_assigned(adjoint, contribution)
                return [assign(adjoint, contribution, like)]
            if not fresh:
                self.mark_aliases(contribution, state)
            state[adjoint] = SHARED
            if not shaped:
                self.note_assigned(adjoint, contribution)
            return [assign(adjoint, contribution, like)]
        if name in self.list_names:  # a list's adjoint is a list, added element by element
            state[adjoint] = OWNED
            return [assign(adjoint, call(self.runtime("add_each"), load(adjoint), contribution),
                           like)]
        if status == OWNED and not getattr(self, "differentiable", False):
            # (code differentiated again adds into a new array: an in-place += there is
            # guarded against names that may share the array, which loops make many of)
            return [located(gast.AugAssign(target=store(adjoint), op=gast.Add(),
                                           value=contribution), like)]
        state[adjoint] = OWNED
        return [assign(adjoint, gast.BinOp(left=load(adjoint), op=gast.Add(),
                                           right=contribution), like)]

    def mark_aliases(self, expr, state):
        """An adjoint assigned from ``expr`` may share memory with the adjoints it reads."""
        for used in loaded_names(expr):
            if state.get(used) == OWNED:
                state[used] = SHARED

    def zeros_for(self, adjoint, like):
        primal = self.primal_of[adjoint]
        if self.is_number(primal):
            return assign(adjoint, constant(0.0), like)
        if primal in self.list_names:
            return assign(adjoint, call(self.runtime("zeros_like_each"), load(primal)), like)
        return assign(adjoint, self.zeros_like(load(primal)), like)

    def make_owned(self, adjoint, state, like):
        """Statements that give ``adjoint`` an array of its own, to update in place."""
        status = state.get(adjoint, ZERO)
        state[adjoint] = OWNED
        if status == ZERO:
            return [self.zeros_for(adjoint, like)]
        if status == SHARED and (adjoint in self.scalar_zeros or self.stand_in_used) and \
                self.primal_of[adjoint] not in self.list_names and \
                not self.is_number(self.primal_of[adjoint]):  # maybe the 0.0 stand-in
            shaped = self.zeros_like(load(self.primal_of[adjoint]))
            return [assign(adjoint, gast.BinOp(left=load(adjoint), op=gast.Add(), right=shaped),
                           like)]
        if status == SHARED:  # copy_of copies a list, a dict and an array alike
            copier = self.runtime("copy_of")
            return [assign(adjoint, call(copier, load(adjoint)), like)]
        return []

    # -- specializing to the arguments' shapes ------------------------------------------------
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
            if shape != () and (name in self.scalar_zeros or name == self.seed_parameter):
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
            self.scalar_zeros.add(adjoint)

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

        return self.without_expansions(Specialize().visit(expr), shapes)

    def without_expansions(self, expr, shapes):
        """``expand_reduced(g, x, ...) * y`` -> ``g * y`` where broadcasting stretches ``g`` to
        the same shape: elementwise arithmetic gives the same values, with no full-size copy."""
        target = shapes.of(expr)
        if not is_known(target):
            return expr
        for parent, field, index, node in _elementwise_operands(expr):
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
            _put(parent, field, index, replacement)
            if shapes.of(expr) != target:
                _put(parent, field, index, node)
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

    def expand_lazily(self, function_def):
        """``without_expansions`` once more on the final code, where inlining has brought an
        expanded adjoint next to the arithmetic that reads it; then numbers stretched to an
        array only for arithmetic that stretches them anyway are not (values read only for
        their shape may be unread now); then the passes
        that need the final code and its shapes: the seed of grad folded (fold.py), per-step
        products added up in a loop batched into one after it (batch.py), an adjoint started
        from its first dense part instead of zeros (fold.py), a dead array scaled in place
        (inplace.py)."""
        shapes = self.shape_reader()
        for node in gast.walk(function_def):
            if isinstance(node, (gast.Assign, gast.AugAssign, gast.Return)) and \
                    node.value is not None:
                node.value = self.without_expansions(node.value, shapes)
        stores, _, fixed = name_uses(function_def)
        remove_in_blocks(function_def.body, lambda block, index: self.number_spread(
            block, index, shapes, stores, fixed))
        # the seed's readers meet the arrays they scale only once single uses are inlined
        inline_single_use(function_def, self.binder.bound, self.shared_arrays)
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
                      in _elementwise_operands(value)
                      if isinstance(node, gast.Name) and node.id == name]
            if len(places) != sum(1 for n in nodes_in(value)
                                  if isinstance(n, gast.Name) and n.id == name):
                return False  # read by something that is not elementwise arithmetic
            before = shapes.of(value)
            for parent, field, position in places:
                _put(parent, field, position, clone(number))
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

    def reuse_available(self, prelude, outputs, available):
        """A rule's code reading the primal's ``s`` where it would compute ``np.sin(x)`` again
        (``available``: see analyze.annotate_available)."""
        if not available:
            return prelude, outputs
        resolve = self.resolve

        class Reuse(gast.NodeTransformer):
            def visit_Call(self, node):
                self.generic_visit(node)
                if node.keywords or not all(isinstance(a, gast.Name) for a in node.args):
                    return node
                try:
                    name = available.get((resolve(node.func), tuple(a.id for a in node.args)))
                except TypeError:  # an unhashable callable
                    return node
                return node if name is None else load(name)

        for stmt in prelude:
            stmt.value = Reuse().visit(stmt.value)
        return prelude, {p: Reuse().visit(e) for p, e in outputs.items()}

    def is_fresh(self, expr, adjoint):
        """Is ``expr`` certainly a new array (or a number) of its adjoint's full shape, which
        the adjoint may then update in place?"""
        if self.shapes is None or adjoint not in self.primal_of:
            return False
        shape = self.shapes.get(self.primal_of[adjoint], UNKNOWN)
        if not is_known(shape):
            return False
        expr = simplify([gast.Expr(value=clone(expr))])[0].value  # g * 1.0 is g
        new_value = isinstance(expr, gast.BinOp) or (
            isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub))
        if isinstance(expr, gast.Call):
            function = self.resolve(expr.func)
            new_value = isinstance(function, np.ufunc) or function in (np.sum, np.outer)
        return new_value and self.shape_reader().of(expr) == shape

    def resolve(self, expr):
        """The object a name or attribute names in generated code (``np.sum``, a helper)."""
        return resolve(expr, self.locals, self.binder, self.parsed.namespace)

    # -- statements ----------------------------------------------------------------------------
    def block(self, stmts, state):
        """(primal, adjoint, state before the block) for a list of statements."""
        primal, adjoint = [], []
        for stmt in reversed(stmts):
            forward, backward, state = self.statement(stmt, state)
            primal[:0] = forward
            adjoint.extend(backward)
        return primal, adjoint, state

    def statement(self, stmt, state):
        if appended_list(stmt) is not None:
            return self.append(stmt, state)
        if isinstance(stmt, gast.Assign):
            return self.assignment(stmt, state)
        if isinstance(stmt, gast.If):
            return self.if_statement(stmt, state)
        if isinstance(stmt, gast.For):
            return self.for_loop(stmt, state)
        if isinstance(stmt, gast.While):
            return self.while_loop(stmt, state)
        return [stmt], [], state

    def assignment(self, stmt, state):
        target = stmt.targets[0]
        if getattr(stmt.value, "sg_user_function", None) is not None:
            return self.user_call(stmt, state)
        if isinstance(target, gast.Subscript):
            return self.element_write(stmt, state)
        if popped_list(stmt.value) is not None:
            return self.pop_statement(stmt, state)
        if not isinstance(target, gast.Name) or target.id not in self.varied:
            return [stmt], [], state
        name = target.id
        adjoint = self.adjoint(name)
        if state.get(adjoint, ZERO) == ZERO:
            return [stmt], [], state
        state = dict(state)
        value = stmt.value
        if not self.activity.is_varied(value):
            state[adjoint] = ZERO  # a constant or inactive value: nothing flows back
            return [stmt], [], state
        if isinstance(value, (gast.List, gast.Dict)):  # items = [a, b]: each element's adjoint
            sources = {}
            pairs = enumerate(value.elts) if isinstance(value, gast.List) else \
                zip((k.value for k in value.keys), value.values)
            for position, element in pairs:
                if isinstance(element, gast.Name) and element.id in self.varied:
                    sources.setdefault(element.id, []).append(
                        subscript(load(adjoint), constant(position)))
            code = self.contributions(stmt, name, sources, state)
            return self.with_reads(stmt, name, code, state)
        rule, bindings = self.bind_operation(value, stmt)
        wanted = [p for p in (rule.differentiable if rule else ())
                  if _is_active(bindings[p], self.varied) and p not in rule.no_adjoint]
        if rule is None and isinstance(value, gast.Name) and value.id in self.varied:
            code = self.contributions(stmt, name, {value.id: [load(adjoint)]}, state)
            return self.with_reads(stmt, name, code, state)
        number = self.zero_shifts.get(id(stmt))
        if number is not None:  # y = x - max(x) read only shift-invariantly: sum(dy) is 0
            wanted = [p for p in wanted
                      if not (isinstance(bindings[p], gast.Name) and bindings[p].id == number)]
        if not wanted:
            state[adjoint] = ZERO
            return [stmt], [], state
        previous = None
        if name in loaded_names(value):  # x = f(x): the old x gets a name of its own
            previous = self.previous_name(name)
        for param in list(bindings):
            if previous:
                bindings[param] = rename_loads(bindings[param], name, previous)
        bindings["g"] = load(adjoint)
        bindings["ans"] = load(name)
        if rule.accumulates:
            code = self.accumulating_rule(stmt, rule, bindings, name, previous, state)
        else:
            prelude, outputs = inline_rule(rule, bindings, wanted, self.names, self.binder)
            prelude, outputs = self.specialize_rule(prelude, outputs)
            prelude, outputs = self.reuse_available(prelude, outputs, stmt.sg_available)
            sources = {}
            for param in wanted:
                bound, output = bindings[param], outputs[param]
                if isinstance(bound, gast.Name):
                    sources.setdefault(_original(bound.id, name, previous), []).append(output)
                else:  # a list of arrays (np.stack, np.concatenate): one adjoint per element
                    parts = self.names.fresh("d" + param)
                    prelude.append(assign(parts, output, stmt))
                    for position, element in enumerate(bound.elts):
                        if _is_active(element, self.varied):
                            sources.setdefault(_original(element.id, name, previous), []).append(
                                subscript(load(parts), constant(position)))
            code = [located(s, stmt) for s in prelude]
            code += self.contributions(stmt, name, sources, state)
        return self.with_reads(stmt, name, code, state, previous)

    def contributions(self, stmt, name, sources, state):
        """Add each source's contributions into its adjoint; the target's own adjoint last."""
        adjoint = self.adjoint(name)
        code = []
        heir = self.heir(name, sources, state)
        for source, parts in sources.items():
            if source != name:
                for part in parts:
                    code += self.accumulate(source, part, state, stmt)
        if heir is not None:  # the array is the heir's alone now: it may update it in place
            state[self.adjoint(heir)] = OWNED
            shared = self.shared_arrays.get(adjoint, {adjoint}) | \
                self.shared_arrays.get(self.adjoint(heir), {self.adjoint(heir)})
            for member in shared:
                self.shared_arrays[member] = shared
        if name in sources:  # x = f(x, ...): the adjoint of the old x replaces that of the new
            total = sources[name][0]
            for part in sources[name][1:]:
                total = gast.BinOp(left=total, op=gast.Add(), right=part)
            if not (isinstance(total, gast.Name) and total.id == adjoint):
                fresh = self.is_fresh(total, adjoint)
                if not fresh:
                    self.mark_aliases(total, state)
                self.note_assigned(adjoint, total)
                code.append(assign(adjoint, total, stmt))
                state[adjoint] = OWNED if fresh else SHARED
        else:
            state[adjoint] = ZERO
        return code

    def heir(self, name, sources, state):
        """The one operand whose adjoint may take over the adjoint array of ``name`` as is.

        ``y = x - c``: ``dx = dy``. When ``dy`` is an array of its own (OWNED) that nothing
        reads after this statement's adjoint (``y`` is bound once, outside loops), ``dx`` may
        update it in place afterwards instead of copying it first. Not in code that is
        differentiated again (``differentiable``, set by the pipeline): there ``dx = dy``
        followed by ``dx[i] += ...`` is a write into an array another name holds, which the
        next transformation refuses.
        """
        adjoint = self.adjoint(name)
        if getattr(self, "differentiable", False) or state.get(adjoint) != OWNED or \
                name in sources or self.loop_depth or name in self.params or \
                len(self.definitions.get(name, [])) != 1:
            return None
        whole = [source for source, parts in sources.items() for part in parts
                 if isinstance(part, gast.Name) and part.id == adjoint]
        if len(whole) != 1 or len(sources[whole[0]]) != 1 or \
                state.get(self.adjoint(whole[0]), ZERO) != ZERO:
            return None
        return whole[0]

    def user_call(self, stmt, state):
        """``y = helper(a, b)``: call helper's generated vjp; its pullback carries the adjoint.

        The primal becomes ``y, helper_pullback = helper_vjp(a, b)``; the adjoint calls
        ``helper_pullback(dy)`` and adds what it returns into ``da`` and ``db``.
        """
        value, target = stmt.value, stmt.targets[0]
        function = value.sg_user_function
        outputs = [target.id] if isinstance(target, gast.Name) else [e.id for e in target.elts]
        live = [o for o in outputs if o in self.varied and
                state.get(self.adjoint(o), ZERO) != ZERO]
        active = [(param, arg) for param, arg in call_arguments(function, value, stmt, self.parsed, self.varied)
                  if isinstance(arg, gast.Name) and arg.id in self.varied]
        if not live or not active:
            state = dict(state)
            for output in outputs:
                state[self.adjoint(output)] = ZERO
            return [stmt], [], state
        state = dict(state)
        wrt = active[0][0] if len(active) == 1 else tuple(p for p, _ in active)
        cotangents = [load(self.adjoint(o)) if o in live else
                      self.zeros_like(load(o)) for o in outputs]
        cotangent = cotangents[0] if isinstance(target, gast.Name) else \
            gast.Tuple(elts=cotangents, ctx=gast.Load())
        if self.recompute_calls or getattr(value, "sg_checkpointed", False):
            return self.adjoint_call(stmt, state, function, wrt, active, outputs, cotangent)
        pullback = self.pullback_names[id(stmt)]
        if isinstance(function, DynamicCallee):  # call_vjp(self.helper, wrt, x)
            primal_call = gast.Call(func=load(self.binder.bind("call_vjp", call_vjp)),
                                    args=[clone(value.func), literal(wrt)] + value.args,
                                    keywords=value.keywords)
        else:
            vjp_name = self.binder.bind(f"{function.__name__}_vjp",
                                        self.link(function, wrt, "vjp"))
            self.callees.append(self.binder.bound[vjp_name])
            primal_call = gast.Call(func=load(vjp_name), args=value.args, keywords=value.keywords)
        forward = located(gast.Assign(targets=[gast.Tuple(elts=[clone(target), store(pullback)],
                                                          ctx=gast.Store())],
                                      value=primal_call, type_comment=None), stmt)
        code = self.distribute(stmt, call(pullback, cotangent), active, outputs, state)
        self.locals.add(pullback)
        new = set(outputs) | {pullback}
        read = set().union(*(loaded_names(s) for s in code)) & self.locals
        pushes_after, pops_after, recompute = self.serve_reads(
            read & new, stmt.sg_unsafe_after | ({pullback} if self.loop_depth else set()), stmt)
        return [forward] + pushes_after, pops_after + recompute + code, state

    def adjoint_call(self, stmt, state, function, wrt, active, outputs, cotangent):
        """``y = helper(a)`` in code that will be differentiated again: the primal call stays,
        and the adjoint calls ``helper_adjoint(dy, a)``, which runs helper again and returns
        da. Plain functions with no closures between them, so a further derivative can go
        through both (and through recursion) as through any of the user's functions."""
        if isinstance(function, DynamicCallee):
            raise self.parsed.unsupported(
                stmt, f"a second derivative through the call {unparse(stmt.value)}, whose "
                "function is known only when it runs (a method, a layer, a partial)",
                "call a plain function of yours there, or give it a rule with srcgrad.defvjp "
                "and srcgrad.defjvp")
        value, target = stmt.value, stmt.targets[0]
        previous = None
        if isinstance(target, gast.Name) and target.id in loaded_names(value):
            previous = self.previous_name(target.id)  # x = helper(x): the adjoint reads old x
        elif not isinstance(target, gast.Name) and set(outputs) & loaded_names(value):
            raise self.parsed.unsupported(
                stmt, f"a second derivative through {unparse(stmt)}, which rebinds an argument "
                "of the call to one of several results", "give the results new names")
        arguments = [rename_loads(clone(a), target.id, previous) if previous else clone(a)
                     for a in value.args]
        keywords = [gast.keyword(arg=k.arg, value=rename_loads(clone(k.value), target.id,
                                                               previous)
                                 if previous else clone(k.value)) for k in value.keywords]
        adjoint_name = self.binder.bind(f"{function.__name__}_adjoint",
                                        self.link(function, wrt, "adjoint"))
        self.callees.append(self.binder.bound[adjoint_name])
        backward = gast.Call(func=load(adjoint_name), args=[cotangent] + arguments,
                             keywords=keywords)
        code = self.distribute(stmt, backward, active, outputs, state)
        name = target.id if isinstance(target, gast.Name) else set(outputs)
        return self.with_reads(stmt, name, code, state, previous)

    def distribute(self, stmt, backward, active, outputs, state):
        """Statements that add the parts of the call's argument adjoints ``backward`` returns
        into those adjoints (updating ``state``)."""
        code, parts = [], []
        if len(active) == 1:
            parts = [backward]
        else:  # adjoints that hold nothing yet take their part directly
            direct = [state.get(self.adjoint(arg.id), ZERO) == ZERO and arg.id not in outputs
                      and [a.id for _, a in active].count(arg.id) == 1 for _, arg in active]
            names = [self.adjoint(arg.id) if d else self.names.fresh(f"d{arg.id}_part")
                     for d, (_, arg) in zip(direct, active)]
            code.append(located(gast.Assign(
                targets=[gast.Tuple(elts=[store(n) for n in names], ctx=gast.Store())],
                value=backward, type_comment=None), stmt))
            for d, (_, arg) in zip(direct, active):
                if d:
                    state[self.adjoint(arg.id)] = SHARED
            parts = [None if d else load(n) for d, n in zip(direct, names)]
        for output in outputs:  # the outputs' adjoints are consumed by the call
            if output not in [arg.id for _, arg in active]:
                state[self.adjoint(output)] = ZERO
        replaced = {}  # x = helper(x, x): the old x's adjoint is the sum of its parts
        for (_, arg), part in zip(active, parts):
            if part is None:
                continue
            if arg.id in outputs:
                replaced[arg.id] = part if arg.id not in replaced else \
                    gast.BinOp(left=replaced[arg.id], op=gast.Add(), right=part)
            else:
                code += self.accumulate(arg.id, part, state, stmt, shaped=True)
        for name, total in replaced.items():  # ... and replaces the new x's adjoint
            code.append(assign(self.adjoint(name), total, stmt))
            state[self.adjoint(name)] = OWNED if isinstance(total, gast.BinOp) else SHARED
        return code

    def append(self, stmt, state):
        """``items.append(v)``: the adjoint takes the last element off both lists again."""
        items, value = appended_list(stmt)
        state = dict(state)
        pop_item = expr_stmt(call(gast.Attribute(value=load(items), attr="pop", ctx=gast.Load())),
                             stmt)
        code = [pop_item]  # the list as it was before, for the adjoint of earlier statements
        adjoint = self.adjoint(items)
        if items in self.varied and state.get(adjoint, ZERO) != ZERO:
            last = call(gast.Attribute(value=load(adjoint), attr="pop", ctx=gast.Load()))
            if isinstance(value, gast.Name) and value.id in self.varied:
                code += self.accumulate(value.id, last, state, stmt)
            else:
                code.append(expr_stmt(last, stmt))
        read = set().union(*(loaded_names(s) for s in code))
        if items not in stmt.sg_rebound_before:
            read.discard(items)  # the same list throughout: appends are undone in place
        pushes, pops, recompute = self.serve_reads(read, stmt.sg_unsafe_before, stmt)
        return pushes + [stmt], pops + recompute + code, state

    def pop_statement(self, stmt, state):
        """``x = items.pop()``: the adjoint appends x back, and its adjoint to the list's."""
        name, items = stmt.targets[0].id, popped_list(stmt.value)
        state = dict(state)
        code = []
        adjoint, list_adjoint = self.adjoint(name), self.adjoint(items)
        live = name in self.varied and state.get(adjoint, ZERO) != ZERO
        if items in self.varied and (live or state.get(list_adjoint, ZERO) != ZERO):
            if state.get(list_adjoint, ZERO) == ZERO:
                code.append(assign(list_adjoint, call(self.runtime("zeros_like_each"),
                                                      load(items)), stmt))
            part = load(adjoint) if live else self.zeros_like(load(name))
            code.append(expr_stmt(call(gast.Attribute(value=load(list_adjoint), attr="append",
                                                      ctx=gast.Load()), part), stmt))
            state[list_adjoint] = OWNED
        code.append(expr_stmt(call(gast.Attribute(value=load(items), attr="append",
                                                  ctx=gast.Load()), load(name)), stmt))
        state[adjoint] = ZERO
        read = set().union(*(loaded_names(s) for s in code))
        if items not in stmt.sg_rebound_before:
            read.discard(items)
        new = {name} & read
        pushes_after, pops_after, recompute = self.serve_reads(new, stmt.sg_unsafe_after, stmt)
        pushes, pops, recompute_old = self.serve_reads(read - new, stmt.sg_unsafe_before, stmt)
        return pushes + [stmt] + pushes_after, pops_after + pops + recompute + recompute_old + \
            code, state

    def element_write(self, stmt, state):
        """``y[i] = v``: v gets the adjoint of y[i], which then restarts from zero.

        The write changes y in place, so the primal saves the elements it overwrites and the
        adjoint puts them back: the adjoint of earlier statements then sees y as they saw it.
        """
        target, value = stmt.targets[0], stmt.value
        array, index = target.value.id, target.slice
        state = dict(state)
        code = []
        adjoint = self.adjoint(array) if array in self.varied else None
        if adjoint and state.get(adjoint, ZERO) != ZERO:
            code += self.make_owned(adjoint, state, stmt)
            if isinstance(value, gast.Name) and value.id in self.varied:
                written = subscript(load(adjoint), clone(index))
                if state.get(self.adjoint(value.id), ZERO) == ZERO:
                    written = call(self.runtime("copy_of"), written)  # it is zeroed next
                part = self.specialize(call(self.binder.bind("unbroadcast", unbroadcast),
                                            written, load(value.id)))
                code += self.accumulate(value.id, part, state, stmt, fresh=True)
            code.append(located(gast.Assign(
                targets=[gast.Subscript(value=load(adjoint), slice=clone(index),
                                        ctx=gast.Store())],
                value=constant(0.0), type_comment=None), stmt))
        old_elements = call(self.runtime("copy_of"), subscript(load(array),
                                                                 clone(index)))
        save = expr_stmt(self.stack_call("append", old_elements), stmt)
        restore = located(gast.Assign(
            targets=[gast.Subscript(value=load(array), slice=clone(index),
                                    ctx=gast.Store())],
            value=self.stack_call("pop"), type_comment=None), stmt)
        read = set().union(*(loaded_names(s) for s in code + [restore]))
        if array not in stmt.sg_rebound_before:
            read.discard(array)  # the same array throughout: its contents are restored below
        pushes, pops, recompute = self.serve_reads(read, stmt.sg_unsafe_before, stmt)
        # The array's binding comes back first (pushed last), then its elements go back into it.
        return [save] + pushes + [stmt], pops + [restore] + recompute + code, state

    def accumulating_rule(self, stmt, rule, bindings, name, previous, state):
        """Indexing reads: add the adjoint into a slice of the operand's adjoint, in place."""
        operand = bindings[rule.differentiable[0]]
        source = _original(operand.id, name, previous)
        code = []
        if source == name:  # x = x[i]
            scratch = self.names.fresh("d" + name + "_prev")
            code.append(assign(scratch, self.zeros_like(load(previous)), stmt))
            accumulator = scratch
        else:
            accumulator = self.adjoint(source)
            code += self.make_owned(accumulator, state, stmt)
        bindings["dx"] = load(accumulator)
        if source in self.list_names and rule.function.__name__ != "field_rule":
            # items[k]: replace the element, never add in place
            element = subscript(load(accumulator), clone(bindings["index"]))
            total = call(self.runtime("add_each"), element, bindings["g"]) \
                if name in self.list_names else \
                gast.BinOp(left=element, op=gast.Add(), right=bindings["g"])  # (a container)
            update = gast.Assign(targets=[gast.Subscript(value=load(accumulator),
                                                         slice=clone(bindings["index"]),
                                                         ctx=gast.Store())],
                                 value=total, type_comment=None)
            code.append(located(update, stmt))
            state[self.adjoint(name)] = ZERO
            return code
        body, _ = inline_rule(rule, bindings, (), self.names, self.binder)
        code += [located(self.basic_index_update(s), stmt) for s in body]
        if source == name:
            code.append(assign(self.adjoint(name), load(scratch), stmt))
            state[self.adjoint(name)] = OWNED
        else:
            state[self.adjoint(name)] = ZERO
        return code

    def basic_index_update(self, stmt):
        """``add_at(d, i, g)`` -> ``d[i] += g`` when ``i`` cannot repeat an element (loop
        counters, and names the shapes know are numbers: one number picks one element, or for
        a bool all of them once, as add_at does; a float fails in both)."""
        value = getattr(stmt, "value", None)
        numbers = {name for name, shape in self.shapes.items() if shape == ()} \
            if self.shapes is not None else set()
        if (isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) and len(value.args) == 3
                and _is_basic_index(value.args[1], self.integer_names | numbers)):
            target, index, g = value.args
            return gast.AugAssign(target=gast.Subscript(value=target, slice=index,
                                                        ctx=gast.Store()),
                                  op=gast.Add(), value=g)
        if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) and len(value.args) == 3:
            value.args[1] = self.index_value(value.args[1])  # x[:, [0, 2]]: a value to pass
            if isinstance(value.args[0], gast.Name):  # d = add_at(d, i, g): a value, which a
                return gast.Assign(targets=[store(value.args[0].id)], value=value,  # second
                                   type_comment=None)  # derivative can differentiate again
        if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) and len(value.args) == 4 \
                and isinstance(value.args[0], gast.Name):  # d = add_field(d, x, name, g)
            return gast.Assign(targets=[store(value.args[0].id)], value=value, type_comment=None)
        return stmt

    def index_value(self, index):
        """An index as a value (``(slice(None), [0, 2])``), to pass to add_at."""
        if isinstance(index, gast.Tuple):
            return gast.Tuple(elts=[self.index_value(e) for e in index.elts], ctx=gast.Load())
        if isinstance(index, gast.Slice):
            parts = [index.lower, index.upper, index.step]
            return call(self.binder.bind("slice", slice),
                        *[p if p is not None else constant(None) for p in parts])
        return index

    def previous_name(self, name):
        """The name the value of ``name`` before ``name = f(name)`` goes by in the adjoint."""
        if name not in self.previous_names:
            self.previous_names[name] = self.names.fresh(name + "_prev")
            self.previous_of[self.previous_names[name]] = name
        return self.previous_names[name]

    def with_reads(self, stmt, name, code, state, previous=None):
        """Wrap an assignment's adjoint code with what it needs of primal values. ``name``:
        the name the statement binds (or the set of them)."""
        read = set().union(*(loaded_names(s) for s in code)) if code else set()
        new = (name if isinstance(name, set) else {name}) & read
        old = read - new - {previous}
        if previous and previous in read:
            old.add(previous)
        pushes_before, pops_before, recompute = self.serve_reads(
            old, stmt.sg_unsafe_before, stmt, pop_into={previous: name} if previous else None)
        pushes_after, pops_after, recompute_new = self.serve_reads(new, stmt.sg_unsafe_after, stmt)
        primal = pushes_before + [stmt] + pushes_after
        adjoint = pops_after + pops_before + recompute_new + recompute + code
        return primal, adjoint, state

    def bind_operation(self, value, stmt):
        """The rule of the operation ``value`` performs and its arguments by parameter name."""
        primitive, args, keywords = bind_call(value)
        if primitive is None and args is None:
            return None, {}
        rule = rule_for(primitive)
        if rule is None:
            raise self.parsed.unsupported(stmt, f"the operation {unparse(value)}",
                                          "it has no derivative rule")
        signature = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                         default=rule.defaults.get(p, inspect.Parameter.empty))
                                       for p in rule.params])
        try:
            bound = signature.bind(*args, **{k.arg: k.value for k in keywords})
        except TypeError as error:
            raise self.parsed.unsupported(
                stmt, f"the call {unparse(value)} ({error})",
                f"the derivative rule of {rule.name} takes ({', '.join(rule.params)})") from None
        bindings = {p: v for p, v in bound.arguments.items()}
        for option, default in rule.defaults.items():
            if option not in bindings:
                bindings[option] = literal(default) or load(self.binder.bind(option, default))
        return rule, bindings

    # -- control flow --------------------------------------------------------------------------
    def if_statement(self, stmt, state):
        body_primal, body_adjoint, body_state = self.block(stmt.body, dict(state))
        else_primal, else_adjoint, else_state = self.block(stmt.orelse, dict(state))
        if not body_adjoint and not else_adjoint and _same_state(body_state, else_state):
            return [replace(stmt, body=body_primal, orelse=else_primal)], [], body_state
        merged = {}
        for adjoint in set(body_state) | set(else_state):
            a, b = body_state.get(adjoint, ZERO), else_state.get(adjoint, ZERO)
            if a == ZERO and b != ZERO:
                body_primal, body_adjoint = self.zero_at_start(
                    adjoint, body_primal, body_adjoint, stmt.sg_unsafe_before, stmt)
                a = OWNED
            elif b == ZERO and a != ZERO:
                else_primal, else_adjoint = self.zero_at_start(
                    adjoint, else_primal, else_adjoint, stmt.sg_unsafe_before, stmt)
                b = OWNED
            merged[adjoint] = a if a == b else SHARED
        test, primal_prefix, primal_suffix, adjoint_prefix = self.replayable(
            stmt.test, stmt.sg_unsafe_before, "branch", stmt)
        forward = primal_prefix + [replace(stmt, test=test, body=body_primal,
                                            orelse=else_primal)] + primal_suffix
        if not body_adjoint:
            test, body_adjoint, else_adjoint = negate(test), \
                else_adjoint, []
        backward = adjoint_prefix + [located(gast.If(test=clone(test), body=body_adjoint,
                                                     orelse=else_adjoint), stmt)]
        return forward, backward, merged

    def zero_at_start(self, adjoint, primal, adjoint_code, unsafe, like):
        """Append ``d = zeros_like(x)`` to a path's adjoint (mirrors the start of its primal).

        Where ``x`` may not exist yet (a first loop iteration), nothing can read this adjoint's
        value, and a plain ``0.0`` stands in for it.
        """
        if self.primal_of[adjoint] not in like.sg_defined_before:
            self.scalar_zeros.add(adjoint)
            self.stand_in_used = True
            return primal, adjoint_code + [assign(adjoint, constant(0.0), like)]
        zeros = self.zeros_for(adjoint, like)
        pushes, pops, recompute = self.serve_reads({self.primal_of[adjoint]}, unsafe, like)
        return pushes + primal, adjoint_code + pops + recompute + [zeros]

    def replayable(self, expr, unsafe, hint, like):
        """An expression the adjoint can evaluate again, with the statements that make it so.

        Returns (expression, primal prefix, primal suffix, adjoint prefix). When a name in
        ``expr`` may change before the adjoint runs, its value is kept in a variable, which is
        pushed once the compound statement ends if an enclosing loop would overwrite it.
        """
        if not (loaded_names(expr) & unsafe & self.locals):
            return expr, [], [], []
        if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and \
                self.parsed.namespace.get(expr.func.id) is range and not expr.keywords:
            # range(len(a)): its integer bounds are kept, not the range, which code that is
            # differentiated again would take off the tape as a differentiable value
            parts = [self.replayable(arg, unsafe, hint, like) for arg in expr.args]
            return (replace(expr, args=[part[0] for part in parts]),
                    [s for part in parts for s in part[1]], [s for part in parts for s in part[2]],
                    [s for part in reversed(parts) for s in part[3]])
        name = self.names.fresh(hint)
        prefix = [assign(name, expr, like)]
        if self.loop_depth == 0:
            return load(name), prefix, [], []
        push, pop = self.save(name, name, like)
        return load(name), prefix, [push], [pop]

    def loop_body(self, stmt, state):
        """Generate a loop body whose adjoint leaves every adjoint as it found it."""
        stand_in_before = self.stand_in_used
        names_before = set(self.names.taken)
        self.loop_depth += 1
        entry = dict(state)
        # The adjoint of a name first bound inside the loop that is live from one iteration to
        # the next may start from the 0.0 stand-in (see zero_at_start and before_loop).
        first_bound = {self.adjoint(name) for name in sorted(
            assigned_names(stmt.body) - stmt.sg_defined_before) if name in self.varied}
        outer_zeros = set(self.scalar_zeros)
        carried = set()  # stand-ins that reach the end of an iteration's adjoint
        taken = set(self.names.taken)
        for _ in range(8):
            self.scalar_zeros = outer_zeros | carried | {
                a for a in first_bound if entry.get(a, ZERO) != ZERO}
            # Each attempt must hand out the same names, so the final one reads as the first.
            self.reset_names(taken | {self.stack_name} | set(self.previous_names.values()))
            primal, adjoint, exit_state = self.block(stmt.body, dict(entry))
            changed = False
            for name in set(entry) | set(exit_state):
                before, after = entry.get(name, ZERO), exit_state.get(name, ZERO)
                if before == ZERO and after != ZERO:
                    entry[name], changed = OWNED, True
                elif before == OWNED and after == SHARED:
                    entry[name], changed = SHARED, True
                elif before == OWNED and after == ZERO and \
                        self.primal_of[name] not in stmt.sg_defined_before:
                    # It restarts from a plain 0.0 (its value may not exist yet): not an array.
                    entry[name], changed = SHARED, True
            reaching = {a for a in self.scalar_zeros - outer_zeros - carried
                        if exit_state.get(a, ZERO) != ZERO}
            if reaching:
                carried |= reaching
                changed = True
            if not changed:
                break
        for name in sorted(entry):
            if entry[name] != ZERO and exit_state.get(name, ZERO) == ZERO:
                primal, adjoint = self.zero_at_start(name, primal, adjoint,
                                                     stmt.sg_unsafe_in_body, stmt)
        self.loop_depth -= 1
        if self.stand_in_used and not stand_in_before:
            # A 0.0 stand-in appeared only now: generate again, so that in-place updates in
            # the body first give their adjoint a real array.
            self.reset_names(names_before)
            return self.loop_body(stmt, state)
        return primal, adjoint, entry

    def before_loop(self, stmt, state, entry):
        """Adjoint statements that bring adjoints into the state the loop body expects."""
        code, reads = [], set()
        for name in sorted(entry):
            status = state.get(name, ZERO)
            if status == entry[name] or (status == OWNED and entry[name] == SHARED):
                continue
            if status == ZERO and entry[name] != OWNED and \
                    self.primal_of[name] not in stmt.sg_defined_before:
                code.append(assign(name, constant(0.0), stmt))  # the loop may not run at all
                self.scalar_zeros.add(name)
                self.stand_in_used = True
            elif status == ZERO:
                code.append(self.zeros_for(name, stmt))
                reads.add(self.primal_of[name])
            else:
                code.append(assign(name, call(self.runtime("copy_of"), load(name)), stmt))
        pushes, pops, recompute = self.serve_reads(reads, stmt.sg_unsafe_after, stmt)
        return pushes, pops + recompute + code

    def for_loop(self, stmt, state):
        body_primal, body_adjoint, entry = self.loop_body(stmt, state)
        if not body_adjoint:
            return [replace(stmt, body=body_primal)], [], state
        backward_loop = _is_reversed(stmt.iter, self.parsed.namespace)
        # reversed(x): what is kept for the adjoint is x (the iterator would be used up)
        iterable, prefix, suffix, adjoint_prefix = self.replayable(
            stmt.iter.args[0] if backward_loop else stmt.iter, stmt.sg_unsafe_before,
            stmt.target.id + "_values", stmt)
        if backward_loop:
            iterable = replace(stmt.iter, args=[iterable])
        after_pushes, setup = self.before_loop(stmt, state, entry)
        executed = clone(iterable)
        if _breaks(stmt.body) and isinstance(executed, gast.Call) and not (
                isinstance(executed.func, gast.Name) and executed.func.id == "range"):
            executed = call(self.binder.bind("list", list), executed)  # reversed(...)[:n]
        if _breaks(stmt.body):  # the adjoint runs over the iterations that ran
            count, start, counting, count_push, count_pop = self.counter(stmt)
            body_primal = [counting] + body_primal
            prefix, suffix = prefix + [start], suffix + count_push
            adjoint_prefix = count_pop + adjoint_prefix  # pushed last, so popped first
            executed = gast.Subscript(value=executed, slice=gast.Slice(
                lower=None, upper=load(count), step=None), ctx=gast.Load())
        forward = prefix + [replace(stmt, iter=iterable, body=body_primal)] + suffix + after_pushes
        backwards = executed.args[0] if _is_reversed(executed, self.parsed.namespace) else \
            call(self.binder.bind("reversed", reversed), executed)
        reverse = located(gast.For(target=store(stmt.target.id), iter=backwards,
                                   body=body_adjoint, orelse=[], type_comment=None), stmt)
        return forward, setup + adjoint_prefix + [reverse], entry

    def counter(self, stmt):
        """A count of a loop's iterations: its name, ``n = 0``, ``n = n + 1``, and its save."""
        count = self.names.fresh("iterations")
        start = assign(count, constant(0), stmt)
        counting = assign(count, gast.BinOp(left=load(count), op=gast.Add(), right=constant(1)),
                          stmt)
        if self.loop_depth == 0:
            return count, start, counting, [], []
        push, pop = self.save(count, count, stmt)
        return count, start, counting, [push], [pop]

    def while_loop(self, stmt, state):
        body_primal, body_adjoint, entry = self.loop_body(stmt, state)
        if not body_adjoint:
            return [replace(stmt, body=body_primal)], [], state
        after_pushes, setup = self.before_loop(stmt, state, entry)
        count, start, counting, count_push, count_pop = self.counter(stmt)
        forward = [start, replace(stmt, body=[counting] + body_primal)] + count_push + after_pushes
        reverse = located(gast.For(target=store(self.names.fresh("_")),
                                   iter=call(self.binder.bind("range", range), load(count)),
                                   body=body_adjoint, orelse=[], type_comment=None), stmt)
        return forward, setup + count_pop + [reverse], entry

    # -- the whole function --------------------------------------------------------------------
    def sweeps(self, wrt, scalar_output):
        """(primal statements, adjoint statements, returned value, adjoint expressions of wrt,
        name of the output's adjoint).

        With ``scalar_output`` (grad) the output must be a scalar and its adjoint starts at 1;
        otherwise (vjp) the output's adjoint is a parameter of the pullback.
        """
        *stmts, final = self.body
        annotate_unsafe(self.body)
        annotate_defined(self.body, self.params)
        annotate_available(self.body)
        if self.shapes is not None:
            self.zero_shifts = zero_shift_adjoints(
                self.body, lambda name: self.shapes.get(name, UNKNOWN),
                lambda node: getattr(node, "sg_function", None) or self.resolve(node.func))
        result = final.value
        state, seed_code = {}, []
        if isinstance(result, gast.Tuple):
            if scalar_output:
                raise NonScalarOutput(
                    f"grad needs {self.parsed.name} to return a scalar, but it returns a tuple "
                    f"({self.parsed.filename}, line {final.lineno}); use srcgrad.vjp")
            output_adjoint = self.names.fresh("dresult")
            for position, element in enumerate(result.elts):
                if isinstance(element, gast.Name) and element.id in self.varied:
                    seed_code += self.accumulate(
                        element.id, subscript(load(output_adjoint), constant(position)), state,
                        final)
        elif isinstance(result, gast.Name) and result.id in self.varied:
            output_adjoint = self.adjoint(result.id)
            state[output_adjoint] = SHARED
            if not scalar_output and self.shapes is not None and \
                    is_known(self.shapes.get(result.id)) and self.shapes[result.id] != ():
                # The caller's cotangent may be a number standing for an array: give it shape.
                seed_code.append(assign(output_adjoint, call(
                    self.runtime("broadcast_like"), load(output_adjoint), load(result.id)), final))
            elif not scalar_output:
                self.seed_parameter = output_adjoint
            if scalar_output:
                check = call(self.binder.bind("scalar_seed", scalar_seed), load(result.id),
                             constant(self.parsed.name))
                seed_code.append(assign(output_adjoint, check, final))
        else:
            output_adjoint = self.names.fresh("dout")
        primal, adjoint, state = self.block(stmts, state)
        gradients = []
        start_reads = set()
        for name in wrt:
            adjoint_name = self.adjoint(name)
            if state.get(adjoint_name, ZERO) == ZERO:
                if self.is_number(name):
                    gradients.append(constant(0.0))
                    continue
                gradients.append(call(self.runtime("zeros_like_each"), load(name))
                                 if name in self.list_names else self.zeros_like(load(name)))
                start_reads.add(name)
            elif self.stand_in_used:  # a 0.0 stand-in may have flowed into it: give it shape
                gradient = self.specialize(call(self.binder.bind("unbroadcast", unbroadcast),
                                                load(adjoint_name), load(name)))
                gradients.append(gradient)
                start_reads |= loaded_names(gradient) & {name}
            else:
                gradients.append(load(adjoint_name))
        unsafe = assigned_names(self.body)
        pushes, pops, recompute = self.serve_reads(start_reads, unsafe, final)
        primal, adjoint = drop_redundant_saves(pushes + primal, seed_code + adjoint + pops
                                               + recompute, self.saved_pairs)
        return primal, adjoint, result, gradients, output_adjoint


def call_arguments(function, value, stmt, parsed, varied):
    """(parameter, argument) of a call of a user function: by name, or for a callee known only
    at run time (DynamicCallee), by position and keyword as written. A differentiated value
    may not go into the callee's ``*args`` or ``**kwargs`` (read there as constants)."""
    if isinstance(function, DynamicCallee):
        return list(enumerate(value.args)) + [(k.arg, k.value) for k in value.keywords]
    signature = inspect.signature(function)
    args, keywords = value.args, [k for k in value.keywords if k.arg is not None]
    unpacked = [i for i, a in enumerate(args) if isinstance(a, gast.Starred)]
    if unpacked or len(keywords) < len(value.keywords):
        # f(x, *rest, **options) with constants unpacked: the arguments written before them
        # bind by position and name; nothing after them may carry a derivative.
        after = args[unpacked[0]:] if unpacked else []
        if any(_is_active(getattr(a, "value", a), varied) for a in after):
            raise parsed.unsupported(stmt, f"a differentiated argument after *arguments in "
                                     f"{unparse(value)}", "pass it before the unpacked ones")
        args = args[:unpacked[0]] if unpacked else args
        signature = signature.replace(parameters=[
            p.replace(default=None) if p.default is p.empty and p.kind not in (
                p.VAR_POSITIONAL, p.VAR_KEYWORD) else p
            for p in signature.parameters.values()])
    try:
        bound = signature.bind(*args, **{k.arg: k.value for k in keywords})
    except TypeError as error:
        raise parsed.unsupported(stmt, f"the call {unparse(value)} ({error})") from None
    for name, argument in list(bound.arguments.items()):
        kind = signature.parameters[name].kind
        packed = argument.values() if kind is inspect.Parameter.VAR_KEYWORD else \
            argument if kind is inspect.Parameter.VAR_POSITIONAL else ()
        if any(_is_active(a, varied) for a in packed):
            star = "**" if kind is inspect.Parameter.VAR_KEYWORD else "*"
            raise parsed.unsupported(
                stmt, f"{unparse(value)}, where a differentiated value goes into "
                f"{star}{name} of {function.__name__}",
                f"{star}{name} is read as a constant; give {function.__name__} a named "
                "parameter for it")
    return list(bound.arguments.items())


def _same_state(left, right):
    return all(left.get(k, ZERO) == right.get(k, ZERO) for k in set(left) | set(right))


def _is_reversed(expr, namespace):
    """Is ``expr`` a call ``reversed(x)`` (a loop that generated code already runs backwards)?"""
    return isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and \
        namespace.get(expr.func.id) is reversed and len(expr.args) == 1


def _breaks(body):
    """Can ``body`` leave its loop early (a break of its own, not of a nested loop)?"""
    for stmt in body:
        if isinstance(stmt, gast.Break):
            return True
        if isinstance(stmt, gast.If) and _breaks(stmt.body + stmt.orelse):
            return True
    return False


def _definitions(body):
    found = {}
    for node in gast.walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Assign):
            for name in assigned_names(node.targets) | mutated_names(node):
                found.setdefault(name, []).append(node)
        elif isinstance(node, gast.For):
            for name in assigned_names(node.target):
                found.setdefault(name, []).extend([node, node])  # never rematerialized
    return found


def _range_loop_targets(body):
    """Loop variables that run over ``range(...)``: integers, so ``x[i]`` picks one element."""
    found = set()
    for node in nodes_in(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.For) and isinstance(node.iter, gast.Call) and \
                isinstance(node.iter.func, gast.Name) and node.iter.func.id == "range":
            found.add(node.target.id)
    return found


def _is_basic_index(index, integer_names):
    """Does indexing with ``index`` select each element at most once (no fancy indexing)?"""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return all(isinstance(part, gast.Slice) or _is_integer(part, integer_names) or
               (isinstance(part, gast.Constant) and part.value in (None, Ellipsis))
               for part in parts)


def _is_integer(expr, integer_names):
    """An int for sure: int constants and loop counters combined with + - * // %."""
    if isinstance(expr, gast.Constant):
        return type(expr.value) is int
    if isinstance(expr, gast.Name):
        return expr.id in integer_names
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, (gast.USub, gast.UAdd)):
        return _is_integer(expr.operand, integer_names)
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Add, gast.Sub, gast.Mult,
                                                             gast.FloorDiv, gast.Mod)):
        return _is_integer(expr.left, integer_names) and _is_integer(expr.right, integer_names)
    return False


def _is_active(expr, varied):
    if isinstance(expr, gast.Name):
        return expr.id in varied
    if isinstance(expr, (gast.List, gast.Tuple)):
        return any(_is_active(e, varied) for e in expr.elts)
    return False


def _original(name, target, previous):
    return target if previous and name == previous else name


def drop_redundant_saves(primal, adjoint, pop_targets):
    """Remove a push whose value a later push in the same block saves again.

    Two statements that read ``v`` with no assignment to ``v`` between them each save it; the
    adjoint pops the later one first, and the value it restores serves the earlier read too.
    """
    redundant = set()

    def scan(block):
        last_push = {}
        for stmt in block:
            pair = getattr(stmt, "sg_pair", None)
            if pair is not None:
                source = stmt.value.args[0].id
                earlier = last_push.get(source)
                if earlier is not None and pop_targets[earlier] == pop_targets[pair]:
                    redundant.add(earlier)
                last_push[source] = pair
                continue
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    scan(getattr(stmt, field))
            for name in assigned_names(stmt):
                last_push.pop(name, None)

    def prune(block):
        kept = [s for s in block if getattr(s, "sg_pair", None) not in redundant]
        for stmt in kept:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, prune(getattr(stmt, field)))
        return kept

    scan(primal)
    return prune(primal), prune(adjoint)


def resolve(expr, local_names, binder, namespace):
    """The object a global name or an attribute of a module names (``np.sum``, a helper bound
    in ``binder``, a name of the user's ``namespace``, a builtin), or None (a local variable)."""
    if isinstance(expr, gast.Name):
        if expr.id in local_names:
            return None
        return binder.bound.get(expr.id, namespace.get(expr.id, getattr(builtins, expr.id, None)))
    if isinstance(expr, gast.Attribute):
        base = resolve(expr.value, local_names, binder, namespace)
        return getattr(base, expr.attr, None) if inspect.ismodule(base) else None
    return None


def _elementwise_operands(expr):
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


def _simple_statements(stmt):
    """``stmt`` and the statements nested in it, compound ones left out."""
    if isinstance(stmt, (gast.If, gast.For, gast.While)):
        return [s for child in stmt.body + stmt.orelse for s in _simple_statements(child)]
    return [stmt]


def _put(parent, field, index, value):
    if index is None:
        setattr(parent, field, value)
    else:
        getattr(parent, field)[index] = value


def _indexed_names(body):
    """Names that are indexed or written element by element: their adjoints must be arrays."""
    found = set()
    for node in nodes_in(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name):
            found.add(node.value.id)
    return found
