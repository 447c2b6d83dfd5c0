"""Facts about a function body: which names it assigns, which carry derivatives, what stays intact.

Activity is flow-insensitive: a name is *varied* if any assignment gives it a value computed from a
differentiated input through differentiable operations. Comparisons, shapes, integer helpers such
as ``len`` and functions declared non-differentiable stop the flow.
"""
import gast
import numpy as np

from ..rules import is_non_differentiable
from .build import nodes_in, statements_in_order  # noqa: F401  (nodes_in also imported from here)
from .scope import resolve


def index_trick(expr, namespace, local_names):
    """The function srcgrad reads ``np.r_[...]`` or ``np.c_[...]`` as, if ``expr`` names one."""
    from ..rules.arrays import INDEX_TRICKS
    obj = resolve(expr, namespace, local_names)
    return None if obj is None else INDEX_TRICKS.get(id(obj))

# Attributes of arrays that describe them rather than compute from their values.
INACTIVE_ATTRIBUTES = {"shape", "ndim", "dtype", "size", "itemsize", "nbytes"}
# Methods whose results carry no derivative: a dict's keys (names, never arrays, which cannot be
# keys: they are not hashable).
INACTIVE_METHODS = {"keys"}


def _names_with_context(node_or_nodes, context):
    roots = node_or_nodes if isinstance(node_or_nodes, list) else [node_or_nodes]
    names = set()
    for root in roots:
        for node in nodes_in(root):
            if type(node) is gast.Name and type(node.ctx) is context:
                names.add(node.id)
    return names


def assigned_names(node_or_nodes):
    """Every name a statement (or list of them) may bind, loop targets included."""
    return _names_with_context(node_or_nodes, gast.Store)


def mutated_names(node_or_nodes):
    """Arrays changed in place by element writes ``y[i] = value``, lists by ``append``."""
    nodes = node_or_nodes if isinstance(node_or_nodes, list) else [node_or_nodes]
    found = set()
    for root in nodes:
        for node in nodes_in(root):
            kind = type(node)
            if kind is gast.Assign and isinstance(node.targets[0], gast.Subscript):
                found.add(node.targets[0].value.id)
            elif kind is gast.Call and isinstance(node.func, gast.Attribute) and \
                    node.func.attr in ("append", "pop") and isinstance(node.func.value, gast.Name):
                found.add(node.func.value.id)
    return found


def changed_names(node_or_nodes):
    """Names whose value may change: rebound, or written into in place."""
    return bound_and_changed_names(node_or_nodes)[1]


def bound_and_changed_names(node_or_nodes):
    """(assigned_names, changed_names) of a statement or list of them, on one walk."""
    nodes = node_or_nodes if isinstance(node_or_nodes, list) else [node_or_nodes]
    bound, mutated = set(), set()
    Name, Store, Assign, Subscript, Call = gast.Name, gast.Store, gast.Assign, gast.Subscript, \
        gast.Call
    for root in nodes:
        for node in nodes_in(root):
            kind = type(node)
            if kind is Name:
                if type(node.ctx) is Store:
                    bound.add(node.id)
            elif kind is Assign and isinstance(node.targets[0], Subscript):
                mutated.add(node.targets[0].value.id)
            elif kind is Call and isinstance(node.func, gast.Attribute) and \
                    node.func.attr in ("append", "pop") and isinstance(node.func.value, Name):
                mutated.add(node.func.value.id)
    return bound, bound | mutated


def loaded_names(node):
    """Every name an expression or statement reads."""
    return _names_with_context(node, gast.Load)


def parameter_names(tree):
    args = tree.args
    return [a.id for a in args.posonlyargs + args.args + args.kwonlyargs]


def packed_parameter_names(tree):
    """The names of ``*args`` and ``**kwargs`` (read as constants: never differentiated)."""
    return [a.id for a in (tree.args.vararg, tree.args.kwarg) if a is not None]


