"""Cut each loop over ``srcgrad.checkpoint_range`` into checkpointed segments (sqrt(n) memory).

``for t in sg.checkpoint_range(n): body`` becomes, before the body is desugared::

    for segment in checkpoint_segments(n):    # about sqrt(n) ranges of consecutive steps
        x = f_segment(segment, x, dt)           # x: the state the loop carries

and ``f_segment`` is a function of its own, marked as ``srcgrad.checkpoint`` marks one::

    def f_segment(steps, x, dt):
        for t in steps:
            body
        return x

so the primal keeps the state at the start of each segment (its argument) and the adjoint runs
each segment again, keeping the inside of one segment at a time. Several state names travel as
one list (``x_v = [x, v]``; ``x, v = x_v`` after the loop). The state is what the body may rebind and
what is live at the loop's head (read by a later step before the body rebinds it, or after the
loop); the other names the body reads from the function are further arguments. Forward mode
keeps the loop as written (a jvp saves nothing). Only the checks run there, so that a loop
srcgrad refuses is refused in every mode.
"""
import ast
import inspect
import types

import gast

from ..checkpoint import Checkpointed, checkpoint_range, checkpoint_segments
from .analyze import assigned_names, loaded_names, local_names, runs_at_least_once
from .build import call, clone, load, store
from .names import NameAllocator
from .normalize import Desugar
from .parse import ParsedFunction, register_parsed
from .scope import resolve

def checkpoint_loops(parsed, tree, names, forward=False):
    """Rewrite, in place, every outermost loop of ``tree`` over ``checkpoint_range``."""
    locals_ = local_names(tree)
    loops = []
    _find_loops(tree.body, parsed, locals_, loops)
    if not loops:
        return
    nested = _nested_function_names(tree)
    Desugar(parsed, names).check_in_place_updates(tree.body)  # marks x += ... on shared arrays
    for loop, _, _ in loops:
        _check(parsed, loop, nested)
    liveness = _Liveness({id(loop) for loop, _, _ in loops})
    liveness.block(tree.body, set(), None)
    params = {a.id for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
    params |= {a.id for a in (tree.args.vararg, tree.args.kwarg) if a is not None}
    defined = {}
    _defined_before(tree.body, params, {id(loop) for loop, _, _ in loops}, defined)
    closure = set(inspect.getclosurevars(parsed.function).nonlocals) \
        if inspect.isfunction(parsed.function) else set()
    for loop, block, _ in loops:
        state = _state(parsed, loop, liveness, defined[id(loop)])
        if forward or not state:
            continue  # forward mode keeps the loop; a loop that carries nothing stays too
        helper = _global_name(parsed, names, "checkpoint_segments", checkpoint_segments)
        replacement = _segmented(parsed, tree, names, loop, state, locals_ | closure, helper)
        position = next(i for i, s in enumerate(block) if s is loop)
        block[position:position + 1] = replacement


def _find_loops(body, parsed, locals_, found):
    for stmt in body:
        if isinstance(stmt, gast.For) and isinstance(stmt.iter, gast.Call) and \
                resolve(stmt.iter.func, parsed.namespace, locals_) is checkpoint_range:
            found.append((stmt, body, None))
            continue  # a loop over checkpoint_range inside it is cut when its segment is
        for field in ("body", "orelse"):
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                _find_loops(getattr(stmt, field), parsed, locals_, found)


_SYMBOLS = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**",
            gast.MatMult: "@", gast.FloorDiv: "//", gast.Mod: "%"}


def _own_exits(body):
    """The break statements of this loop (not of loops inside it) and every return."""
    breaks, returns = [], []
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, gast.Break):
            breaks.append(node)
        elif isinstance(node, gast.Return):
            returns.append(node)
        elif isinstance(node, (gast.For, gast.While)):
            stack += [n for n in gast.walk(node) if isinstance(n, gast.Return)]
        elif isinstance(node, gast.If):
            stack += node.body + node.orelse
    return breaks, returns


def _nested_function_names(tree):
    found = set()
    for node in gast.walk(tree):
        if isinstance(node, gast.FunctionDef) and node is not tree:
            found.add(node.name)
        elif isinstance(node, gast.Assign) and isinstance(node.value, gast.Lambda):
            found |= {t.id for t in node.targets if isinstance(t, gast.Name)}
    return found


