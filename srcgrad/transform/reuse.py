"""Arithmetic computed into an array that nothing reads afterwards.

``v = a * k * t``, where ``a`` is an array this function made that nothing reads after this
statement, becomes ``a *= k``, ``a *= t``, ``v = a``: no new array (NumPy makes one per
operation otherwise, and at 10^6 elements each is 8 MB to allocate and fault in). The same for
``d = d - x`` -> ``d -= x``, ``d += a * w`` -> ``a *= w``, ``d += a``, ``return a * k`` and
``-(a * k)`` (``np.negative(a, out=a)``), ``np.exp(a)`` (``np.exp(a, out=a)``: any ufunc of one
argument); ``k - a`` is ``np.subtract(k, a, out=a)``. Each
in-place step must give the value the expression gave, so:

* the array is *owned* (``_owned``): every binding of its name makes a new array (arithmetic,
  a ufunc, a reduction) or updates it in place, and every read of it only reads it (an operand
  of arithmetic, a ufunc or reduction, the returned value): no second name, view, list or stack
  holds it;
* it is not read after the statement (``_live_after``; in a loop, by the next iteration either);
* each step's result has the array's shape (the shapes the code is specialized to: a smaller
  array that broadcasts up cannot hold it) and its dtype (dtypes.py, from the dtypes of the
  call's arguments: ``a *= b`` of a float32 ``a`` and a float64 ``b`` would be cast down, of a
  complex ``b`` refused);
* never in code differentiated again (``specializer.differentiable``).

Only the reusable side of each operation is rewritten; floating-point results are the same bit
for bit (``k * a`` becomes ``a *= k``: IEEE products and sums commute exactly). NumPy and CuPy
arrays have in-place arithmetic; on Dask, Python runs ``a *= k`` as ``a = a * k``, and ``out=``
rebinds the array.
"""
import math

import gast
import numpy as np

from .build import load, nodes_in, store
from .dtypes import Kinds, infer_kinds

# NumPy's in-place arithmetic on one-element arrays takes twice as long as making a new one
# (about 0.7 against 0.3 us); from two elements on it is as quick or quicker.
MIN_ELEMENTS = 2

_IN_PLACE = (gast.Add, gast.Sub, gast.Mult, gast.Div)
_COMMUTATIVE = (gast.Add, gast.Mult)
_REVERSED = {gast.Sub: "subtract", gast.Div: "divide"}

# Functions that read their arguments and return a new array (or a number), never a view.
_MAKERS = {np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.dot, np.matmul, np.outer,
           np.zeros_like, np.ones_like, np.square, np.abs, np.absolute, np.negative, np.where,
           np.maximum, np.minimum}


def compute_in_place(function_def, specializer, parameter_kinds):
    """Rewrite ``function_def`` in place (see the module docstring). ``parameter_kinds``:
    parameter name -> kind (dtypes.argument_kind) of the argument the code is made for."""
    if specializer.differentiable or not parameter_kinds:
        return function_def
    nodes = list(nodes_in(function_def))
    owned = _owned(function_def, specializer, nodes)
    shapes = specializer.shape_reader(specializer.final_shapes)
    if not any(_array_shape(shapes.of(load(name))) for name in owned):
        return function_def
    names, pops = infer_kinds(function_def, parameter_kinds, specializer.called, nodes)
    if not any(isinstance(names.get(n), np.dtype) for n in owned):
        return function_def
    rewriter = _Rewriter(specializer, Kinds(names, specializer.called, pops), owned, {})
    rewriter.negations_folded(function_def.body)
    _live_in(function_def.body, set(), rewriter.live)
    rewriter.block(function_def.body)
    return function_def


