"""``with`` blocks whose context manager changes no value (np.errstate, warnings.catch_warnings).

Such a block is differentiated as if its body stood in its place (normalize.py takes the body
out); the generated code then puts each run of statements that come from the body, primal and
derivative alike, back inside the same ``with`` (:func:`wrap`), so that the warnings and
floating-point errors the body silences stay silenced in the derivative, and a warning filter
set inside the block is undone at its end. A context manager that could change what runs
(``np.errstate(divide="raise")`` turns a warning into an exception, which the derivative's own
arithmetic could raise where the function does not) or binds a name (``as w``) is refused.
"""
import warnings

import gast
import numpy as np

from .build import clone
from .scope import resolve

#: The context managers accepted: they change how warnings and floating-point errors are
#: reported, never a value.
VALUE_PRESERVING = {np.errstate: "np.errstate", warnings.catch_warnings: "warnings.catch_warnings"}
_ERRSTATE_MODES = {"ignore", "warn", "print", "log"}


def check(parsed, stmt):
    """Refuse, at the user's line, a ``with`` block srcgrad cannot differentiate soundly."""
    for item in stmt.items:
        expr = item.context_expr
        function = resolve(expr.func, parsed.namespace, set()) \
            if isinstance(expr, gast.Call) else None
        if function not in VALUE_PRESERVING:
            raise parsed.unsupported(
                stmt, "a with block (only np.errstate and warnings.catch_warnings are "
                "differentiated: they change no value)",
                "move the context manager outside the differentiated function, around its "
                "call")
        name = VALUE_PRESERVING[function]
        if item.optional_vars is not None:
            raise parsed.unsupported(
                stmt, f"'with {name}(...) as ...' (a name bound by the with block)",
                f"write 'with {name}(...):' without 'as', or move the block outside the "
                "differentiated function")
        arguments = list(expr.args) + [k.value for k in expr.keywords]
        if any(k.arg is None for k in expr.keywords) or \
                not all(isinstance(a, gast.Constant) for a in arguments):
            raise parsed.unsupported(
                stmt, f"{name}(...) with arguments that are not literals",
                "write the settings as literals, e.g. np.errstate(divide=\"ignore\")")
        if function is np.errstate and any(a.value not in _ERRSTATE_MODES for a in arguments):
            raise parsed.unsupported(
                stmt, "np.errstate with a mode other than 'ignore', 'warn', 'print' or 'log' "
                "('raise' or 'call' turn the derivative's own floating-point errors into "
                "exceptions or calls where the function has none)",
                "put the with block around the call of the derivative instead")
        if function is warnings.catch_warnings and (expr.args or any(
                k.arg == "record" and k.value.value for k in expr.keywords)):
            raise parsed.unsupported(
                stmt, "warnings.catch_warnings(record=True) (a list of warnings bound by the "
                "block)", "write 'with warnings.catch_warnings():' and set a filter inside")


_FILTERS = (warnings.simplefilter, warnings.filterwarnings)


def filters(parsed, body):
    """The statements of a ``warnings.catch_warnings()`` block's body that set a warning filter
    from literals and warning classes (``warnings.simplefilter("ignore", RuntimeWarning)``),
    other than "error" (which would make the derivative's own warnings exceptions): each run
    of the block's statements in the derivative starts with them, so the derivative's share
    of the block is silenced as the block is."""
    out = []
    for stmt in body:
        value = getattr(stmt, "value", None)
        if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) and \
                resolve(value.func, parsed.namespace, set()) in _FILTERS and \
                all(isinstance(a, gast.Constant) or _warning_class(parsed, a)
                    for a in list(value.args) + [k.value for k in value.keywords]) and \
                _action(value) != "error":  # the derivative's own warnings are not errors
            out.append(stmt)
    return out


def _action(call):
    action = call.args[0] if call.args else next(
        (k.value for k in call.keywords if k.arg == "action"), None)
    return action.value if isinstance(action, gast.Constant) else None


def _warning_class(parsed, expr):
    found = resolve(expr, parsed.namespace, set())
    return isinstance(found, type) and issubclass(found, Warning)


def wrap(function_def, contexts):
    """Put back the ``with`` of each ``(first line, last line, [context expressions], [filter
    statements])`` in ``contexts`` around the runs of statements whose user line lies in its
    range."""
    if contexts:
        _wrap_block(function_def.body, contexts, ())


def _key(stmt, contexts, active):
    """The contexts around the user line of ``stmt`` not already entered; None: no line."""
    origin = getattr(stmt, "sg_origin", None)
    if not origin or not origin[0]:
        return None
    return tuple(c for c in contexts if c[0] <= origin[0] <= c[1] and c not in active)


def _wrap_block(block, contexts, active):
    keys = [_key(stmt, contexts, active) for stmt in block]
    # A statement of srcgrad's own (a push onto the stack) between two of the block's joins it.
    for k, key in enumerate(keys):
        if key is None:
            before = next((x for x in reversed(keys[:k]) if x is not None), ())
            after = next((x for x in keys[k + 1:] if x is not None), ())
            keys[k] = before if before == after else ()
    out, k = [], 0
    while k < len(block):
        key = keys[k]
        end = k + 1
        while end < len(block) and keys[end] == key:
            end += 1
        run = block[k:end]
        for stmt in run:
            inner = active + key
            for field in ("body", "orelse"):
                nested = getattr(stmt, field, None)
                if isinstance(nested, list) and nested:
                    _wrap_block(nested, contexts, inner)
        if key:
            items = [gast.withitem(context_expr=clone(expr), optional_vars=None)
                     for context in key for expr in context[2]]
            lines = {getattr(stmt, "sg_origin", (None,))[0] for stmt in run}
            setup = [clone(stmt) for context in key for stmt in context[3]
                     if stmt.lineno not in lines]
            out.append(gast.With(items=items, body=setup + run, type_comment=None))
        else:
            out.extend(run)
        k = end
    block[:] = out