def local_names(tree):
    """Names local to the function: its parameters and every name it assigns."""
    return set(parameter_names(tree) + packed_parameter_names(tree)) | assigned_names(tree.body)


class Activity:
    """Decides which expressions and names carry a derivative."""

    def __init__(self, namespace, locals_):
        self.namespace = namespace
        self.locals = locals_
        self.varied = set()
        self._calls = {}  # id(call node) -> (the node, whether its function has no derivative)

    def is_varied(self, expr):
        """Does ``expr`` compute a differentiable value from a varied name?"""
        if isinstance(expr, gast.Name):
            return expr.id in self.varied
        if isinstance(expr, (gast.Constant, gast.Compare, gast.Lambda)):
            return False
        if isinstance(expr, gast.UnaryOp):
            return not isinstance(expr.op, gast.Not) and self.is_varied(expr.operand)
        if isinstance(expr, gast.Attribute):
            if expr.attr in INACTIVE_ATTRIBUTES:
                return False
            return self.is_varied(expr.value)
        if isinstance(expr, gast.Subscript):  # np.r_[x, y] is varied by its index
            # but not by the bounds of a slice, which are integers (range(3)[:iterations])
            parts = expr.slice.elts if isinstance(expr.slice, gast.Tuple) else [expr.slice]
            return self.is_varied(expr.value) or any(
                self.is_varied(part) for part in parts if not isinstance(part, gast.Slice))
        if isinstance(expr, gast.Call):
            if isinstance(expr.func, gast.Attribute) and expr.func.attr in INACTIVE_METHODS or \
                    self._non_differentiable_call(expr):
                return False
            arguments = list(expr.args) + [k.value for k in expr.keywords]
            if isinstance(expr.func, gast.Attribute):  # a method of a varied value: x.sum()
                arguments.append(expr.func.value)
            return any(self.is_varied(a) for a in arguments)
        return any(self.is_varied(child) for child in gast.iter_child_nodes(expr))

    def _non_differentiable_call(self, call):
        """Is ``call`` a call of a function declared without derivative (worked out once per
        call node: propagation asks again on every pass)?"""
        found = self._calls.get(id(call))
        if found is None or found[0] is not call:
            function = resolve(call.func, self.namespace, self.locals)
            found = self._calls[id(call)] = (
                call, function is not None and is_non_differentiable(function))
        return found[1]

    def propagate(self, body, seeds):
        """Grow the varied set from ``seeds`` until no assignment in ``body`` adds a name."""
        self.varied = set(seeds)
        self._calls = {}  # the locals may have changed since the last propagation
        assignments = _assignments(body)
        changed = True
        while changed:
            changed = False
            for targets, value in assignments:
                if targets - self.varied and self.is_varied(value):
                    self.varied |= targets
                    changed = True
        return self.varied


def _assignments(body):
    """(target names, value expression) for every binding in a desugared ``body``."""
    found = []  # in the order the statements are written: propagation then settles quickly
    for node in statements_in_order(body):
        if isinstance(node, gast.Assign):
            found.append((assigned_names(node.targets) | mutated_names(node), node.value))
        elif isinstance(node, gast.For):
            found.append((assigned_names(node.target), node.iter))
        elif isinstance(node, gast.Expr) and mutated_names(node):  # items.append(value)
            found.append((mutated_names(node), node.value.args[0]))
    return found