class _Rewriter:
    def __init__(self, specializer, kinds, owned, live):
        self.specializer = specializer
        self.shapes = specializer.shape_reader(specializer.final_shapes)
        self.kinds = kinds
        self.owned = owned
        self.live = live  # id of a statement -> the names read after it before being bound

    def negations_folded(self, body):
        """``d = -(p)``, then ``d += q`` with nothing between reading or writing ``d`` ->
        ``d = p`` and ``d = q - d``: one pass over the array less, the same values bit for bit
        (IEEE's ``q - p`` is ``q + (-p)``), where ``q - d`` has ``d``'s shape and dtype, as
        ``d += q`` kept them."""
        for stmt in body:
            if type(stmt) in (gast.For, gast.While, gast.If):
                self.negations_folded(stmt.body)
                self.negations_folded(stmt.orelse)
        for index, stmt in enumerate(body):
            if not (type(stmt) is gast.Assign and len(stmt.targets) == 1 and
                    type(stmt.targets[0]) is gast.Name and type(stmt.value) is gast.UnaryOp and
                    type(stmt.value.op) is gast.USub):
                continue
            name = stmt.targets[0].id
            for later in body[index + 1:]:
                if type(later) is gast.AugAssign and type(later.target) is gast.Name and \
                        later.target.id == name:
                    difference = gast.BinOp(left=later.value, op=gast.Sub(), right=load(name))
                    # (p itself a new array: d = x would lend d a parameter's array, which
                    # d = q - d, computed into d, would then overwrite)
                    if type(later.op) is gast.Add and not _reads(later.value, name) and \
                            _makes_new_array(stmt.value.operand, self.specializer) and \
                            self.same_array(difference, name):
                        stmt.value = stmt.value.operand
                        position = body.index(later)
                        body[position] = gast.copy_location(gast.Assign(
                            targets=[store(name)], value=difference, type_comment=None), later)
                    break
                if _reads(later, name):
                    break

    def block(self, body):
        index = 0
        while index < len(body):
            stmt = body[index]
            if type(stmt) in (gast.For, gast.While, gast.If):
                self.block(stmt.body)
                self.block(stmt.orelse)
            replacement = self.statement(stmt)
            if replacement is None:
                index += 1
                continue
            body[index:index + 1] = [gast.copy_location(s, stmt) for s in replacement]
            index += len(replacement)

    def statement(self, stmt):
        kind = type(stmt)
        if kind is gast.Assign and len(stmt.targets) == 1 and \
                type(stmt.targets[0]) is gast.Name:
            target = stmt.targets[0].id
            found = self.into(stmt.value, stmt, target)
            if found is None or not found[1]:
                return None
            name, steps, _ = found
            if name == target:
                return steps
            return steps + [gast.Assign(targets=[store(target)], value=load(name),
                                        type_comment=None)]
        if kind is gast.AugAssign and type(stmt.target) is gast.Name and \
                isinstance(stmt.op, _IN_PLACE):
            found = self.into(stmt.value, stmt, None)
            if found is None or not found[1] or stmt.target.id in found[2]:
                return None  # (d += d * k: d must keep its value until the +=)
            name, steps, _ = found
            return steps + [gast.AugAssign(target=store(stmt.target.id), op=stmt.op,
                                           value=load(name))]
        if kind is gast.Return and stmt.value is not None:
            found = self.into(stmt.value, stmt, None)
            if found is None or not found[1]:
                return None
            name, steps, _ = found
            return steps + [gast.Return(value=load(name))]
        return None

    def same_array(self, expr, name):
        """Does ``expr``'s value fit the array ``name`` holds: its shape and its dtype?"""
        shape = self.shapes.of(load(name))
        if not _array_shape(shape):
            return False
        kind = self.kinds.names.get(name)
        if not isinstance(kind, np.dtype) or self.shapes.of(expr) != shape:
            return False
        found = self.kinds.of(expr)
        return isinstance(found, np.dtype) and found == kind

    def into(self, expr, stmt, target):
        """(name, statements, names written) computing ``expr`` into the array of ``name``,
        or None. The statements change the arrays of the names written (``name`` among them
        where there are statements), and only those: each is read by nothing evaluated after
        its change (the checks below) and by nothing after the statement (``self.live``)."""
        kind = type(expr)
        if kind is gast.Name:
            name = expr.id
            if name in self.owned and (name == target or name not in self.live[id(stmt)]):
                return name, [], frozenset()
            return None
        if kind is gast.UnaryOp and type(expr.op) is gast.USub:
            found = self.into(expr.operand, stmt, target)
            if found is None or not self.same_array(expr, found[0]):
                return None
            name, steps, written = found
            negate = gast.Call(func=self.specializer.np_function("negative"),
                               args=[load(name)], keywords=[gast.keyword(arg="out",
                                                                         value=load(name))])
            return name, steps + [gast.Expr(value=negate)], written | {name}
        if kind is gast.Call and len(expr.args) == 1 and not expr.keywords and \
                type(expr.args[0]) is not gast.Starred and _unary_ufunc(expr, self.specializer):
            found = self.into(expr.args[0], stmt, target)
            if found is None or not self.same_array(expr, found[0]):
                return None
            name, steps, written = found  # np.exp(a, out=a): the values np.exp(a) has
            applied = gast.Call(func=expr.func, args=[load(name)],
                                keywords=[gast.keyword(arg="out", value=load(name))])
            return name, steps + [gast.Expr(value=applied)], written | {name}
        if kind is not gast.BinOp or not isinstance(expr.op, _IN_PLACE):
            return None
        left = self.into(expr.left, stmt, target)
        if left is not None and self.same_array(expr, left[0]) and \
                not _reads_any(expr.right, left[2]):  # the right side sees no changed array
            name, steps, written = left
            more, value, also = self.operand(expr.right, stmt, name)
            return name, steps + more + [gast.AugAssign(target=store(name), op=type(expr.op)(),
                                                        value=value)], written | also | {name}
        right = self.into(expr.right, stmt, target)
        if right is None or not self.same_array(expr, right[0]) or \
                _reads_any(expr.left, right[2]):
            return None
        name, steps, written = right
        if isinstance(expr.op, _COMMUTATIVE):
            more, value, also = self.operand(expr.left, stmt, name)
            return name, steps + more + [gast.AugAssign(target=store(name), op=type(expr.op)(),
                                                        value=value)], written | also | {name}
        reversed_op = gast.Call(func=self.specializer.np_function(_REVERSED[type(expr.op)]),
                                args=[expr.left, load(name)],
                                keywords=[gast.keyword(arg="out", value=load(name))])
        return name, steps + [gast.Expr(value=reversed_op)], written | {name}

    def operand(self, expr, stmt, used):
        """(statements, expression, names written): ``expr`` computed into another array
        nothing reads afterwards, which the expression then names; else ([], ``expr``, {}).
        ``used``: the array the enclosing operation goes into, which must keep its value."""
        if type(expr) is gast.Name:
            return [], expr, frozenset()
        found = self.into(expr, stmt, None)
        if found is None or not found[1] or used in found[2] or \
                not self.same_array(expr, found[0]):
            return [], expr, frozenset()
        return found[1], load(found[0]), found[2]


