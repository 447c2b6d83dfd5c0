"""Shift invariance: where the output's derivative along a uniform shift of a value is zero."""
import gast
import numpy as np

from .analyze import assigned_names, loaded_names

INVARIANT = ("add", 0.0)  # tangent zero: both an additive and a multiplicative one with k = 0

# Reductions whose tangent, for a tangent that is a uniform k*t (or k*t times the value), is
# k*t (k*t times the result): they pick, or average, elements.
_PICKING = {np.max, np.min, np.amax, np.amin, np.mean}


def zero_shift_adjoints(body, shape_of, function_of):
    """The statements ``y = a - c`` (or ``a + c``, ``c + a``, ``c - a``; ``c`` a number) at the
    top of ``body`` after which the output does not change, to first order, when every element
    of ``y`` moves by the same amount: ``log(sum(exp(y))) - y[label]``, ``exp(y) / sum(exp(y))``.

    Then ``sum(dy)``, the adjoint that ``c`` would get, is exactly zero (``x - max(x)`` needs no
    tie mask). Returns {id(statement): name of c}. ``shape_of(name)``: the shapes of the
    primal's names; ``function_of(call)``: the object a call calls.

    The analysis follows the tangent of a shift ``y -> y + t`` forward through the statements
    after ``y``: each value's tangent is either ``k*t`` ("add", k) or ``k*t`` times the value
    ("mul", k), or not of that form (then nothing is claimed). Loops, branches, element writes
    and anything it does not know that read a value reached from ``y`` end the search.
    """
    *stmts, final = body
    found = {}
    bound_before = set()  # the names the statements before this one bind
    for position, stmt in enumerate(stmts):
        shift = _shift(stmt, shape_of)
        if shift is not None and shift[0] not in bound_before and \
                _invariant_after(shift[0], stmts[position + 1:], final, function_of):
            found[id(stmt)] = shift[1]
        bound_before |= assigned_names(stmt)
    return found


def _shift(stmt, shape_of):
    """(target, the number c) of ``y = a - c`` and the like, or None."""
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and
            isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.BinOp) and
            isinstance(stmt.value.op, (gast.Add, gast.Sub))):
        return None
    left, right = stmt.value.left, stmt.value.right
    if not (isinstance(left, gast.Name) and isinstance(right, gast.Name)) or left.id == right.id:
        return None
    for number, other in ((right, left), (left, right)):
        if shape_of(number.id) == () and isinstance(shape_of(other.id), tuple):
            return stmt.targets[0].id, number.id
    return None


def _invariant_after(target, stmts, final, function_of):
    tangents = {target: ("add", 1.0)}
    for stmt in stmts:
        read = loaded_names(stmt) & set(tangents)
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], gast.Name):
            tangent = _tangent(stmt.value, tangents, function_of) if read else INVARIANT
            if tangent is None:
                return False
            name = stmt.targets[0].id
            if tangent == INVARIANT:
                tangents.pop(name, None)
            else:
                tangents[name] = tangent
        elif read or assigned_names(stmt) & set(tangents):
            return False
    if not isinstance(final, gast.Return) or final.value is None:
        return False
    value = final.value
    parts = value.elts if isinstance(value, gast.Tuple) else [value]
    return all(not (loaded_names(p) & set(tangents)) or
               _tangent(p, tangents, function_of) == INVARIANT for p in parts)


def _normal(kind, k):
    return INVARIANT if k == 0 else (kind, k)


def _tangent(expr, tangents, function_of):
    """The tangent of ``expr`` (see zero_shift_adjoints), or None where it is not of a form
    the analysis knows."""
    if not (loaded_names(expr) & set(tangents)):
        return INVARIANT
    if isinstance(expr, gast.Name):
        return tangents[expr.id]
    if isinstance(expr, gast.BinOp):
        left = _tangent(expr.left, tangents, function_of)
        right = _tangent(expr.right, tangents, function_of)
        if left is None or right is None:
            return None
        op = expr.op
        if isinstance(op, (gast.Add, gast.Sub)):
            sign = 1 if isinstance(op, gast.Add) else -1
            if left == INVARIANT and right[0] == "add":
                return _normal("add", sign * right[1])
            if right == INVARIANT and left[0] == "add":
                return left
            if left[0] == right[0] == "add":
                return _normal("add", left[1] + sign * right[1])
            if left[0] == right[0] == "mul" and left[1] == right[1]:
                return left  # (a + b) * e^(kt)
            return None
        multiplicative = [t for t in (left, right) if t != INVARIANT]
        if any(t[0] != "mul" for t in multiplicative):
            return None  # (a + kt) * b: not of either form
        if isinstance(op, (gast.Mult, gast.MatMult)):
            return _normal("mul", left[1] + right[1])
        if isinstance(op, gast.Div):
            return _normal("mul", left[1] - right[1])
        if isinstance(op, gast.Pow) and right == INVARIANT and \
                isinstance(expr.right, gast.Constant) and type(expr.right.value) in (int, float):
            return _normal("mul", left[1] * expr.right.value)
        return None
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        inner = _tangent(expr.operand, tangents, function_of)
        if inner is None or inner[0] == "mul":
            return inner
        return _normal("add", -inner[1])
    if isinstance(expr, gast.Subscript):
        if loaded_names(expr.slice) & set(tangents):
            return None
        return _tangent(expr.value, tangents, function_of)  # elements of either form
    if isinstance(expr, gast.Attribute) and expr.attr == "T":
        return _tangent(expr.value, tangents, function_of)
    if isinstance(expr, gast.Call) and expr.args and \
            not any(isinstance(a, gast.Starred) for a in expr.args):
        rest = expr.args[1:] + [k.value for k in expr.keywords]
        if any(loaded_names(r) & set(tangents) for r in rest) or \
                getattr(expr, "sg_user_function", None) is not None:
            return None
        inner = _tangent(expr.args[0], tangents, function_of)
        if inner is None:
            return None
        function = function_of(expr)
        if function is np.exp and inner[0] == "add":
            return _normal("mul", inner[1])
        if function is np.log and inner[0] == "mul":
            return _normal("add", inner[1])
        if function in _PICKING:
            return inner
        if function is np.sum and inner[0] == "mul":
            return inner
        return None
    return None

