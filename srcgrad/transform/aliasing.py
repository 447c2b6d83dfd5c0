"""Fences on in-place updates while desugaring: where an update could reach a value that
another name shares, it is refused or guarded at run time, so no adjoint reads a value that
was changed behind its back.
"""
import gast
import numpy as np

from ..runtime import refuse_in_place
from .analyze import (assigned_names, loaded_names, nodes_in, read_before_bound,
                      runs_at_least_once)
from .build import call, constant, load, located
from .emit import GENERATED_FROM
from .mode import popped_list
from .scope import resolve

_OPERATOR_SYMBOLS = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/",
                     gast.Pow: "**", gast.MatMult: "@", gast.FloorDiv: "//", gast.Mod: "%"}


class AliasingChecks:
    """The methods of Desugar that check in-place updates and element writes."""

    def check_in_place_updates(self, body):
        """``v += b`` changes an array in place; srcgrad reads it as ``v = v + b``.

        That is exact for numbers and for arrays nothing else refers to. Where ``v`` came from
        (or was handed to) another name by a plain assignment or a view (``v = a``, ``v = a[0]``,
        ``u = v.T``) and that name is read afterwards, the reader would see the change in the
        plain function and not in the derivative. Whether ``v`` is then an array or a number is
        known only when the code runs, so such an update is guarded: generated code refuses it
        at the user's line if ``v`` turns out to be changeable in place.
        """
        module = gast.Module(body=body, type_ignores=[])
        aliases = []  # (assignment, name, name it may share memory with)
        loops, updates = [], []
        for node in nodes_in(module):
            if isinstance(node, gast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], gast.Name):
                source = _aliased_name(node.value, self.parsed.namespace)
                if source is not None:
                    aliases.append((node, node.targets[0].id, source))
            elif isinstance(node, (gast.For, gast.While)):
                loops.append(node)
            elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
                updates.append(node)
        for node in updates:
            around = [loop for loop in loops if any(n is node for n in gast.walk(loop))]
            first = min([node.lineno + 1] + [loop.lineno for loop in around])
            links = {}  # sharing made before the update (or anywhere in a loop around it)
            for assignment, target, source in aliases:
                if not around and (_rebound_between(body, target, assignment, node) or
                                   _rebound_between(body, source, assignment, node)):
                    continue  # v = a; v = v + b; v += c: v holds a new array by then
                if assignment.lineno < node.lineno or assignment.lineno >= first - 1 and around:
                    links.setdefault(target, set()).add(source)
                    links.setdefault(source, set()).add(target)
            name, sharing, pending = node.target.id, set(), [node.target.id]
            while pending:
                for other in links.get(pending.pop(), ()):
                    if other not in sharing:
                        sharing.add(other)
                        pending.append(other)
            sharing.discard(name)
            # Read afterwards: on a later line, or anywhere in a loop around the update.
            for read in gast.walk(module):
                if isinstance(read, gast.Name) and isinstance(read.ctx, gast.Load) and \
                        read.id in sharing and getattr(read, "lineno", 0) >= first:
                    node.sg_shared_with = read.id
                    break

    def in_place_guard(self, stmt):
        """``refuse_in_place(v, ...)``: raises at the user's line if ``v`` is an array (or list)
        that ``v += ...`` would change under another name."""
        name, other = stmt.target.id, stmt.sg_shared_with
        symbol = _OPERATOR_SYMBOLS.get(type(stmt.op), "+")
        construct = (f"{name} {symbol}= ... (it changes in place the array {name} shares with "
                     f"{other}, which is read afterwards)")
        advice = f"write {name} = {name} {symbol} ... to make a new array"
        guard = call(load(self.runtime_name("refuse_in_place", refuse_in_place, stmt)),
                     load(name), constant(self.parsed.filename),
                     constant(stmt.lineno), constant(construct), constant(advice))
        return located(gast.Expr(value=guard), stmt)

    def runtime_name(self, name, function, stmt):
        """``name``, bound to srcgrad's runtime ``function`` in the namespace the code is
        generated in (a copy of the user's); refused at ``stmt`` where the user's module
        binds that name to something else."""
        self.parsed.namespace.setdefault(name, function)
        if self.parsed.namespace[name] is not function:
            raise self.parsed.unsupported(stmt, f"this statement in a module that defines {name}",
                                          f"rename your {name}")
        return name

    def check_element_writes(self, body, params):
        """Writing into ``y[i]`` changes y in place: y must be an array this function made, on
        every path that reaches the write (``z = x.T; z = z.copy(); z[0] = v`` is fine)."""
        states = {}  # id of each write -> what its array is there
        self.read_aliases = {}  # id of a write -> a name sharing the array, read after it
        self._writes_follow(body, {p: _PARAMETER for p in params}, states, ())
        for name, stmt in self.element_writes:
            state = states.get(_write_key(name, stmt), _SHARED)
            alias = self.read_aliases.get(_write_key(name, stmt))
            if alias is not None and state == _FRESH:
                raise self.parsed.unsupported(
                    stmt, f"a write into {name} while {alias} shares its memory (bound to {name} "
                    f"or a view of it, and read after the write)",
                    f"make {alias} a copy: {alias} = np.copy(...), or read {name} instead")
            if state == _PARAMETER:
                raise self.parsed.unsupported(
                    stmt, f"a write into the argument {name} (it would change the caller's array)",
                    f"work on a copy: {name} = np.copy({name}) first, under a new name")
            if state is None:
                raise self.parsed.unsupported(
                    stmt, f"a write into {name}, which this function did not create",
                    f"create it inside the function, e.g. {name} = np.zeros(...)")
            if state != _FRESH:
                raise self.parsed.unsupported(
                    stmt, f"a write into {name}, which may share memory with another array",
                    f"make it a copy where it is created: {name} = np.copy(...)")

    def _writes_follow(self, block, state, states, frames, owner=None):
        """Walk ``block`` keeping, for each name, whether it holds an array made here (_FRESH),
        one that may be shared (_SHARED) or an argument; record the state at each write.

        ``state[(_ALIASES, y)]``: the names bound to y or to a view of it (``t = y``,
        ``t = y[0:2]``, ``t = y.T``) since y was bound; a write into y changes what they hold,
        which the derivative would not see: refused where one of them is read after the write.
        ``frames``: (block, index, statement owning the block) of each statement around
        ``block``, outermost first; ``owner``: the statement owning ``block``."""
        for index, stmt in enumerate(block):
            here = frames + ((block, index, owner),)
            if isinstance(stmt, gast.Assign):
                target = stmt.targets[0]
                if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
                    key = _write_key(target.value.id, stmt)
                    states[key] = _join(states.get(key, _UNSEEN), state.get(target.value.id))
                    for alias in sorted(state.get((_ALIASES, target.value.id), ())):
                        if key not in self.read_aliases and _read_after(here, alias):
                            self.read_aliases[key] = alias
                elif isinstance(target, gast.Name):
                    _rebind(state, {target.id})
                    # d = e where e holds an array made here: d's writes change e's array too,
                    # which the aliases below refuse where e is read after them
                    state[target.id] = _FRESH if _makes_new_array(
                        stmt.value, self.parsed.namespace) or (
                        self.tape is not None and popped_list(stmt.value) == self.tape) or (
                        isinstance(stmt.value, gast.Name) and
                        state.get(stmt.value.id) == _FRESH) else _SHARED
                    source = _aliased_name(stmt.value, self.parsed.namespace)
                    if source is not None and source != target.id:
                        group = {source} | state.get((_ALIASES, source), frozenset())
                        for name in group:
                            state[(_ALIASES, name)] = \
                                state.get((_ALIASES, name), frozenset()) | {target.id}
                        state[(_ALIASES, target.id)] = frozenset(group)
                else:
                    names = {node.id for node in gast.walk(target) if isinstance(node, gast.Name)}
                    _rebind(state, names)
                    for name in names:
                        state[name] = _SHARED
            elif isinstance(stmt, gast.If):
                after_body = self._writes_follow(stmt.body, dict(state), states, here, stmt)
                after_else = self._writes_follow(stmt.orelse, dict(state), states, here, stmt)
                for name in set(after_body) | set(after_else):
                    state[name] = _join(after_body.get(name), after_else.get(name))
            elif isinstance(stmt, (gast.For, gast.While)):
                if isinstance(stmt, gast.For):
                    names = {node.id for node in gast.walk(stmt.target)
                             if isinstance(node, gast.Name)}
                    _rebind(state, names)
                    for name in names:
                        state[name] = _SHARED
                entry = dict(state)
                for _ in range(4):  # later passes see what one iteration leaves the next
                    after = self._writes_follow(stmt.body, dict(entry), states, here, stmt)
                    joined = {name: _join(entry.get(name), after.get(name))
                              for name in set(entry) | set(after)}
                    if joined == entry:
                        break
                    entry = joined
                # A loop over range(k) with a constant k >= 1 runs at least once: what its last
                # iteration leaves is what follows it, not the state before it.
                state.update(after if runs_at_least_once(stmt) else entry)
        return state


