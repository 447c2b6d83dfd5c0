"""Values the primal computed and saved, read again by the adjoint instead of computed again."""
import gast
import numpy as np

from .analyze import nodes_in
from .build import load
from .hoist import _first_use, _pure_call


def reuse_saved_values(function_def, specializer):
    """In the adjoint loop of a loop that saves ``E``, ``sin_E = np.sin(E)`` and
    ``cos_E = np.cos(E)`` on the stack, ``np.cos(E)`` once ``E`` and ``cos_E`` are popped ->
    ``cos_E``: the value the primal computed from the same ``E`` in the same iteration, kept
    instead of computed again (Kepler's Newton step: one cosine per iteration less, what an
    expert's adjoint does). The rules ask for such values (``g * np.cos(x)`` for ``np.sin``)
    where the primal computes them after the statement they differentiate, which the
    generator's own reuse (analyze.annotate_available) cannot see.

    The pairing of pushes and pops is the generator's: a primal loop at the top of the
    function whose body is straight-line code that pushes ``P`` each iteration, then, with no
    stack operation between, a loop whose straight-line body pops ``P`` in reverse, each
    iteration what one primal iteration pushed. In the primal body, each name's value is
    numbered (every assignment makes a new one); a pushed ``c`` made by ``c = f(a)`` (an ufunc
    of names) from the value of ``a`` that was pushed too records ``item c = f(item a)``. In the
    adjoint body, ``f(a)`` where ``a`` holds that item and a name still holds ``item c`` reads
    that name. Only where no array can change in place between: no element writes or ``+=``
    anywhere in either loop or between them but into arrays that are made fresh where they are
    made and never saved, aliased or appended; no calls but NumPy's and the lists'.
    """
    body = function_def.body
    stacks = _stack_names(function_def)
    for index, loop in enumerate(body):
        if not isinstance(loop, (gast.For, gast.While)) or loop.orelse:
            continue
        for stack in stacks:
            pushes = _pushes(loop.body, stack, specializer)
            if not pushes:
                continue
            later = _adjoint_loop(body, index, stack)
            if later is None:
                continue
            region = [loop] + body[index + 1:later + 1]
            if not _nothing_changes(region, function_def, stack, specializer):
                continue
            if _reuse(body[later].body, stack, *pushes, specializer):
                _drop_unread(loop, body[later], body[later + 1:], stack)
    return function_def


def _drop_unread(loop, adjoint_loop, rest, stack):
    """A save the adjoint no longer reads (``E``, once ``np.cos(E)`` is ``cos_E``): its push
    and its pop go, where nothing reads the popped name before it is bound again, in the
    adjoint loop or after it (``rest``)."""
    pushes = [s for s in loop.body if _is_push(s, stack)]
    pops = [s for s in adjoint_loop.body if _is_pop(s, stack)]
    for push, pop in zip(pushes, reversed(pops)):
        name = pop.targets[0].id
        if any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)
               for s in adjoint_loop.body for n in nodes_in(s)) or \
                _first_use(rest, name) == "read":
            continue
        loop.body.remove(push)
        adjoint_loop.body.remove(pop)


def _stack_names(function_def):
    """Names bound once, to ``[]``, and otherwise only appended to and popped from."""
    bound, listed = {}, set()
    for node in nodes_in(function_def):
        if isinstance(node, gast.Assign):
            for target in node.targets:
                for name in nodes_in(target):
                    if isinstance(name, gast.Name):
                        empty = target is name and isinstance(node.value, gast.List) and \
                            not node.value.elts
                        bound[name.id] = bound.get(name.id, 0) + (1 if empty else 2)
        elif isinstance(node, (gast.AugAssign, gast.For, gast.comprehension)):
            for name in nodes_in(node.target):
                if isinstance(name, gast.Name):
                    bound[name.id] = bound.get(name.id, 0) + 2
        elif isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) and \
                node.attr in ("append", "pop"):
            listed.add(id(node.value))
    other = {node.id for node in nodes_in(function_def) if isinstance(node, gast.Name) and
             isinstance(node.ctx, gast.Load) and id(node) not in listed}
    return [name for name, count in bound.items() if count == 1 and name not in other]