def _check(parsed, loop, nested):
    """Refuse, at the user's line, what a loop over checkpoint_range cannot hold."""
    where = "a loop over srcgrad.checkpoint_range"
    if not isinstance(loop.target, gast.Name):
        raise parsed.unsupported(loop, f"{where} that unpacks its steps into several names",
                                 "loop with one name: for t in srcgrad.checkpoint_range(n)")
    if loop.orelse:
        raise parsed.unsupported(loop, "an else clause on a loop",
                                 "set a flag in the loop and test it afterwards")
    breaks, returns = _own_exits(loop.body)
    advice = {"break": "keep a flag instead (done = True) and skip the work of the steps after "
                       "it (if not done: ...), or loop over range(...) here, which keeps every "
                       "step",
              "return": "bind the result to a name, skip the steps after it with a flag, and "
                        "return after the loop; or loop over range(...) here, which keeps "
                        "every step"}
    exits = sorted([(n, "break") for n in breaks] + [(n, "return") for n in returns],
                   key=lambda found: found[0].lineno)
    for node, word in exits:
        raise parsed.unsupported(
            node, f"a {word} inside {where} (its steps are cut into segments that always run "
            "to their end)", advice[word])
    body = gast.Module(body=loop.body, type_ignores=[])
    assigned = assigned_names(loop.body)
    for node in gast.walk(body):
        if isinstance(node, (gast.FunctionDef, gast.Lambda)):
            raise parsed.unsupported(node, f"a nested function or lambda inside {where}",
                                     "define it outside the loop, at module level")
        if isinstance(node, gast.AugAssign) and hasattr(node, "sg_shared_with"):
            name = node.target.id
            raise parsed.unsupported(
                node, f"{name} {_SYMBOLS.get(type(node.op), '+')}= ... inside {where}, where "
                f"{name} may share its array with {node.sg_shared_with}, which is read "
                "afterwards (a segment gets its state as arguments: the change would not reach "
                f"{node.sg_shared_with})", f"write {name} = {name} + ... to make a new array")
        changed = _changed_in_place(node)
        if changed is not None and changed not in assigned:
            raise parsed.unsupported(
                node, f"a change in place of {changed} (made before the loop) inside {where} "
                "(each segment must return what it changes)", "collect the values in a list "
                "made inside the loop, rebind the name (x = x + ...), or use range(...) here")
    for name in sorted(loaded_names(loop.body) & nested):
        raise parsed.unsupported(loop, f"{name}, a nested function of yours, called inside "
                                 f"{where}", f"define {name} at module level")


def _changed_in_place(node):
    """The name an element write, in-place update or list method changes, if any."""
    target = None
    if isinstance(node, gast.Assign):
        target = next((t for t in node.targets if isinstance(t, gast.Subscript)), None)
    elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Subscript):
        target = node.target
    elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
            node.func.attr in ("append", "extend", "insert", "pop", "remove", "clear",
                               "update", "setdefault", "sort", "reverse") and \
            isinstance(node.func.value, gast.Name):
        return node.func.value.id
    while isinstance(target, gast.Subscript):
        target = target.value
    return target.id if isinstance(target, gast.Name) else None


class _Liveness:
    """Names live after and at the head of the marked loops (read later before rebound)."""

    def __init__(self, marked):
        self.marked, self.after, self.head = marked, {}, {}

    def block(self, stmts, live, exits):
        live = set(live)
        for stmt in reversed(stmts):
            live = self.statement(stmt, live, exits)
        return live

    def statement(self, stmt, live, exits):
        if isinstance(stmt, gast.Break):
            return set(exits[0]) if exits else live
        if isinstance(stmt, gast.Continue):
            return set(exits[1]) if exits else live
        if isinstance(stmt, (gast.Return, gast.Raise)):
            return loaded_names(stmt)
        if isinstance(stmt, gast.If):
            return loaded_names(stmt.test) | self.block(stmt.body, live, exits) | \
                self.block(stmt.orelse, live, exits)
        if isinstance(stmt, gast.For):
            after = live | self.block(stmt.orelse, live, exits)
            head = set(after)
            while True:
                inside = self.block(stmt.body, head, (after, head)) - assigned_names(stmt.target)
                if inside <= head:
                    break
                head |= inside
            if id(stmt) in self.marked:
                self.after[id(stmt)] = self.after.get(id(stmt), set()) | after
                self.head[id(stmt)] = self.head.get(id(stmt), set()) | head
            return loaded_names(stmt.iter) | head
        if isinstance(stmt, gast.While):
            after = live | self.block(stmt.orelse, live, exits)
            head = after | loaded_names(stmt.test)
            while True:
                inside = self.block(stmt.body, head, (after, head))
                if inside <= head:
                    break
                head |= inside
            return head
        if isinstance(stmt, gast.FunctionDef):
            return live | loaded_names(stmt)
        read = loaded_names(stmt)
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
            read = read | {stmt.target.id}
        return (live - assigned_names(stmt)) | read


