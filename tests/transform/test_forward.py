"""Forward mode on every function of the reverse-mode suites: a dot-product test against reverse
mode (<J v, w> from jvp equals <v, J^T w> from vjp) and jvp against central differences."""
import numpy as np
import pytest

import srcgrad as sg

import test_calls as calls
import test_closures as closures
import test_control_flow as control
import test_element_writes as writes
import test_lists as lists
import test_reverse as reverse

rng = np.random.default_rng(2024)
vec = np.array([0.4, -0.3, 1.2, 0.8, -1.1, 0.5])
small = np.array([0.5, -0.4, 1.3])
matrix = rng.normal(size=(4, 3))

CASES = [
    (reverse.quickstart_loss, (rng.normal(size=3), rng.normal(size=(6, 3)), rng.normal(size=6))),
    (reverse.straight_line, (vec, vec + 2.0)),
    (reverse.reassigned, (vec,)),
    (reverse.augmented, (vec + 3.0, vec ** 2 + 1.0)),
    (reverse.tuple_assignment, (vec, -vec)),
    (reverse.unary_and_constants, (vec * 0.1,)),
    (reverse.branches, (vec + 2.0, vec + 3.0)),
    (reverse.branches, (vec - 2.0, -vec - 3.0)),
    (reverse.branch_assigns_one_side, (vec, vec + 1.0)),
    (reverse.scalar_recurrence, (0.3, 0.9)),
    (reverse.rnn, (rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) * 0.5,
                   rng.normal(size=(4, 2, 3)))),
    (reverse.rows, (matrix, rng.normal(size=3))),
    (reverse.nested_loops, (matrix,)),
    (reverse.newton_sqrt, (9.0,)),
    (reverse.while_in_for, (np.array([0.5, 1.3, 2.2]),)),
    (reverse.broadcasting, (matrix, rng.normal(size=3), 1.7)),
    (reverse.python_floats_mixed, (vec, 1.5)),
    (reverse.inactive_paths, (vec,)),
    (reverse.indexing, (matrix,)),
    (reverse.transpose_and_matmul, (matrix, rng.normal(size=(3, 3)))),
    (reverse.elementwise_array, (matrix, rng.normal(size=3))),
    (control.break_in_for, (vec,)),
    (control.continue_in_for, (vec,)),
    (control.break_in_while, (0.7,)),
    (control.nested_break_and_continue, (vec,)),
    (control.deep_exit, (vec,)),
    (control.early_return_in_if, (vec + 1.0,)),
    (control.early_return_in_if, (vec - 1.0,)),
    (control.early_return_in_while, (vec * 0.5 + 0.3, 1.4)),
    (control.return_from_nested_loops, (vec,)),
    (calls.calls_helper, (vec, vec[::-1])),
    (calls.calls_helper_in_loop, (vec, 0.8)),
    (calls.nested_helpers, (vec,)),
    (calls.unpacks_tuple, (vec, vec + 0.2)),
    (calls.calls_imported, (vec,)),
    (calls.recursion, (vec,)),
    (calls.data_dependent_recursion, (vec * 3.0,)),
    (calls.methods, (vec[:4], rng.normal(size=(2, 3)))),
    (calls.conditional_expression, (vec,)),
    (calls.enumerate_and_zip, (vec, vec[::-1] + 0.5)),
    (calls.boolean_conditions, (vec,)),
    (closures.nested_def, (small, 0.7)),
    (closures.closure_sees_late_values, (small,)),
    (closures.lambdas, (small, small + 1.0)),
    (closures.nested_helpers_call_each_other, (small,)),
    (writes.tangent_zeros_case, (small,)),
    (writes.overwrite_then_read, (small,)),
    (writes.column_writes, (small,)),
    (writes.running_state, (small,)),
    (lists.stacked_rows, (matrix.T, np.linspace(-1, 1, 4))),
    (lists.array_of_scalars, (vec,)),
    (lists.builtin_sum_of_list, (vec,)),
    (lists.comprehension, (vec[:4],)),
    (lists.read_back_and_loop_over, (vec,)),
]


def case_id(case):
    return case[0].__name__


def random_like(value):
    return float(rng.normal()) if np.ndim(value) == 0 else rng.normal(size=np.shape(value))


@pytest.mark.parametrize("function, args", CASES, ids=[case_id(c) for c in CASES])
def test_jvp_agrees_with_vjp_and_finite_differences(function, args):
    tangents = tuple(random_like(a) for a in args)
    out, out_tangent = sg.jvp(function, args, tangents)
    np.testing.assert_allclose(out, function(*args), rtol=1e-12, atol=1e-12)
    # Dot-product test: <J v, w> == <v, J^T w>.
    value, pullback = sg.vjp(function, wrt=tuple(range(len(args))))(*args)
    weights = random_like(value)
    gradients = pullback(weights)
    left = np.sum(np.asarray(out_tangent) * weights)
    right = sum(np.sum(np.asarray(g) * v) for g, v in zip(gradients, tangents))
    assert left == pytest.approx(right, rel=1e-10, abs=1e-12)
    # Against central differences along the same direction.
    eps = 1e-6
    up = function(*(a + eps * t for a, t in zip(args, tangents)))
    down = function(*(a - eps * t for a, t in zip(args, tangents)))
    np.testing.assert_allclose(out_tangent, (np.asarray(up) - np.asarray(down)) / (2 * eps),
                               rtol=1e-5, atol=1e-6)


def test_forward_rule_of_power_carries_the_exponent():
    def two_to_the(x):
        return 2.0 ** x
    _, tangent = sg.jvp(two_to_the, (1.5,), (1.0,))
    assert tangent == pytest.approx(2.0 ** 1.5 * np.log(2.0))


def test_jvp_with_wrt_returns_the_generated_function():
    forward = sg.jvp(reverse.straight_line, wrt=0)
    x, y = vec, vec + 2.0
    value, tangent = forward(x, y, np.ones_like(x))
    assert value == pytest.approx(reverse.straight_line(x, y))
    assert tangent == pytest.approx(np.sum(sg.grad(reverse.straight_line)(x, y)))
    assert sg.source(forward).startswith("def straight_line_jvp(x, y, dx):")


def test_jacobian_picks_forward_or_reverse_and_matches_both():
    def wide(x):  # 3 inputs, 6 outputs: forward mode, column by column
        return np.concatenate([np.sin(x), x ** 2])

    def narrow(x):  # 6 inputs, 2 outputs: reverse mode, row by row
        return np.stack([np.sum(x ** 2), np.prod(x)])

    x = small
    expected_wide = np.concatenate([np.diag(np.cos(x)), np.diag(2 * x)])
    np.testing.assert_allclose(sg.jacobian(wide)(x), expected_wide)
    y = vec
    expected_narrow = np.stack([2 * y, np.prod(y) / y])
    np.testing.assert_allclose(sg.jacobian(narrow)(y), expected_narrow)


def test_forward_source_for_a_loop_with_a_branch():
    source = sg.source(sg.jvp(reverse.quickstart_loss, wrt=0))
    assert source.startswith("def quickstart_loss_jvp(w, x, y, dw):")
    assert "for i in range(err.shape[0]):" in source and "stack" not in source