def annotate_changed_later(body, after=frozenset(), rebound_after=frozenset()):
    """Mark each statement with the names that may be rebound after it runs.

    ``stmt.sg_changed_after`` holds the names that may change after the statement completes (a
    value read then may differ by the time the adjoint sweep reads it); ``stmt.sg_changed_from``
    also holds what the statement itself binds. Inside a loop everything the body binds counts,
    because later iterations rebind it; the loop's own target does not, since the adjoint loop
    replays it.
    """
    rebound, changed = [], []
    for stmt in body:
        bound, changes = bound_and_changed_names(stmt)
        rebound.append(frozenset(bound))
        changed.append(frozenset(changes))
    changed_after, rebound_after_each = [frozenset(after)], [frozenset(rebound_after)]
    for index in range(len(body) - 1, 0, -1):  # what the statements after each one change
        changed_after.insert(0, changed_after[0] | changed[index])
        rebound_after_each.insert(0, rebound_after_each[0] | rebound[index])
    for index, stmt in enumerate(body):
        later = changed_after[index]
        stmt.sg_changed_after = later
        stmt.sg_changed_from = later | changed[index]
        rebound_later = rebound_after_each[index]
        stmt.sg_rebound_before = rebound_later | rebound[index]  # rebinding, not writes
        if isinstance(stmt, gast.If):
            annotate_changed_later(stmt.body, later, rebound_later)
            annotate_changed_later(stmt.orelse, later, rebound_later)
        elif isinstance(stmt, (gast.For, gast.While)):
            bound, changes = bound_and_changed_names(stmt.body)
            inside = later | changes
            rebound_inside = rebound_later | bound
            if isinstance(stmt, gast.For) and stmt.target.id not in bound:
                inside = inside - {stmt.target.id}  # the adjoint loop sets it each iteration
                rebound_inside = rebound_inside - {stmt.target.id}
            stmt.sg_changed_in_body = inside
            annotate_changed_later(stmt.body, inside, rebound_inside)


def annotate_available(body, available=None):
    """Mark each statement with ``sg_available``: the elementwise values computed before it on
    its path (``s = np.sin(x)``) whose names have not changed since, keyed by (ufunc, argument
    names). The adjoint then reads ``s`` where a rule would compute ``np.sin(x)`` again.
    """
    available = dict(available or {})
    for stmt in body:
        stmt.sg_available = dict(available)
        changed = changed_names(stmt)
        if isinstance(stmt, gast.If):
            annotate_available(stmt.body, available)
            annotate_available(stmt.orelse, available)
        elif isinstance(stmt, (gast.For, gast.While)):  # later iterations may change them
            changed |= changed_names(getattr(stmt, "target", []))
            annotate_available(stmt.body, _still_available(available, changed))
        available = _still_available(available, changed)
        value = getattr(stmt, "value", None)
        function = getattr(value, "sg_function", None)
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and \
                isinstance(function, np.ufunc) and not value.keywords and value.args and \
                all(isinstance(a, gast.Name) for a in value.args):
            arguments = tuple(a.id for a in value.args)
            if stmt.targets[0].id not in arguments:
                available[(function, arguments)] = stmt.targets[0].id


def _still_available(available, changed):
    return {key: name for key, name in available.items()
            if name not in changed and not set(key[1]) & changed}


def read_before_bound(body, defined=frozenset()):
    """(names some statement of ``body`` may read before they are bound on its path, names bound
    on every path through ``body``), starting with ``defined`` bound."""
    defined, found = set(defined), set()
    for stmt in body:
        if isinstance(stmt, gast.If):
            found |= loaded_names(stmt.test) - defined
            in_body, after_body = read_before_bound(stmt.body, defined)
            in_else, after_else = read_before_bound(stmt.orelse, defined)
            found |= in_body | in_else
            defined |= after_body & after_else
        elif isinstance(stmt, (gast.For, gast.While)):  # the body may run zero times
            head = stmt.iter if isinstance(stmt, gast.For) else stmt.test
            found |= loaded_names(head) - defined
            inside = defined | (assigned_names(stmt.target) if isinstance(stmt, gast.For)
                                else set())
            found |= read_before_bound(stmt.body, inside)[0]
        else:
            read = loaded_names(stmt)
            if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
                read = read | {stmt.target.id}
            found |= read - defined
            defined |= assigned_names(stmt)
    return found, defined


def runs_at_least_once(loop):
    """A ``for`` over ``range`` with constant bounds that is not empty."""
    if not (isinstance(loop, gast.For) and isinstance(loop.iter, gast.Call) and
            isinstance(loop.iter.func, gast.Name) and loop.iter.func.id == "range"):
        return False
    bounds = [a.value if isinstance(a, gast.Constant) and type(a.value) is int else None
              for a in loop.iter.args]
    if None in bounds or not 1 <= len(bounds) <= 3:
        return False
    return len(range(*bounds)) > 0