def _defined_before(body, defined, marked, found):
    """Record, for each marked loop, the names bound on every path to it."""
    defined = set(defined)
    for stmt in body:
        if id(stmt) in marked:
            found[id(stmt)] = frozenset(defined)
        if isinstance(stmt, gast.If):
            defined |= _defined_before(stmt.body, defined, marked, found) & \
                _defined_before(stmt.orelse, defined, marked, found)
        elif isinstance(stmt, gast.For):
            inside = _defined_before(stmt.body, defined | assigned_names(stmt.target), marked,
                                     found)
            if runs_at_least_once(stmt):
                defined |= inside
        elif isinstance(stmt, gast.While):
            _defined_before(stmt.body, defined, marked, found)
        elif isinstance(stmt, gast.FunctionDef):
            defined.add(stmt.name)
        else:
            defined |= assigned_names(stmt)
    return defined


def _in_order(names_wanted, nodes):
    """``names_wanted`` in the order the code first mentions them."""
    order = []
    for node in nodes:
        for found in sorted((n for n in gast.walk(node) if isinstance(n, gast.Name) and
                             n.id in names_wanted),
                            key=lambda n: (n.lineno, n.col_offset)):
            if found.id not in order:
                order.append(found.id)
    return order + sorted(set(names_wanted) - set(order))


def _state(parsed, loop, liveness, defined):
    """The names the loop carries from step to step or hands to the code after it, in the
    order the body first mentions them; refused where a segment could not carry them."""
    target = loop.target.id
    state = liveness.head[id(loop)] & assigned_names(loop.body)
    if target in liveness.after[id(loop)]:
        raise parsed.unsupported(
            loop, f"the step {target} of a loop over srcgrad.checkpoint_range, read after the "
            "loop", f"compute the last step from the range's bounds after the loop, or copy "
            f"{target} into a name of its own inside the loop")
    state = _in_order(state, loop.body)
    for name in state:
        if name not in defined:
            raise parsed.unsupported(
                loop, f"{name}, which a loop over srcgrad.checkpoint_range carries from step to "
                "step (or hands to the code after it), but which is not bound on every path "
                "before the loop", f"bind {name} before the loop, e.g. {name} = 0.0")
    return state


