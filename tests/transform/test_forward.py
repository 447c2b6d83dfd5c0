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


# --- specialized to the arguments' shapes --------------------------------------------------------

@pytest.mark.parametrize("function, args", CASES, ids=[case_id(c) for c in CASES])
def test_specialized_code_gives_what_the_code_for_any_shapes_gives(function, args):
    tangents = tuple(random_like(a) for a in args)
    derivative = sg.jvp(function, wrt=tuple(range(len(args))))
    names = derivative.generated.function.__srcgrad_tangents__
    by_name = dict(zip(names, tangents))
    any_shape = derivative.generated.function(*args, **by_name)
    specialized = derivative(*args, **by_name)  # the tangents by the names of the any-shape code
    assert derivative.last_run is not derivative.generated
    assert derivative.last_run.function.__srcgrad_tangents__ == names
    np.testing.assert_allclose(np.asarray(specialized[0], dtype=float),
                               np.asarray(any_shape[0], dtype=float), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(specialized[1], dtype=float),
                               np.asarray(any_shape[1], dtype=float), rtol=1e-12, atol=1e-12)


def layer(x, W, b, scale):
    h = np.tanh(x @ W + b) - 0.5  # b broadcasts over the rows; 0.5 carries no tangent
    total = 0.0
    for row in range(h.shape[0]):
        total = total + np.sum(h[row] * scale)
    return total


def test_specialized_forward_code_says_what_the_shapes_settle():
    x, W, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    forward = sg.jvp(layer, wrt=(1, 2, 3))
    any_shape = sg.source(forward)
    assert "broadcast_like(" in any_shape and "zeros_like(total)" in any_shape
    specialized = sg.source(forward, x, W, b, 2.0, dW=np.ones_like(W), db=np.ones(3),
                            dscale=1.0)
    # Nothing is stretched (db is, by broadcasting in x @ dW + db), the number's zero is 0.0,
    # and np.sum says no defaults.
    assert "broadcast_like" not in specialized and "zeros_like" not in specialized
    assert "dtotal = 0.0" in specialized and "axis=None" not in specialized
    assert specialized.startswith("def layer_jvp(x, W, b, scale, dW, db, dscale):")
    value, tangent = forward(x, W, b, 2.0, dW=np.ones_like(W), db=np.ones(3), dscale=1.0)
    expected = forward.generated.function(x, W, b, 2.0, dW=np.ones_like(W), db=np.ones(3),
                                          dscale=1.0)
    assert (value, tangent) == pytest.approx(expected, rel=1e-12)


def test_a_term_that_broadcasting_stretches_keeps_its_stretching():
    def plus_row(x, b):
        return x + b  # only b carries a tangent: its term is stretched to x's shape

    x, b = rng.normal(size=(2, 3)), rng.normal(size=3)
    forward = sg.jvp(plus_row, wrt=1)
    source = sg.source(forward, x, b, db=np.ones(3))
    assert "broadcast_like(db, " in source
    _, tangent = forward(x, b, db=np.ones(3))
    assert tangent.shape == (2, 3) and np.all(tangent == 1.0)


def test_a_zero_made_by_an_array_function_of_numbers_stays_a_number():
    def clipped(b, x):
        return np.sum(x * np.clip(b, -1.0, 0.5))  # np.where in the rule: a NumPy 0-d array

    forward = sg.jvp(clipped, wrt=0)
    source = sg.source(forward, 0.2, small, db=1.0)
    assert "broadcast_like(np.where(" in source  # which broadcast_like turns into a number
    assert forward(0.2, small, db=1.0)[1] == pytest.approx(np.sum(small))


def test_a_tangent_need_not_have_its_primals_shape():
    def doubled_sines(x):
        return np.sum(np.sin(x) * 2.0)

    forward = sg.jvp(doubled_sines)
    _, tangent = forward(small, dx=1.0)  # one number: the same step along every axis
    assert tangent == pytest.approx(np.sum(np.cos(small) * 2.0))
    _, tangent = forward(small, dx=np.ones(3))
    assert tangent == pytest.approx(np.sum(np.cos(small) * 2.0))


def test_a_tangent_that_is_a_number_on_one_path_and_an_array_on_another():
    def grows(x, b):
        for i in range(3):
            if i > 0:
                y = y * x + b
            else:
                y = b * 1.0
        return np.sum(y)

    x, b = np.linspace(0.1, 1.0, 4), np.full((2, 4), 0.5)
    forward = sg.jvp(grows, wrt=(0, 1))
    tangents = {"dx": np.cos(x), "db": np.cos(b)}
    assert forward(x, b, **tangents) == pytest.approx(
        forward.generated.function(x, b, **tangents), rel=1e-12)


def list_of_constants_varied_later(x, dt, n):
    state = [x, x]
    for _ in range(n):
        state = [state[0] * dt, state[1]]
    return np.sum(state[0])


def test_a_list_of_values_without_tangents_gets_zero_tangents_for_each():
    """``state = [x, x]`` before any tangent reaches it: its tangent list holds one zero for
    each item (it was empty, and a loop that ran no step left state[0]'s tangent missing)."""
    x = np.array([0.5, 2.0])
    for n in (0, 1, 3):
        value, tangent = sg.jvp(list_of_constants_varied_later, wrt=1)(x, 0.5, n, 1.0)
        assert value == pytest.approx(np.sum(x) * 0.5 ** n)
        assert tangent == pytest.approx(np.sum(x) * n * 0.5 ** max(n - 1, 0) if n else 0.0)