def annotate_defined(body, defined):
    """Mark each statement with ``sg_defined_before``: the names bound on every path to it.

    Returns the names bound on every path through ``body``. A loop body may run zero times, so
    nothing it binds counts after the loop, and its first iteration starts from what came before.

    Branches on one condition are correlated: after ``if flag: ... else: <binds m>``, a later
    ``if not flag:`` (nothing the test reads changed in between, and the test calls nothing)
    runs only where ``m`` was bound, so ``m`` counts as bound there. Early returns are
    normalized into this shape (``if branch: result = ... else: <the rest>``, the adjoint of
    the rest under ``if not branch``), and so are the two sweeps of ``if c > 0.5:``; a tangent
    of a second derivative made where ``m`` counts as unbound would be the stand-in ``0.0``,
    which an element write or read of ``dm[i]`` cannot use.
    """
    return _annotate_defined(body, set(defined), {})[0]


_PURE_TEST_NODES = (gast.Name, gast.Constant, gast.Compare, gast.BoolOp, gast.UnaryOp,
                    gast.BinOp, gast.Subscript, gast.Slice, gast.Tuple, gast.Load, gast.cmpop,
                    gast.boolop, gast.unaryop, gast.operator)


def _flag_test(test):
    """The condition a test checks and the truth value that runs the body: ``flag`` ->
    ("flag", True), ``not (c > 0.5)`` -> ("c > 0.5", False); None for a test that may not give
    the same answer twice on the same values (one that calls anything)."""
    truth = True
    while isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not):
        test, truth = test.operand, not truth
    if not all(isinstance(node, _PURE_TEST_NODES) for node in gast.walk(test)):
        return None
    return (gast.dump(test), frozenset(loaded_names(test))), truth


def _forget(facts, changed):
    """The facts whose condition reads none of the ``changed`` names."""
    return {key: names for key, names in facts.items() if not key[0][1] & changed}


def _annotate_defined(body, defined, facts):
    """``facts``: (condition, truth) -> the names bound wherever the condition (see
    _flag_test) has that truth value."""
    defined, facts = set(defined), dict(facts)
    for stmt in body:
        stmt.sg_defined_before = frozenset(defined)
        if isinstance(stmt, gast.If):
            flag = _flag_test(stmt.test)
            changed = changed_names(stmt.body) | changed_names(stmt.orelse)
            if flag is not None and flag[0][1] & changed:
                flag = None
            condition, truth = flag if flag is not None else (None, None)
            body_defined, body_facts = _annotate_defined(
                stmt.body, defined | facts.get((condition, truth), set()), facts)
            else_defined, else_facts = _annotate_defined(
                stmt.orelse, defined | facts.get((condition, not truth), set()), facts)
            facts = _forget({key: body_facts[key] & else_facts[key]
                             for key in set(body_facts) & set(else_facts)}, changed)
            if flag is not None:
                facts[(condition, truth)] = facts.get((condition, truth), set()) | body_defined
                facts[(condition, not truth)] = \
                    facts.get((condition, not truth), set()) | else_defined
            defined |= body_defined & else_defined
        elif isinstance(stmt, gast.For):
            facts = _forget(facts, changed_names(stmt.body) | assigned_names(stmt.target))
            inside, _ = _annotate_defined(stmt.body, defined | assigned_names(stmt.target), facts)
            if runs_at_least_once(stmt):  # for i in range(3): what it binds exists after it
                defined |= inside
        elif isinstance(stmt, gast.While):
            facts = _forget(facts, changed_names(stmt.body))
            _annotate_defined(stmt.body, defined, facts)
        else:
            defined |= assigned_names(stmt)
            facts = _forget(facts, changed_names(stmt))
    return defined, facts
