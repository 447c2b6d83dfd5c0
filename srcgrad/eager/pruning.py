"""A rule's function that computes only the adjoints a node wants, made from the rule's own source.

A reverse rule returns the adjoints of all its differentiable parameters, ``(dx, dy)``; generated
code inlines the body and drops what nothing reads. The tape calls the rule as a function, so
``w @ x`` with a constant ``x`` would compute ``x``'s adjoint only to throw it away (half of the
work of matmul's backward step). Here the rule's body is compiled once more per set of wanted
adjoints, with the others returned as None and the assignments only they read left out: still
the one rule, written once, in ``srcgrad/rules``.
"""
import ast
import copy
import inspect

import gast


def pruned(rule, wanted):
    """``rule.function``, or a copy of it computing only the adjoints at the positions in
    ``wanted`` (a frozenset; the others are None). The function itself when nothing would be
    left out, or its source cannot be used (closures, no source, not one return at the end)."""
    count = len(rule.differentiable)
    if rule.accumulates or count < 2 or len(wanted) == count:
        return rule.function
    function = rule.function
    if function.__code__.co_freevars:
        return function
    try:
        tree = copy.deepcopy(rule.tree)  # a copy to change
    except (OSError, TypeError):  # no source
        return function
    returned = tree.body[-1] if tree.body else None
    if not (isinstance(returned, gast.Return) and isinstance(returned.value, gast.Tuple)
            and len(returned.value.elts) == count):
        return function
    for k in range(count):
        if k not in wanted:
            returned.value.elts[k] = gast.Constant(value=None, kind=None)
    # Walk back from the return: keep an assignment only if a kept statement reads what it binds.
    needed = _names_read(returned)
    kept = [returned]
    for statement in reversed(tree.body[:-1]):
        if not isinstance(statement, gast.Assign):
            return function  # not straight-line assignments: use the whole rule
        bound = {n.id for target in statement.targets for n in gast.walk(target)
                 if isinstance(n, gast.Name)}
        if bound & needed:
            kept.append(statement)
            needed |= _names_read(statement.value)
    tree.body = kept[::-1]
    module = gast.gast_to_ast(gast.Module(body=[tree], type_ignores=[]))
    ast.fix_missing_locations(module)
    ast.increment_lineno(module, function.__code__.co_firstlineno - 1)
    namespace = {}
    exec(compile(module, inspect.getsourcefile(function) or "<rule>", "exec"),  # noqa: S102
         function.__globals__, namespace)
    specialised = namespace[tree.name]
    specialised.__defaults__ = function.__defaults__
    specialised.__kwdefaults__ = function.__kwdefaults__
    return specialised


def _names_read(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}