def _segmented(parsed, tree, names, loop, state, outer_names, helper):
    """The statements that replace ``loop``: a loop over segments, each a call of a function
    of one segment of steps, which this makes and binds in the function's namespace."""
    target = loop.target.id
    assigned = assigned_names(loop.body)
    read = loaded_names(loop.body) | {n.target.id for n in gast.walk(gast.Module(
        body=loop.body, type_ignores=[])) if isinstance(n, gast.AugAssign) and
        isinstance(n.target, gast.Name)}
    free = _in_order((read - assigned - {target}) & outer_names, loop.body)

    inner = NameAllocator(loaded_names(loop.body) | assigned | {target} | set(free))
    steps_param = inner.fresh("steps")
    joined = "_".join(state)
    carry = (joined if len(joined) <= 24 else "state") if len(state) > 1 else state[0]
    carry_param = inner.fresh(carry) if len(state) > 1 else carry

    def located(node):
        return gast.copy_location(node, loop)

    # The function of one segment: the user's loop over its steps, on the state handed in.
    function_name = _global_name(parsed, names, f"{tree.name}_segment", None)
    unpack = [_unpack(state, carry_param, located)] if len(state) > 1 else []
    returned = load(state[0]) if len(state) == 1 else \
        gast.List(elts=[load(n) for n in state], ctx=gast.Load())
    segment_loop = clone(loop)
    segment_loop.iter = located(load(steps_param))
    parameters = [steps_param, carry_param] + free
    definition = located(gast.FunctionDef(
        name=function_name, args=gast.arguments(
            args=[gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None)
                  for p in parameters], posonlyargs=[], vararg=None, kwonlyargs=[],
            kw_defaults=[], kwarg=None, defaults=[]),
        body=unpack + [segment_loop, located(gast.Return(value=returned))],
        decorator_list=[], returns=None, type_comment=None, type_params=[]))
    parsed.namespace[function_name] = Checkpointed(_compiled(parsed, definition))

    # The loop over segments that takes its place.
    outer_carry = names.fresh(carry) if len(state) > 1 else carry
    segment = names.fresh("segment")
    segments_call = call(helper, *clone(loop.iter.args), keywords=clone(loop.iter.keywords))
    step = located(gast.Assign(targets=[store(outer_carry)], value=call(
        function_name, load(segment), load(outer_carry), *[load(n) for n in free]),
        type_comment=None))
    replacement = [located(gast.For(target=store(segment), iter=located(segments_call),
                                    body=[step], orelse=[], type_comment=None))]
    if len(state) > 1:
        pack = located(gast.Assign(targets=[store(outer_carry)], value=gast.List(
            elts=[load(n) for n in state], ctx=gast.Load()), type_comment=None))
        replacement = [pack] + replacement + [_unpack(state, outer_carry, located)]
    for node in replacement:
        for inside in gast.walk(node):
            if "lineno" in getattr(inside, "_attributes", ()):
                gast.copy_location(inside, loop)
    return replacement


def _global_name(parsed, names, hint, value):
    """A name for generated code to reach ``value`` by, clashing with none of the function's
    names or globals; bound in the function's namespace (None: the caller binds it)."""
    if value is not None and parsed.namespace.get(hint) is value:
        return hint
    name = names.fresh(hint)
    while name in parsed.namespace:
        name = names.fresh(hint)
    if value is not None:
        parsed.namespace[name] = value
    return name


def _unpack(state, carry, located):
    """``x, v = x_v``: a tuple target, so that x and v are not taken for other names of the
    list's items (they are the list's items, and nothing changes either in place)."""
    target = gast.Tuple(elts=[store(name) for name in state], ctx=gast.Store())
    return located(gast.Assign(targets=[target], value=load(carry), type_comment=None))


class _Rebinding(gast.NodeTransformer):
    """``x += e`` -> ``x = x + e``: how srcgrad reads it (normalize.py), so the segment the
    primal runs never changes the caller's array, which the derivative keeps, in place."""

    def visit_AugAssign(self, node):
        if not isinstance(node.target, gast.Name):
            return node
        value = gast.BinOp(left=load(node.target.id), op=node.op, right=node.value)
        return gast.copy_location(gast.Assign(targets=[store(node.target.id)], value=value,
                                              type_comment=None), node)


def _compiled(parsed, definition):
    """The segment as a real function, reading the user's globals as the function does, and
    registered with its tree (its lines are the user's) so srcgrad can differentiate it."""
    scope = dict(parsed.namespace)
    plain = _Rebinding().visit(clone(definition))
    module = gast.gast_to_ast(gast.Module(body=[plain], type_ignores=[]))
    exec(compile(ast.fix_missing_locations(module), parsed.filename, "exec"), scope)
    made = scope[definition.name]
    user_globals = getattr(parsed.function, "__globals__", None)
    function = types.FunctionType(made.__code__, user_globals, definition.name) \
        if isinstance(user_globals, dict) else made
    # The state may hold a Python int the loop counts with (count = count + 1), which travels in
    # the state list with the arrays: its derivative is never read, so the API does not refuse it.
    function.__srcgrad_segment__ = True
    # Not importable from the user's module: where code is written out (python -m srcgrad show
    # --out) or cached on disk, that is said (or it is not cached), not guessed.
    outer = getattr(parsed.function, "__qualname__", parsed.name)
    function.__qualname__ = f"{outer}.<segments of the loop at line {definition.lineno}>"
    register_parsed(function, ParsedFunction(function, definition, parsed.filename,
                                             parsed.source_lines, dict(parsed.namespace)))
    return function
