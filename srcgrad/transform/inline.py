"""Inline a derivative rule's body into generated code, with the call site's names substituted."""
import builtins

import gast

from .analyze import assigned_names, loaded_names
from .build import clone, constant


def literal(value):
    """A gast expression for a rule option's default value."""
    if isinstance(value, (int, float, bool, str, type(None))):
        return constant(value)
    if isinstance(value, tuple) and all(isinstance(v, (int, float, bool, str)) for v in value):
        return gast.Tuple(elts=[constant(v) for v in value], ctx=gast.Load())
    return None


_PARTS = {}  # id(rule tree) -> (tree, body without docstring, parameters, locals, free names)


def _rule_parts(rule):
    """A rule's body and the names in it, worked out once per rule (rules never change)."""
    found = _PARTS.get(id(rule.tree))
    if found is None or found[0] is not rule.tree:
        tree = rule.tree
        body = [s for s in tree.body
                if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
        parameters = {a.id for a in tree.args.args + tree.args.kwonlyargs}
        assigned = assigned_names(body)
        free = set().union(*(loaded_names(s) for s in body)) - parameters - assigned
        # in the order the body binds them: fresh names are handed out the same every time
        local = list(dict.fromkeys(node.id for stmt in body for node in gast.walk(stmt)
                                   if isinstance(node, gast.Name) and
                                   isinstance(node.ctx, gast.Store)))
        found = _PARTS[id(rule.tree)] = (tree, body, parameters, local, free)
    return found[1:]


def inline_rule(rule, bindings, wanted, names, binder, outputs=None):
    """The rule's body with ``bindings`` (parameter -> expression) substituted.

    Returns ``(prelude, outputs)``: statements that compute shared parts, and for each wanted
    parameter the expression of its adjoint. For an accumulating rule the outputs are empty and
    the prelude is the whole body (which adds into its ``dx`` in place). ``outputs`` names what
    the returned tuple holds, in order (the differentiable parameters, unless given).
    """
    outputs_order = tuple(outputs) if outputs is not None else rule.differentiable
    template, parameters, local, free = _rule_parts(rule)
    body = clone(template)
    renamed = {name: names.fresh(name) for name in local}
    for name in free:
        obj = rule.namespace[name] if name in rule.namespace else getattr(builtins, name)
        renamed[name] = binder.bind(name, obj)

    def substitute(node):
        if type(node) is gast.Name:
            if node.id in parameters and type(node.ctx) is gast.Load:
                return clone(bindings[node.id])
            if node.id in renamed:
                node.id = renamed[node.id]
            return node
        for field in node._fields:
            child = getattr(node, field, None)
            if type(child) is list:
                child[:] = [substitute(c) if isinstance(c, gast.AST) else c for c in child]
            elif isinstance(child, gast.AST):
                setattr(node, field, substitute(child))
        return node

    body = [substitute(s) for s in body]
    if rule.accumulates:
        return body, {}
    *prelude, final = body
    returned = final.value
    if len(outputs_order) == 1:
        parts = {outputs_order[0]: returned}
    else:
        parts = dict(zip(outputs_order, returned.elts))
    outputs = {p: parts[p] for p in wanted}
    needed = set().union(*(loaded_names(e) for e in outputs.values())) if outputs else set()
    kept = []
    for stmt in reversed(prelude):  # keep only the shared parts some wanted adjoint reads
        if assigned_names(stmt) & needed:
            kept.insert(0, stmt)
            needed |= loaded_names(stmt)
    return kept, outputs
