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


def inline_rule(rule, bindings, wanted, names, binder, outputs=None):
    """The rule's body with ``bindings`` (parameter -> expression) substituted.

    Returns ``(prelude, outputs)``: statements that compute shared parts, and for each wanted
    parameter the expression of its adjoint. For an accumulating rule the outputs are empty and
    the prelude is the whole body (which adds into its ``dx`` in place). ``outputs`` names what
    the returned tuple holds, in order (the differentiable parameters, unless given).
    """
    outputs_order = tuple(outputs) if outputs is not None else rule.differentiable
    tree = clone(rule.tree)
    body = [s for s in tree.body
            if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
    parameters = {a.id for a in tree.args.args + tree.args.kwonlyargs}
    local = assigned_names(body)
    renamed = {name: names.fresh(name) for name in local}
    free = set().union(*(loaded_names(s) for s in body)) - parameters - local
    for name in free:
        obj = rule.namespace[name] if name in rule.namespace else getattr(builtins, name)
        renamed[name] = binder.bind(name, obj)

    class Substitute(gast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in parameters and isinstance(node.ctx, gast.Load):
                return clone(bindings[node.id])
            if node.id in renamed:
                node.id = renamed[node.id]
            return node

    body = [Substitute().visit(s) for s in body]
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
