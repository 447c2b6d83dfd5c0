"""The one resolver: the object a name or a dotted name refers to, in the user's code or in
generated code, or None for a local variable or a name nothing defines."""
import builtins
import inspect

import gast


def resolve(expr, namespace, local_names=frozenset(), bound=None):
    """The object ``expr`` (a name, or attributes of one: ``np.linalg.norm``) refers to.

    ``namespace``: the globals, closure variables and builtins visible where the code runs;
    ``local_names``: names that are the function's own variables (None for them). In generated
    code, ``bound`` holds the globals the generated code binds (``np``, ``unbroadcast``),
    looked up first, and only attributes of modules are followed: the rest of an attribute
    chain is a value of the user's that the code reads when it runs.
    """
    if isinstance(expr, gast.Name):
        if expr.id in local_names:
            return None
        if bound is not None and expr.id in bound:
            return bound[expr.id]
        if expr.id in namespace:
            return namespace[expr.id]
        return getattr(builtins, expr.id, None) if bound is not None else None
    if isinstance(expr, gast.Attribute):
        owner = resolve(expr.value, namespace, local_names, bound)
        if owner is None or (bound is not None and not inspect.ismodule(owner)):
            return None
        return getattr(owner, expr.attr, None)
    return None