def _is_push(stmt, stack):
    value = getattr(stmt, "value", None)
    return isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) and \
        isinstance(value.func, gast.Attribute) and value.func.attr == "append" and \
        isinstance(value.func.value, gast.Name) and value.func.value.id == stack and \
        len(value.args) == 1 and not value.keywords


def _is_pop(stmt, stack):
    value = getattr(stmt, "value", None)
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
        isinstance(stmt.targets[0], gast.Name) and isinstance(value, gast.Call) and \
        isinstance(value.func, gast.Attribute) and value.func.attr == "pop" and \
        isinstance(value.func.value, gast.Name) and value.func.value.id == stack and \
        not value.args and not value.keywords


def _uses(tree, stack):
    return any(isinstance(n, gast.Name) and n.id == stack for n in nodes_in(tree))


def _pushes(body, stack, specializer):
    """(pushed names, facts) of a straight-line loop body, else None. facts:
    (ufunc, pushed positions of its arguments) -> pushed position of its result."""
    version, made = {}, {}  # name -> its value's number; (name, number) -> (ufunc, args)
    pushed = []  # (name, number) of each push
    for stmt in body:
        if _is_push(stmt, stack):
            item = stmt.value.args[0]
            pushed.append((item.id, version.get(item.id, 0)) if isinstance(item, gast.Name)
                          else (None, None))
            continue
        if not isinstance(stmt, (gast.Assign, gast.Expr)) or _uses(stmt, stack):
            return None
        targets = stmt.targets if isinstance(stmt, gast.Assign) else []
        if not all(isinstance(t, gast.Name) for t in targets):
            return None
        value = stmt.value
        if isinstance(value, gast.Call) and targets and value.args and not value.keywords and \
                all(isinstance(a, gast.Name) for a in value.args) and \
                isinstance(specializer.called(value), np.ufunc) and len(targets) == 1:
            arguments = tuple((a.id, version.get(a.id, 0)) for a in value.args)
            name = targets[0].id
            version[name] = version.get(name, 0) + 1
            made[(name, version[name])] = (specializer.called(value), arguments)
            continue
        for target in targets:
            version[target.id] = version.get(target.id, 0) + 1
    if not pushed:
        return None
    position = {item: at for at, item in enumerate(pushed) if item[0] is not None}
    facts = {}
    for at, item in enumerate(pushed):
        if item in made:
            function, arguments = made[item]
            if all(a in position for a in arguments):
                facts[(function, tuple(position[a] for a in arguments))] = at
    return [name for name, _ in pushed], facts


def _adjoint_loop(body, index, stack):
    """The position of the first loop after ``body[index]`` that uses the stack, if no other
    statement between does and its body pops straight-line."""
    for later in range(index + 1, len(body)):
        stmt = body[later]
        if not _uses(stmt, stack):
            continue
        if isinstance(stmt, gast.For) and not stmt.orelse and \
                not any(isinstance(n, (gast.If, gast.For, gast.While, gast.Try, gast.With,
                                       gast.Break, gast.Continue, gast.Return))
                        for s in stmt.body for n in nodes_in(s)):
            return later
        return None
    return None


def _nothing_changes(region, function_def, stack, specializer):
    """No array changes in place in ``region`` but fresh, never shared ones (see above)."""
    fresh = _fresh_names(function_def, stack)
    for stmt in region:
        for node in nodes_in(stmt):
            if isinstance(node, gast.AugAssign):
                target = node.target
                if not (isinstance(target, gast.Name) and target.id in fresh):
                    return False
            elif isinstance(node, (gast.Subscript, gast.Attribute)) and \
                    isinstance(node.ctx, (gast.Store, gast.Del)):
                base = node.value
                if not (isinstance(base, gast.Name) and base.id in fresh):
                    return False
            elif isinstance(node, gast.Call) and not _pure_call(node, specializer):
                return False
            elif isinstance(node, (gast.FunctionDef, gast.Lambda, gast.NamedExpr)):
                return False
    return True


