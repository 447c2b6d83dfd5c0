"""Each pass on its own, on a few lines of source: desugar, versioning, activity, ANF, emit."""
import ast
import textwrap

import gast
import numpy as np

from srcgrad.transform.analyze import Activity, annotate_changed_later, assigned_names
from srcgrad.transform.names import GlobalBinder, NameAllocator
from srcgrad.transform.normalize import Desugar, ToANF, version_reassignments
from srcgrad.transform.optimize import simplify
from srcgrad.transform.parse import ParsedFunction


def parsed(source):
    tree = gast.parse(textwrap.dedent(source)).body[0]
    return ParsedFunction(None, tree, "example.py", textwrap.dedent(source).splitlines(),
                          {"np": np, "range": range, "len": len})


def text(stmts):
    module = gast.gast_to_ast(gast.Module(body=stmts, type_ignores=[]))
    return ast.unparse(ast.fix_missing_locations(module))


def normalized(source, wrt=("x",)):
    function = parsed(source)
    names = NameAllocator({n.id for n in gast.walk(function.tree) if isinstance(n, gast.Name)})
    params = [a.id for a in function.tree.args.args]
    body = version_reassignments(Desugar(function, names).function(function.tree), params, names)
    locals_ = set(params) | assigned_names(body)
    activity = Activity(function.namespace, locals_)
    activity.propagate(body, wrt)
    binder = GlobalBinder(names, function.namespace, {"np"})
    body = ToANF(function, names, activity, locals_, binder).block(body)
    activity.propagate(body, wrt)
    return body, activity


def test_desugar_expands_augmented_and_swaps_safely():
    body, _ = normalized("""
        def f(x, y):
            x += y
            a, b = x, y
            a, b = b, a
            return a
    """)
    assert text(body) == textwrap.dedent("""\
        x_2 = x + y
        a = x_2
        b = y
        a_new = b
        b_new = a
        a_2 = a_new
        b_2 = b_new
        return a_2""")


def test_anf_splits_active_expressions_and_keeps_inactive_ones_whole():
    body, _ = normalized("""
        def f(x):
            h = np.tanh(x @ x.T) * x.shape[0]
            return np.sum(h)
    """)
    assert text(body) == textwrap.dedent("""\
        x_T = x.T
        x_at_x_T = x @ x_T
        tanh_x_at_x_T = np.tanh(x_at_x_T)
        h = tanh_x_at_x_T * x.shape[0]
        result = np.sum(h)
        return result""")


def test_activity_stops_at_comparisons_shapes_and_integer_helpers():
    _, activity = normalized("""
        def f(x, c):
            n = x.shape[0]
            k = int(np.argmax(x))
            mask = x > 0
            y = c * 2.0
            z = x * y
            return np.sum(z)
    """)
    assert {"x", "z"} <= activity.varied
    assert not {"n", "k", "mask", "y", "c"} & activity.varied


def test_for_over_rows_becomes_a_counted_loop():
    body, _ = normalized("""
        def f(x):
            total = 0.0
            for row in x:
                total = total + np.sum(row)
            return total
    """)
    assert "for row_index in range(len(x)):\n    row = x[row_index]" in text(body)


def test_unsafe_sets_see_later_assignments_and_loop_bodies():
    body, _ = normalized("""
        def f(x):
            y = x * 2.0
            for i in range(3):
                z = y * x
                y = z + 1.0
            return y
    """)
    annotate_changed_later(body)
    first, loop = body[0], body[1]
    assert "y" in first.sg_changed_after  # the loop rebinds y
    inner = loop.body[0]
    assert {"y", "z"} <= inner.sg_changed_from and "i" not in inner.sg_changed_from
    assert "x" not in inner.sg_changed_from


def test_simplify_folds_constants_and_identities():
    tree = gast.parse("g * 2 * x ** (2 - 1) * 1.0 + -(-y) - 0").body
    assert text(simplify(tree)) == "g * 2 * x + y"


def test_name_allocator_avoids_every_taken_name():
    names = NameAllocator({"dx", "dx_2", "stack"})
    assert names.fresh("dx") == "dx_3"
    assert names.fresh("stack") == "stack_2"
    assert names.fresh("d") == "d"
    assert names.fresh("_") == "_"
    assert names.fresh("1st") == "v_1st"