_FRESH, _SHARED, _PARAMETER, _UNSEEN = "fresh", "shared", "parameter", "unseen"
_ALIASES = "aliases"  # state[(_ALIASES, y)]: names sharing y's memory (see _writes_follow)


def _rebind(state, names):
    """``names`` are bound to new values: they no longer share memory with anything."""
    for key in list(state):
        if isinstance(key, tuple) and key[0] == _ALIASES:
            if key[1] in names:
                del state[key]
            elif state[key] & names:
                state[key] = state[key] - names


def _read_after(frames, name):
    """May ``name`` be read, before it is bound again, after the statement ``frames[-1]`` names?
    ``frames``: (block, index, statement owning the block), outermost first."""
    for block, index, owner in reversed(frames):
        found, bound = read_before_bound(block[index + 1:])
        if name in found:
            return True
        if name in bound:
            return False
        if isinstance(owner, (gast.For, gast.While)):  # the next iteration
            head = owner.iter if isinstance(owner, gast.For) else owner.test
            inside = assigned_names(owner.target) if isinstance(owner, gast.For) else set()
            if name in loaded_names(head) or name in read_before_bound(owner.body, inside)[0]:
                return True
    return False


def generated_tape(body, parsed):
    """The name of the list where code srcgrad generated (a gradient differentiated again)
    saves values for its adjoint sweep (its first statement is ``stack = []``), or None.

    An array popped off it is one the primal sweep made and wrote into (``m0 = stack.pop()``
    rebinds the array an iteration made, ``m0[0, :] = stack.pop()`` puts back the row that
    iteration overwrote): the same array, which the user's function created and nothing else
    read while the adjoint restores it, so it counts as made here and not as shared.
    """
    if parsed.filename not in GENERATED_FROM or not body:
        return None
    first = body[0]
    if isinstance(first, gast.Assign) and len(first.targets) == 1 and \
            isinstance(first.targets[0], gast.Name) and isinstance(first.value, gast.List) and \
            not first.value.elts:
        return first.targets[0].id
    return None


