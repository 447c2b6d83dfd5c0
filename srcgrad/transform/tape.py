"""The tape plan of reverse mode: how each primal value the adjoint reads gets there.

In order of preference: the primal variable itself, when nothing rebinds it before the adjoint
runs; statements that recompute a cheap view such as ``err[i]`` from names that stay intact
(``rematerialize``); or a push onto the one stack in the primal and a pop in the adjoint. A value
needed when the adjoint of a compound statement starts is pushed when its primal ends, so pushes
and pops always pair up last-in, first-out. Every keep-recompute-or-push decision is made here.
"""
import gast

from .analyze import assigned_names, loaded_names, mutated_names
from .build import assign, call, clone, constant, expr_stmt, load
from .mode import replace


class Tape:
    """The saved values of one function's derivative: its stack and its push/pop pairs."""

    def __init__(self, body, params, local_names, names, namespace):
        self.params = params
        self.namespace = namespace  # the user's globals (is ``range`` the builtin?)
        self.locals = local_names
        self.names = names
        self.definitions = _definitions(body)  # name -> the statements that bind it
        self.stack_name = None  # named when the first value is saved
        self.saved_pairs = []  # pair id -> the name its pop rebinds
        self.loop_depth = 0  # inside a loop, a value kept in a variable must be pushed too

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
                not all(_binds_only(d, name) for d in definitions):
            return None  # a loop variable, an unpacked item, an element write: never recomputed
        value = definitions[0].value
        cheap = isinstance(value, (gast.Subscript, gast.Name)) or (
            isinstance(value, gast.Attribute) and value.attr == "T")
        # Several definitions are fine when all compute the same view of the same intact names.
        if not cheap or any(gast.dump(d.value) != gast.dump(value) for d in definitions):
            return None
        steps = []
        for used in sorted(loaded_names(value) & self.locals):
            if any(used in d.sg_changed_from for d in definitions):
                inner = self.rematerialize(used, like, depth + 1)
                if inner is None:
                    return None
                steps.extend(inner)
        return steps + [assign(name, clone(value), like)]

    def reuse_available(self, prelude, outputs, available, resolve):
        """A rule's code reading the primal's ``s`` where it would compute ``np.sin(x)`` again
        (``available``: see analyze.annotate_available): a kept value, not a recomputed one.
        ``resolve``: the object a name of generated code names."""
        if not available:
            return prelude, outputs

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

    def replayable(self, expr, unsafe, hint, like):
        """An expression the adjoint can evaluate again, with the statements that make it so.

        Returns (expression, primal prefix, primal suffix, adjoint prefix). When a name in
        ``expr`` may change before the adjoint runs, its value is kept in a variable, which is
        pushed once the compound statement ends if an enclosing loop would overwrite it.
        """
        if not (loaded_names(expr) & unsafe & self.locals):
            return expr, [], [], []
        if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and \
                self.namespace.get(expr.func.id) is range and not expr.keywords:
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

    def drop_redundant_saves(self, primal, adjoint):
        """Remove a push whose value a later push in the same block saves again.

        Two statements that read ``v`` with no assignment to ``v`` between them each save it;
        the adjoint pops the later one first, and the value it restores serves the earlier
        read too.
        """
        redundant = set()

        def scan(block):
            last_push = {}
            for stmt in block:
                pair = getattr(stmt, "sg_pair", None)
                if pair is not None:
                    source = stmt.value.args[0].id
                    earlier = last_push.get(source)
                    if earlier is not None and \
                            self.saved_pairs[earlier] == self.saved_pairs[pair]:
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


def _binds_only(stmt, name):
    """Is ``stmt`` the plain assignment ``name = value`` (not ``name, other = value``, which
    binds an item of the value, nor a write into ``name``)?"""
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
        isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == name


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