def _reads_any(expr, names):
    return bool(names) and any(type(n) is gast.Name and n.id in names for n in nodes_in(expr))


def _reads(expr, name):
    return any(type(n) is gast.Name and n.id == name for n in nodes_in(expr))


def _array_shape(shape):
    """Is ``shape`` an array's, known, of at least MIN_ELEMENTS elements?"""
    return isinstance(shape, tuple) and bool(shape) and None not in shape and \
        math.prod(shape) >= MIN_ELEMENTS


def _makes_new_array(value, specializer):
    """Does ``value`` certainly make a new array (or number), never a view or a name's array?"""
    if type(value) in (gast.BinOp, gast.UnaryOp):
        return True
    if type(value) is not gast.Call or any(k.arg == "out" for k in value.keywords):
        return False
    try:
        function = specializer.called(value)
        return isinstance(function, np.ufunc) or function in _MAKERS
    except TypeError:
        return False


def _owned(function_def, specializer, nodes):
    """Names each binding of which makes a new array or updates one in place, and each read of
    which reads it without keeping it (see the module docstring)."""
    candidates, refused = set(), set()
    plain = set()  # ids of the Name nodes that read plainly

    def reads(children):
        plain.update(id(c) for c in children if type(c) is gast.Name)

    for node in nodes:
        kind = type(node)
        if kind is gast.Assign:
            if len(node.targets) == 1 and type(node.targets[0]) is gast.Name and \
                    _makes_new_array(node.value, specializer):
                candidates.add(node.targets[0].id)
                plain.add(id(node.targets[0]))
        elif kind is gast.AugAssign:
            plain.add(id(node.target))
            reads([node.value])
        elif kind is gast.BinOp:
            reads([node.left, node.right])
        elif kind is gast.UnaryOp:
            reads([node.operand])
        elif kind is gast.Compare:
            reads([node.left, *node.comparators])
        elif kind is gast.Return:
            reads([node.value] + (node.value.elts if type(node.value) is gast.Tuple else []))
        elif kind is gast.Expr and type(node.value) is gast.Call:
            call = node.value  # np.tanh(a, out=a): an update in place
            if _ufunc(call, specializer):
                reads([k.value for k in call.keywords if k.arg == "out"])
        elif kind is gast.Call:
            if _ufunc(call := node, specializer) or _maker_call(call, specializer):
                reads(call.args)
        elif kind in (gast.Global, gast.Nonlocal):
            refused.update(node.names)
        elif kind in (gast.FunctionDef, gast.Lambda) and node is not function_def:
            refused.update(n.id for n in nodes_in(node) if type(n) is gast.Name)
        elif kind is gast.arguments:
            refused.update(n.id for n in nodes_in(node) if type(n) is gast.Name)
    for node in nodes:
        if type(node) is gast.Name and id(node) not in plain:
            refused.add(node.id)  # bound otherwise, or read in a way that may keep it
    return candidates - refused