def _write_key(name, stmt):
    """A write by its array and place: y[i] += v is checked after it became y[i] = y[i] + v."""
    return name, getattr(stmt, "lineno", None), getattr(stmt, "col_offset", None)


def _join(left, right):
    """What an array is where two paths meet: made here only if it is on both (for the names
    sharing an array's memory: those on either)."""
    if isinstance(left, frozenset) or isinstance(right, frozenset):
        return (left or frozenset()) | (right or frozenset())
    if left == _UNSEEN:
        return right
    if right == _UNSEEN or left == right:
        return left
    if left is None or right is None:  # bound on one path only: that path's state counts
        return left if right is None else right
    return _SHARED if _PARAMETER not in (left, right) else _PARAMETER


def _aliased_name(value, namespace):
    """The name ``value`` may share memory with (``a``, ``a.T``, ``a[0]``, ``np.reshape(a, s)``),
    or None for a value that is new."""
    if isinstance(value, gast.Name):
        return value.id
    if isinstance(value, gast.Attribute) and value.attr == "T":
        return _aliased_name(value.value, namespace)
    if isinstance(value, gast.Subscript):
        if any(isinstance(part, gast.List) for part in nodes_in(value.slice)):
            return None  # x[[0, 2]]: a copy
        return _aliased_name(value.value, namespace)
    if isinstance(value, gast.Call) and value.args:
        function = resolve(value.func, namespace, set())
        if function in VIEW_FUNCTIONS:
            return _aliased_name(value.args[0], namespace)
        if function is None and isinstance(value.func, gast.Attribute) and \
                value.func.attr in ("reshape", "ravel", "view", "squeeze", "transpose",
                                    "swapaxes"):
            return _aliased_name(value.func.value, namespace)
    return None


# Functions that return a view of (or the very same) array they were given.
VIEW_FUNCTIONS = {np.reshape, np.ravel, np.transpose, np.swapaxes, np.moveaxis, np.squeeze,
                  np.expand_dims, np.broadcast_to, np.asarray, np.asanyarray, np.atleast_1d,
                  np.atleast_2d, np.diagonal, np.flip}


def _makes_new_array(value, namespace):
    """Is ``value`` sure to be a fresh array, not a view of, or the same object as, another?"""
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant, gast.List, gast.Compare)):
        return True
    if isinstance(value, gast.Call):
        function = resolve(value.func, namespace, set())
        if function is not None:
            return function not in VIEW_FUNCTIONS
        # x.sum(axis=0) and the other reductions make new arrays (code srcgrad generated
        # writes its reductions as methods: pipeline.reductions_as_methods)
        return isinstance(value.func, gast.Attribute) and value.func.attr in (
            "copy", "astype", "sum", "mean", "prod", "max", "min", "std", "var", "dot")
    return False


def _rebound_between(body, name, alias, update):
    """Does a statement of ``body`` itself (not one inside a branch or loop, which may not run)
    rebind ``name`` to a new value after ``alias`` and before ``update``?"""
    for stmt in body:
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == name and \
                stmt is not alias and alias.lineno < stmt.lineno < update.lineno and \
                update in body:
            return True
    return False