def _fresh_names(function_def, stack):
    """Names whose every binding makes a new array or number (arithmetic, an ufunc,
    ``np.zeros_like``, a constant) and that are never pushed, appended, aliased or popped
    into: no other name can reach what they hold, so updating it in place changes nothing
    else."""
    made, other = set(), set()
    for node in nodes_in(function_def):
        if isinstance(node, gast.Assign):
            value = node.value
            new = isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant)) or \
                isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
                isinstance(value.func.value, gast.Name) and value.func.value.id == "np" and \
                value.func.attr in _MAKERS and not any(k.arg == "out" for k in value.keywords)
            for target in node.targets:
                for name in nodes_in(target):
                    if isinstance(name, gast.Name):
                        (made if new and target is name else other).add(name.id)
            shared = [value] if isinstance(value, gast.Name) else \
                value.elts if isinstance(value, (gast.Tuple, gast.List)) else []
            other |= {n.id for n in shared if isinstance(n, gast.Name)}
        elif isinstance(node, (gast.For, gast.comprehension, gast.AugAssign)) and \
                not isinstance(getattr(node, "target", None), gast.Name) or \
                isinstance(node, (gast.For, gast.comprehension)):
            other |= {n.id for n in nodes_in(node.target) if isinstance(n, gast.Name)}
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
                node.func.attr in ("append", "extend", "insert"):  # pushed, appended: shared
            other |= {n.id for a in node.args for n in nodes_in(a) if isinstance(n, gast.Name)}
    return made - other - {stack}


# NumPy functions that return a new array.
_MAKERS = {"zeros_like", "ones_like", "empty_like", "full_like", "exp", "log", "sin", "cos",
           "tanh", "sqrt", "multiply", "add", "subtract", "divide", "negative", "abs"}


def _reuse(body, stack, pushed, facts, specializer):
    """Read kept values in the adjoint loop ``body`` (see reuse_saved_values)."""
    pops = [stmt.targets[0].id for stmt in body if _is_pop(stmt, stack)]
    if pops != pushed[::-1] or not facts or any(
            _uses(stmt, stack) and not _is_pop(stmt, stack) for stmt in body):
        return False
    holds = {}  # name -> pushed position of the value it holds
    changed = False
    popped = 0
    for stmt in body:
        if not isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Expr)):
            return changed
        if _is_pop(stmt, stack):
            popped += 1
            holds[stmt.targets[0].id] = len(pushed) - popped
            continue
        holder = {at: name for name, at in holds.items()}
        recall = _Recall(holds, holder, facts, specializer)
        stmt.value = recall.visit(stmt.value)
        changed |= recall.changed
        targets = stmt.targets if isinstance(stmt, gast.Assign) else \
            [stmt.target] if isinstance(stmt, gast.AugAssign) else []
        for target in targets:
            for name in nodes_in(target):
                if isinstance(name, gast.Name):
                    holds.pop(name.id, None)
    return changed


class _Recall(gast.NodeTransformer):
    def __init__(self, holds, holder, facts, specializer):
        self.holds, self.holder, self.facts, self.specializer = holds, holder, facts, specializer
        self.changed = False

    def visit_Call(self, node):
        self.generic_visit(node)
        if node.keywords or not node.args or \
                not all(isinstance(a, gast.Name) and a.id in self.holds for a in node.args):
            return node
        function = self.specializer.called(node)
        if not isinstance(function, np.ufunc):
            return node
        at = self.facts.get((function, tuple(self.holds[a.id] for a in node.args)))
        if at is None or at not in self.holder:
            return node
        self.changed = True
        return gast.copy_location(load(self.holder[at]), node)