def _ufunc(call, specializer):
    try:
        return isinstance(specializer.called(call), np.ufunc)
    except TypeError:
        return False


def _unary_ufunc(call, specializer):
    try:
        function = specializer.called(call)
        return isinstance(function, np.ufunc) and function.nin == 1 and function.nout == 1
    except TypeError:
        return False


def _maker_call(call, specializer):
    try:
        return specializer.called(call) in _MAKERS and \
            not any(k.arg == "out" for k in call.keywords)
    except TypeError:
        return False


def _loaded(tree):
    return {n.id for n in nodes_in(tree) if type(n) is gast.Name and type(n.ctx) is gast.Load}


def _bound(stmt):
    if type(stmt) is gast.Assign:
        return {n.id for t in stmt.targets if type(t) is gast.Name for n in [t]} | \
            {n.id for t in stmt.targets if type(t) in (gast.Tuple, gast.List)
             for n in t.elts if type(n) is gast.Name}
    return set()


def _live_in(body, live_out, live):
    """The names read by ``body`` before being bound, given those read after it; records the
    names live after each statement in ``live`` (id -> set)."""
    current = set(live_out)
    for stmt in reversed(body):
        live[id(stmt)] = set(current)
        kind = type(stmt)
        if kind is gast.Return:
            current = _loaded(stmt)
        elif kind is gast.If:
            current = _loaded(stmt.test) | _live_in(stmt.body, current, live) | \
                _live_in(stmt.orelse, current, live)
        elif kind in (gast.For, gast.While) and not any(
                type(n) in (gast.Break, gast.Continue, gast.Return) for n in nodes_in(stmt)):
            exit_ = _live_in(stmt.orelse, current, live)
            head = _loaded(stmt.test) if kind is gast.While else set()
            target = {n.id for n in nodes_in(stmt.target) if type(n) is gast.Name} \
                if kind is gast.For else set()
            end = exit_ | head  # read after the body: by the next iteration, or after the loop
            while True:
                body_in = _live_in(stmt.body, end, live) - target
                if body_in <= end:
                    break
                end |= body_in
            current = end | (_loaded(stmt.iter) if kind is gast.For else set())
        elif kind in (gast.Assign, gast.AugAssign, gast.Expr, gast.AnnAssign, gast.Pass,
                      gast.Delete):
            current = (current - _bound(stmt)) | _loaded(stmt) | \
                ({stmt.target.id} if kind is gast.AugAssign and
                 type(stmt.target) is gast.Name else set())
        else:  # anything else: every name it mentions is read, none bound
            current = current | {n.id for n in nodes_in(stmt) if type(n) is gast.Name}
            for inner in nodes_in(stmt):
                if isinstance(inner, gast.stmt):
                    live[id(inner)] = current | {
                        n.id for n in nodes_in(stmt) if type(n) is gast.Name}
    return current
