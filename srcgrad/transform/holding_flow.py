"""Which adjoints hold a value where a loop is entered, worked out before its code is emitted.

Reverse mode generates a loop body with every adjoint in the holding state the next iteration
leaves it in; that state is a fixed point (reverse_flow.loop_body). A backward dataflow pass over
the normalized statements finds, without generating anything, the names whose adjoint is
nonzero there: an assignment ``x = op(a, b)`` whose target's adjoint is nonzero passes it on to
the operands the operation's rule gives a part to (the same ``operation_sources`` the generator
uses) and clears x's own; a branch joins its paths; a loop repeats its body until nothing more
becomes nonzero. The generator then starts a loop body from that state, so in the common case
the body is generated once (then checked: the fixed point still decides).
"""
import gast

from .mode import appended_list, popped_list


def live_before(generator, stmts, live):
    """The names whose adjoint is nonzero before ``stmts`` run backwards, given those (``live``)
    whose adjoint is nonzero after them."""
    live = set(live)
    for stmt in reversed(stmts):
        live = _live_before_statement(generator, stmt, live)
    return live


def live_at_loop_entry(generator, loop, live):
    """The names whose adjoint is nonzero when an iteration of ``loop``'s adjoint starts (or
    the adjoint loop ends), given ``live`` after the loop: the least fixed point."""
    entry = set(live)
    while True:
        wider = entry | live_before(generator, loop.body, entry)
        if wider == entry:
            return entry
        entry = wider


def _live_before_statement(generator, stmt, live):
    varied = generator.varied
    if isinstance(stmt, gast.If):
        return live_before(generator, stmt.body, live) | live_before(generator, stmt.orelse, live)
    if isinstance(stmt, (gast.For, gast.While)):
        return live_at_loop_entry(generator, stmt, live)
    appended = appended_list(stmt)
    if appended is not None:  # items.append(v): v gets the last element of the list's adjoint
        items, value = appended
        if items in live and isinstance(value, gast.Name) and value.id in varied:
            return live | {value.id}
        return live
    if not isinstance(stmt, gast.Assign):
        return live
    target, value = stmt.targets[0], stmt.value
    if getattr(value, "sg_user_function", None) is not None:  # y = helper(a, b)
        outputs = {target.id} if isinstance(target, gast.Name) else \
            {e.id for e in target.elts}
        arguments = {n.id for n in [*value.args, *(k.value for k in value.keywords)]
                     if isinstance(n, gast.Name) and n.id in varied}
        if outputs & live & varied and arguments:
            return (live - outputs) | arguments
        return live - outputs
    if isinstance(target, gast.Subscript):  # y[i] = v: v gets the adjoint of y[i]
        array = target.value.id
        if array in varied and array in live and isinstance(value, gast.Name) and \
                value.id in varied:
            return live | {value.id}
        return live
    items = popped_list(value)
    if items is not None:  # x = items.pop(): the list's adjoint takes x's back
        name = target.id
        if items in varied and (name in live and name in varied or items in live):
            return (live - {name}) | {items}
        return live - {name}
    if not isinstance(target, gast.Name) or target.id not in varied or target.id not in live:
        return live
    name = target.id
    if not generator.activity.is_varied(value):
        return live - {name}
    if isinstance(value, (gast.List, gast.Dict)):
        elements = value.elts if isinstance(value, gast.List) else value.values
        return (live - {name}) | {e.id for e in elements
                                  if isinstance(e, gast.Name) and e.id in varied}
    rule, bindings, wanted = generator.operation_sources(stmt)
    if rule is None:
        if isinstance(value, gast.Name) and value.id in varied:
            return (live - {name}) | {value.id}
        return live - {name}
    sources = set()
    for parameter in wanted:
        bound = bindings[parameter]
        parts = bound.elts if isinstance(bound, (gast.List, gast.Tuple)) else [bound]
        sources |= {p.id for p in parts if isinstance(p, gast.Name) and p.id in varied}
    return (live - {name}) | sources
