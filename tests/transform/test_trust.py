"""Issue #11: silent wrong derivatives, crashes and false refusals, each as a minimal reproducer.

Every test asserts the right value (or, where the construct cannot be supported, a
``srcgrad.errors.SrcgradError`` naming this file and the line). Tests marked
``xfail(strict=True)`` fail on main today; the lead removes the mark when the fix lands (a fix
makes the strict xfail "XPASS" and fail, so the mark cannot be forgotten).
"""
import functools
import os

import numpy as np
import pytest

import srcgrad as sg
from checks import check_grads, derivative_findings

THIS_FILE = os.path.basename(__file__)


def right_or_refused(thunk, expected, rtol=1e-7, atol=1e-9):
    """``thunk()`` equals ``expected``, or srcgrad refuses naming this file and a line."""
    try:
        result = thunk()
    except sg.SrcgradError as error:
        assert THIS_FILE in str(error) and "line" in str(error), (
            f"a refusal that does not name the user's file and line: {error}")
        return None
    if isinstance(expected, tuple):
        assert isinstance(result, tuple) and len(result) == len(expected), result
        for r, e in zip(result, expected):
            assert not np.iscomplexobj(r), f"a complex derivative of a real input: {r}"
            np.testing.assert_allclose(r, e, rtol=rtol, atol=atol)
    else:
        assert not np.iscomplexobj(result), f"a complex derivative of a real input: {result}"
        np.testing.assert_allclose(result, expected, rtol=rtol, atol=atol)
    return result


def no_findings(f, *args, **options):
    findings = derivative_findings(f, *args, catch=True, **options)
    assert not findings, "\n".join(map(str, findings))


# ------------------------------------------------------------------------------------------------
# A helper called with the same array twice, in a loop: only one argument's adjoint survives.

def inner(a, b):
    return a * b


def square_by_inner(a, n):
    for i in range(n):
        a = inner(a, a)
    return a


def square_by_inner_no_loop(a):
    return inner(a, a)


def test_aliased_helper_call_in_a_loop():
    assert sg.grad(square_by_inner)(3.0, 1) == pytest.approx(6.0)
    assert sg.grad(square_by_inner)(3.0, 2) == pytest.approx(4 * 3.0 ** 3)


def test_aliased_helper_call_outside_a_loop():
    assert sg.grad(square_by_inner_no_loop)(3.0) == pytest.approx(6.0)


# ------------------------------------------------------------------------------------------------
# value_and_grad of a loop that overwrites its input returns the input the reverse sweep restored.

def cube_thrice(a):
    for i in range(3):
        a = a * a * a
    return a


def rebind_in_while(a, b):
    n0 = 0
    while b > 0.8 and n0 < 1:
        n0 += 1
        a = -np.exp(np.tanh(0.5))
    return a


def test_value_and_grad_of_a_loop_overwriting_its_input():
    value, gradient = sg.value_and_grad(cube_thrice)(1.1)
    assert value == pytest.approx(1.1 ** 27)
    assert gradient == pytest.approx(27 * 1.1 ** 26)


def test_value_and_grad_of_a_while_loop_rebinding_a_parameter():
    value, gradients = sg.value_and_grad(rebind_in_while, wrt=(0, 1))(-1.1, 1.43)
    assert value == pytest.approx(-np.exp(np.tanh(0.5)))
    assert gradients == (0.0, 0.0)


def test_grad_of_a_loop_overwriting_its_input():
    check_grads(cube_thrice, 1.1, modes=("grad", "vjp", "jvp"))


# ------------------------------------------------------------------------------------------------
# A tuple (or list) of differentiated values passed to a helper that indexes it.

def pair_product(p):
    return p[0] * p[1]


def product_of_pair(x, y):
    return pair_product((x, y))


def product_of_list(x, y):
    return pair_product([x, y])


def test_tuple_argument_to_a_helper():
    assert sg.grad(product_of_pair, wrt=(0, 1))(2.0, 3.0) == (3.0, 2.0)


def test_list_argument_to_a_helper():
    assert sg.grad(product_of_list, wrt=(0, 1))(2.0, 3.0) == (3.0, 2.0)


def test_tuple_argument_to_a_helper_forward():
    assert sg.jvp(product_of_pair, (2.0, 3.0), (1.0, 0.0))[1] == 3.0


# ------------------------------------------------------------------------------------------------
# Array constructors with differentiated arguments: all-zero derivatives.

def sum_r_(x):
    return np.sum(np.r_[x, x] ** 2)


def sum_row_stack(x, y):
    return np.sum(np.row_stack((x, y)) ** 2)


def linspace_times(a, b, x):
    return np.sum(np.linspace(a, b, 5) * x)


def full_times(a, x):
    return np.sum(np.full(3, a) * x)


def arange_times(a, x):
    return np.sum(np.arange(a, a + 3.0) * x)


X3 = np.array([0.5, -1.0, 2.0])
X5 = np.array([0.5, -1.0, 2.0, 0.25, 1.5])


def test_r_():
    right_or_refused(lambda: sg.grad(sum_r_)(X3), 4 * X3)


@pytest.mark.skipif(not hasattr(np, "row_stack"), reason="np.row_stack is gone from this NumPy")
def test_row_stack():
    y = X3[::-1].copy()
    right_or_refused(lambda: sg.grad(sum_row_stack, wrt=(0, 1))(X3, y), (2 * X3, 2 * y))


def test_linspace():
    t = np.linspace(0.0, 1.0, 5)
    right_or_refused(lambda: sg.grad(linspace_times, wrt=(0, 1))(0.5, 2.0, X5),
                     (np.sum((1 - t) * X5), np.sum(t * X5)))


def test_full():
    right_or_refused(lambda: sg.grad(full_times)(0.7, X3), np.sum(X3))


def test_arange():
    right_or_refused(lambda: sg.grad(arange_times)(0.7, X3), np.sum(X3))


# ------------------------------------------------------------------------------------------------
# The walrus operator in a condition.

def walrus_sum(x):
    if (s := np.sum(x)) > 0:
        return s * s
    return s


def test_walrus_in_a_condition():
    x = np.array([1.0, 2.0, 3.0])
    right_or_refused(lambda: sg.grad(walrus_sum)(x), np.full(3, 12.0))
    right_or_refused(lambda: sg.jvp(walrus_sum, (x,), (np.ones(3),))[1], 36.0)


# ------------------------------------------------------------------------------------------------
# A module global rebound between two calls of the same derivative.

SCALE = 2.0


def scaled_square(x):
    return np.sum(SCALE * x ** 2)


def test_a_rebound_global_is_seen_by_the_next_call():
    global SCALE
    derivative, forward = sg.grad(scaled_square), sg.jvp(scaled_square)
    try:
        SCALE = 2.0
        np.testing.assert_allclose(derivative(np.ones(2)), [4.0, 4.0])
        assert forward(np.ones(2), np.ones(2))[0] == pytest.approx(4.0)
        SCALE = 3.0
        np.testing.assert_allclose(derivative(np.ones(2)), [6.0, 6.0])
        assert forward(np.ones(2), np.ones(2)) == pytest.approx((6.0, 12.0))
    finally:
        SCALE = 2.0


# ------------------------------------------------------------------------------------------------
# An integer array: the derivative must be refused (a TypeError that says astype(float)).

def sum_of_scaled_squares(x):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + 0.1 * x[i] ** 2
    return total


def test_an_integer_array_is_refused():
    with pytest.raises(TypeError) as caught:
        sg.grad(sum_of_scaled_squares)(np.arange(1, 4))
    assert isinstance(caught.value, sg.SrcgradError)
    assert "astype(float)" in str(caught.value)


# ------------------------------------------------------------------------------------------------
# Element writes on copies, rows and columns.

def scale_first(a, c):
    w = a * 1.0
    w[0] = w[0] * c
    return np.sum(w)


def scale_first_column(X, s):
    w = X.copy()
    w[:, 0] = w[:, 0] * s
    return np.sum(w)


def scale_first_row_then_shift(a, c):
    w = np.outer(a, a)
    w[0, :] = w[0, :] * c
    for i in range(2):
        w = w + 1.0
    return np.sum(w)


def write_into_zeros(b):
    w = np.zeros(2)
    w[0] = b[0] * 2.0
    return w * w


def test_jvp_of_an_element_write_leaves_the_input_alone():
    a, da = np.array([1.0, 2.0, 3.0]), np.ones(3)
    value, tangent = sg.jvp(scale_first, (a, 2.0), (da, 1.0))
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0])
    assert (value, tangent) == pytest.approx((7.0, 5.0))


def test_jvp_of_a_column_write_on_a_copy():
    X = np.ones((2, 2))
    value, tangent = sg.jvp(scale_first_column, (X, 2.0), (np.zeros((2, 2)), 1.0))
    assert (value, tangent) == pytest.approx((6.0, 2.0))
    np.testing.assert_array_equal(X, np.ones((2, 2)))


def test_grad_of_a_column_write_on_a_copy():
    check_grads(scale_first_column, np.ones((2, 2)), 2.0, modes=("grad", "value_and_grad"))


def test_row_write_then_a_loop():
    a = np.array([1.0, 2.0, 3.0])
    no_findings(scale_first_row_then_shift, a, 2.0)
    assert sg.grad(scale_first_row_then_shift, wrt=1)(a, 2.0) == pytest.approx(6.0)


def test_a_pullback_called_twice():
    out, pullback = sg.vjp(write_into_zeros)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(out, [4.0, 0.0])
    np.testing.assert_allclose(pullback(np.ones(2)), [8.0, 0.0])
    np.testing.assert_allclose(pullback(np.ones(2)), [8.0, 0.0])


# ------------------------------------------------------------------------------------------------
# In-place augmented assignment through an alias of the caller's array.

def add_through_alias(a, b):
    v = a
    v += b          # changes a too: the function returns sum((a + b) ** 2)
    return np.sum(v * a)


def test_in_place_add_through_an_alias():
    a, b = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    assert add_through_alias(a.copy(), b) == pytest.approx(np.sum((a + b) ** 2))
    right_or_refused(lambda: sg.grad(add_through_alias, wrt=(0, 1))(a.copy(), b),
                     (2 * (a + b), 2 * (a + b)))


# ------------------------------------------------------------------------------------------------
# A decorator written with functools.wraps: srcgrad must differentiate what the name calls.

def doubled(function):
    @functools.wraps(function)
    def wrapper(x):
        return 2.0 * function(x)
    return wrapper


@doubled
def doubled_square(x):
    return x * x


def test_a_wrapped_function_is_differentiated_as_called():
    assert doubled_square(3.0) == 18.0
    right_or_refused(lambda: sg.grad(doubled_square)(3.0), 12.0)


# ------------------------------------------------------------------------------------------------
# A complex intermediate in a real function.

def abs_of_complex(b):
    return np.sum(np.abs(b * (1 + 2j)))


def test_a_complex_intermediate():
    b = np.array([1.0, -2.0])
    right_or_refused(lambda: sg.grad(abs_of_complex)(b), np.sqrt(5.0) * np.sign(b))


# ------------------------------------------------------------------------------------------------
# nonlocal in a nested function.

def accumulate_nonlocal(x):
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v
    add(x * x)
    return total


def test_nonlocal_is_right_or_refused_at_the_users_line():
    right_or_refused(lambda: sg.grad(accumulate_nonlocal)(3.0), 6.0)


# ================================================================================================
# Found by the random programs (tests/transform/test_random_programs.py, SRCGRAD_EXTRA_FEATURES)
# and the user-side programs (tests/test_user_programs.py), shrunk by hand.

def stack_of_appended(a):
    rows = []
    for i in range(2):
        rows.append(a * a)
    return np.stack(rows)


def comprehension_of_dots(X, w):
    return np.array([np.dot(row, w) for row in X])


def test_a_pullback_of_list_appends_called_twice():
    a = np.array([0.5, -1.0])
    out, pullback = sg.vjp(stack_of_appended)(a)
    np.testing.assert_allclose(pullback(np.ones((2, 2))), 4 * a)
    np.testing.assert_allclose(pullback(np.ones((2, 2))), 4 * a)


def test_a_pullback_of_a_comprehension_called_twice():
    X, w = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -1.0])
    out, pullback = sg.vjp(comprehension_of_dots, wrt=1)(X, w)
    np.testing.assert_allclose(pullback(np.ones(2)), [4.0, 6.0])
    np.testing.assert_allclose(pullback(np.ones(2)), [4.0, 6.0])


def write_element_of_copy(X, s):
    w = X.copy()
    w[1, 0] = s
    return np.sum(w * w)


def test_a_pullback_of_a_2d_element_write_called_twice():
    X = np.array([[0.5, -1.0], [2.0, 0.3]])
    out, pullback = sg.vjp(write_element_of_copy, wrt=(0, 1))(X, 0.7)
    expected = (2 * X * np.array([[1, 1], [0, 1]]), 1.4)
    for _ in range(2):
        dX, ds = pullback(1.0)
        np.testing.assert_allclose(dX, expected[0])
        assert ds == pytest.approx(expected[1])


def scale_first_row(X, s):
    w = X.copy()
    w[0, :] = w[0, :] * s
    return np.sum(w)


def test_jvp_of_a_row_write_on_a_copy():
    value, tangent = sg.jvp(scale_first_row, (np.ones((2, 2)), 2.0), (np.zeros((2, 2)), 1.0))
    assert (value, tangent) == pytest.approx((6.0, 2.0))


def sum_of_none_index(b):
    return np.sum(b[None, :] * 2.0)


def outer_by_none_index(b):
    return np.sum(b[:, None] * b[None, :])


def test_none_in_an_index():
    b = np.array([0.5, -1.0, 2.0])
    right_or_refused(lambda: sg.grad(sum_of_none_index)(b), np.full(3, 2.0))
    right_or_refused(lambda: sg.grad(outer_by_none_index)(b), np.full(3, 2 * np.sum(b)))


def loop_over_list(weights, x):
    out = x
    for W in weights:
        out = np.tanh(out * W)
    return np.sum(out)


def two_layers(w1, w2, x):
    return loop_over_list([w1, w2], x)


def test_a_helper_looping_over_a_list_argument():
    x = np.array([0.5, -1.0, 2.0])
    no_findings(two_layers, 0.5, -0.3, x)


def outer_dot_in_a_loop(a):
    for i in range(2):
        t0 = np.dot(np.outer(a, a), a)
    return np.sum(t0)


def outer_dot(a):
    t0 = np.dot(np.outer(a, a), a)
    return np.sum(t0)


def test_dot_of_an_outer_product_in_a_loop():
    a = np.array([0.5, -1.0, 2.0])
    expected = np.dot(a, a) + 2 * np.sum(a) * a    # f = sum(a) * (a . a)
    np.testing.assert_allclose(sg.grad(outer_dot)(a), expected)
    np.testing.assert_allclose(sg.grad(outer_dot_in_a_loop)(a), expected)


def dot_in_a_loop_then_early_return(a, b):
    for i in range(1):
        m0 = np.outer(a, a)
        t2 = np.dot(m0, a)
    if b < 0.5:
        return b
    return np.sum(t2)


def test_dot_in_a_loop_then_an_early_return():
    a = np.full(3, -1.5)
    assert sg.grad(dot_in_a_loop_then_early_return, wrt=(0, 1))(a, -1.5) == (
        pytest.approx(np.zeros(3)), 1.0)
    no_findings(dot_in_a_loop_then_early_return, a, -1.5)


def test_dot_of_an_outer_product():
    check_grads(outer_dot, np.array([0.5, -1.0, 2.0]))


# ------------------------------------------------------------------------------------------------
# False refusal (since main's 23cdd3a, found by the default random programs): an element of a 1-D
# array is a float copy, so ``t += e`` changes nothing another name can see.

def add_to_an_element(a, b):
    t = a[0]
    t += b
    return t * np.sum(a)


def add_to_an_element_in_a_loop(a):
    for e in a:
        t = a[0]
        t += 0.5
    return t


def test_augmented_assignment_to_an_element_read_from_an_array():
    a = np.array([0.5, -1.0, 2.0])
    no_findings(add_to_an_element, a, 0.3)
    no_findings(add_to_an_element_in_a_loop, a)
    assert sg.grad(add_to_an_element, wrt=1)(a, 0.3) == pytest.approx(np.sum(a))


# ------------------------------------------------------------------------------------------------
# A list of arrays of different shapes passed to a helper (the layers of a network): the reverse
# modes crash with numpy's ValueError (an adjoint list turned into one array); jvp is right.

def sum_of_squares_of_list(ws):
    s = 0.0
    for w in ws:
        s = s + np.sum(w * w)
    return s


def ragged_pair(a, b):
    return sum_of_squares_of_list([a, b])


def product_of_list_sums(ws):
    return np.sum(ws[0]) * np.sum(ws[1])


def ragged_pair_indexed(a, b):
    return product_of_list_sums([a, b])


def test_a_list_of_arrays_of_different_shapes():
    a, b = np.array([0.5, -1.0]), np.array([2.0, 0.3, 1.0])
    no_findings(ragged_pair, a, b)
    no_findings(ragged_pair_indexed, a, b)
    gradients = sg.grad(ragged_pair, wrt=(0, 1))(a, b)
    np.testing.assert_allclose(gradients[0], 2 * a)
    np.testing.assert_allclose(gradients[1], 2 * b)


# ------------------------------------------------------------------------------------------------
# More found by the random programs after main's fixes (SRCGRAD_EXTRA_FEATURES=1, seed 3).

def pair_sum(p):
    u, v = p
    return u + 2.0 * v


def product_of_elements(c, b):
    return pair_product((c[0], b[2]))


def product_of_fancy_and_slice(b):
    return np.sum(pair_product([b[[0, 2, 1]], b[:]]))


def sum_of_scalar_and_vector(a):
    return np.sum(pair_sum((a[0], a)))


def test_a_tuple_of_elements_passed_to_a_helper():
    c, b = np.array([0.5, -1.0, 2.0]), np.array([0.3, 0.7, -0.2])
    gradients = sg.grad(product_of_elements, wrt=(0, 1))(c, b)
    np.testing.assert_allclose(gradients[0], [b[2], 0.0, 0.0])
    np.testing.assert_allclose(gradients[1], [0.0, 0.0, c[0]])
    no_findings(product_of_fancy_and_slice, c)


def test_a_tuple_of_a_float_and_an_array_passed_to_a_helper():
    a = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(sg.grad(sum_of_scalar_and_vector)(a), [5.0, 2.0, 2.0])


def nested_if_without_active_statements(a):
    if a > 0.1:
        if a > 1.0:
            y0 = 1.0  # noqa: F841
        elif a < 1.5:
            t3 = np.tanh(a)  # noqa: F841
    return a


def loop_over_branches_without_active_statements(a, c):
    for i in range(2):
        if a <= 0.1:
            t2 = c  # noqa: F841
        elif c < 1.0:
            t3 = c  # noqa: F841
    return a


def test_jvp_of_nested_branches_without_active_statements():
    assert sg.jvp(nested_if_without_active_statements, (-0.6,), (1.0,)) == (-0.6, 1.0)
    assert sg.jvp(loop_over_branches_without_active_statements, (-0.27, -1.04),
                  (1.0, 1.0)) == (-0.27, 1.0)


def list_made_in_an_outer_loop(a):
    for i in range(2):
        parts = []
        for j in range(2):
            parts.append(a[j] * a[i])
        total = np.sum(np.stack(parts))
    return total


def test_a_pullback_of_nested_list_loops_called_twice():
    a = np.array([0.5, -1.0, 2.0])
    out, pullback = sg.vjp(list_made_in_an_outer_loop)(a)
    expected = np.array([a[1], a[0] + 2 * a[1], 0.0])   # f = (a0 + a1) * a1
    np.testing.assert_allclose(pullback(1.0), expected)
    np.testing.assert_allclose(pullback(1.0), expected)


def add_to_a_float_alias(a):
    t = a
    t += 1.0
    return t * a


def test_augmented_assignment_to_a_float_alias():
    assert sg.grad(add_to_a_float_alias)(0.7) == pytest.approx(2 * 0.7 + 1.0)


# ------------------------------------------------------------------------------------------------
# Second order (fuzz_tally.py grammar --only hessian --order 2): of 150 default-grammar programs
# (seed 107, main at 10:58) 55 refused and 5 crashed; no silent wrong Hessian was found. The
# refusals name srcgrad's own generated code or runtime.py, not the user's line.

def cube_by_helper(x):
    return inner(x, x) * x


def sum_of_outer_dot(a, b):
    return np.sum(np.dot(np.outer(a, a), b))


def column_writes_in_a_loop(a, b, c):
    m0 = np.outer(b, c)
    for i in range(3):
        m0[i, 1] = m0[i, 1] * c[-1]
    return np.sum(m0) * a


def test_hessian_through_a_helper():
    right_or_refused(lambda: sg.hessian(cube_by_helper)(0.7), 6 * 0.7)


def test_hessian_of_a_matrix_vector_dot():
    a, b = np.array([0.5, -1.0, 2.0]), np.array([0.3, 0.7, -0.2])
    right_or_refused(lambda: sg.hessian(sum_of_outer_dot)(a, b), b[None, :] + b[:, None])


def test_grad_of_grad_after_element_writes_in_a_loop():
    b, c = np.array([0.5, -1.0, 2.0]), np.array([0.3, 0.7, -0.2])
    assert sg.grad(sg.grad(column_writes_in_a_loop, wrt=0), wrt=0)(0.3, b, c) == 0.0


# ------------------------------------------------------------------------------------------------
# The eager Tensor (fuzz_tally.py grammar --only eager --eager): a Tensor written into a NumPy
# array loses its tape without a word. (PyTorch refuses: numpy() of a Tensor that requires grad.)

def subtract_into_a_numpy_buffer(a):
    y0 = np.zeros(3)
    y0[-1] -= a
    return np.sum(y0) + a


def test_eager_tensor_written_into_a_numpy_array_warns_as_pytorch_does():
    # NumPy turns the Tensor into a float; PyTorch warns there, and so does srcgrad.
    a = sg.tensor(0.8, requires_grad=True)
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
        subtract_into_a_numpy_buffer(a)


# ------------------------------------------------------------------------------------------------
# False refusal (user-side programs): a name that was a view, rebound to a copy, is still refused
# element writes, even when the user follows the advice of the message (z = np.copy(...)).

def write_after_copying_a_transpose(x, s):
    z = x.T
    z = z.copy()
    z[0] = z[0] * s
    return np.sum(z * z)


def write_after_np_copy_of_a_transpose(x, s):
    z = x.T
    z = np.copy(z)
    z[0] = z[0] * s
    return np.sum(z * z)


def test_element_write_after_rebinding_a_view_to_a_copy():
    X = np.array([[0.5, -1.0], [2.0, 0.3]])
    no_findings(write_after_copying_a_transpose, X, 0.7)
    no_findings(write_after_np_copy_of_a_transpose, X, 0.7)


# Second order of user-side programs (fuzz_tally.py user --only hessian --order 2, 150 programs:
# 26 refusals that name srcgrad's generated code, 5 crashes = the x[None, :] class above).

def sum_of_squares_of_a_fancy_index(x):
    return np.sum(x[[0, 1, 1]] ** 2)


def square_root_by_newton_with_early_return(a):
    x = a
    for i in range(50):
        x_new = 0.5 * (x + a / x)
        if abs(x_new - x) < 1e-13:
            return x_new
        x = x_new
    return x


def test_hessian_through_a_fancy_index():
    right_or_refused(lambda: sg.hessian(sum_of_squares_of_a_fancy_index)(
        np.array([0.5, -1.0, 2.0])), np.diag([2.0, 4.0, 0.0]))


def test_hessian_of_newton_with_an_early_return():
    right_or_refused(lambda: sg.hessian(square_root_by_newton_with_early_return)(1.5),
                     -0.25 * 1.5 ** -1.5, rtol=1e-6)


def product_of_two_computed_values(a, b):
    return pair_product((a * 2.0, b * 3.0))


def test_a_tuple_of_computed_values_passed_to_a_helper():
    assert sg.grad(product_of_two_computed_values, wrt=(0, 1))(0.7, 0.5) == \
        pytest.approx((6 * 0.5, 6 * 0.7))
    assert sg.jvp(product_of_two_computed_values, (0.7, 0.5), (1.0, 0.0))[1] == \
        pytest.approx(6 * 0.5)


# ------------------------------------------------------------------------------------------------
# jvp: a buffer made by np.zeros inside a loop and written in a later loop (default grammar,
# fuzz_tally.py grammar --seed 41): its tangent stays the float 0.0 and is then indexed.

def buffer_made_in_a_loop_written_in_another(a):
    for i in range(2):
        y0 = np.zeros(3)
    for i in range(len(a)):
        y0[0] = a[i] + y0[1]
    return np.sum(y0)


def test_jvp_of_a_buffer_made_in_a_loop():
    a = np.array([0.5, -1.0, 2.0])
    assert sg.jvp(buffer_made_in_a_loop_written_in_another, (a,), (np.ones(3),)) == \
        pytest.approx((2.0, 1.0))
    no_findings(buffer_made_in_a_loop_written_in_another, a)


# Second order through a list comprehension over the rows of a matrix (user-side programs).

def rows_scaled_by_comprehension(X, s):
    z = np.array([row * s for row in X])
    return np.sum(z ** 2)


def test_grad_of_grad_through_a_comprehension():
    X = np.array([[0.5, -1.0], [2.0, 0.3]])
    second = sg.grad(sg.grad(rows_scaled_by_comprehension, wrt=1), wrt=1)(X, 0.7)
    assert second == pytest.approx(2 * np.sum(X ** 2), rel=1e-12)
    check_grads(rows_scaled_by_comprehension, X, 0.7, order=2)


# ------------------------------------------------------------------------------------------------
# jvp drops the copy in ``y0 = a * 1.0`` when a is a local (SRCGRAD_EXTRA_FEATURES=1, seed 72):
# the element write then changes a, and jvp returns a wrong value (the parameter case is fixed).

def write_into_a_copy_of_a_local(a):
    a = np.sin(a)
    y0 = a * 1.0
    y0[-1] = 5.0
    return np.sum(a)


def test_jvp_of_a_write_into_a_copy_of_a_local():
    a = np.array([-1.29, 0.32, 1.44])
    value, tangent = sg.jvp(write_into_a_copy_of_a_local, (a,), (np.ones(3),))
    assert value == pytest.approx(np.sum(np.sin(a)))
    assert tangent == pytest.approx(np.sum(np.cos(a)))


# ------------------------------------------------------------------------------------------------
# jvp writes into the caller's array through a copy whose result is dead (found by the default
# random-program run once slice writes were added to it, which changed its programs).

def dead_write_into_a_copy(c, a):
    y0 = a * 1.0
    y0[0] = 0.5
    return c * 2.0


def dead_write_into_a_matrix_copy_in_a_branch(c, m):
    if c < 0.5:
        m0 = m * 1.0
        m0[0, 0] = 0.5
    return c


def test_jvp_of_a_dead_write_into_a_copy():
    a, m = np.ones(3), np.full((3, 3), -1.5)
    assert sg.jvp(dead_write_into_a_copy, (-1.5, a), (1.0, np.ones(3))) == (-3.0, 2.0)
    np.testing.assert_array_equal(a, np.ones(3))
    assert sg.jvp(dead_write_into_a_matrix_copy_in_a_branch, (-1.5, m),
                  (1.0, np.ones((3, 3)))) == (-1.5, 1.0)
    np.testing.assert_array_equal(m, np.full((3, 3), -1.5))


# ------------------------------------------------------------------------------------------------
# Found in the last runs on merged main (fuzz_tally.py grammar, seeds 102-104).

def enumerate_an_array_the_loop_rebinds(a):
    for i, e in enumerate(a):
        a = a + a
    return e


def test_enumerate_over_an_array_the_loop_rebinds():
    a = np.array([-1.09, -0.51, -0.78])
    assert enumerate_an_array_the_loop_rebinds(a.copy()) == -0.78
    no_findings(enumerate_an_array_the_loop_rebinds, a)


def reversed_range_with_break(a):
    t = 0.0
    for j in reversed(range(3)):
        t = t + a * j
        if t > 1.0:
            break
    return t


def test_reversed_range_with_a_break():
    assert sg.grad(reversed_range_with_break)(0.7) == pytest.approx(2.0)
    no_findings(reversed_range_with_break, 0.7)


def constant_buffer(a):
    y0 = np.zeros(3)
    y0[-1] = 2.0
    return np.sum(y0)


def test_value_and_grad_of_a_constant_buffer():
    assert sg.value_and_grad(constant_buffer)(0.7) == (2.0, 0.0)


def row_write_in_a_loop(a, s):
    for k in range(2):
        m0 = np.outer(a, a)
        m0[0, :] = m0[0, :] * s
    return np.sum(m0 * m0)


def row_writes_in_a_loop_again(a, s):
    t = 0.0
    for k in range(3):
        m0 = np.outer(a, a) * s
        m0[0, :] = m0[1, :] * m0[0, :]
        m0[:, 1] = np.tanh(m0[:, 2]) * s
        t = t + np.sum(m0 * m0)
    return t


def test_hessian_of_a_row_write_in_a_loop():
    # The generated gradient rebinds m0 to the array each iteration made (m0 = stack.pop())
    # and puts back the row it overwrote: second order refused that write ("may share memory").
    a = np.array([0.5, -1.0, 2.0])
    # f = s^2 a0^2 sum(a^2) + (terms without s)
    expected = 2 * a[0] ** 2 * np.sum(a ** 2)
    assert sg.hessian(row_write_in_a_loop, wrt=1)(a, 0.7) == pytest.approx(expected)
    assert sg.grad(sg.grad(row_write_in_a_loop, wrt=1), wrt=1)(a, 0.7) == pytest.approx(expected)
    check_grads(row_writes_in_a_loop_again, a, 0.7, order=2)
    findings = derivative_findings(row_write_in_a_loop, a, 0.7, modes=("grad",), order=2,
                                   catch=True)
    assert not findings, "\n".join(map(str, findings))


# ------------------------------------------------------------------------------------------------
# v += b after v was rebound to a new array: no longer shares with what it was assigned from
# (generated gradients write dx = dresult; dx = dx + ...; dx += ...; second order refused them).

def update_after_rebinding(x):
    v = x * 2.0
    a = v
    v = v + 1.0
    v += x
    return np.sum(v * a)


def update_of_a_shared_array(x):
    v = x * 2.0
    a = v
    v += x
    return np.sum(v * a)


def test_in_place_update_after_rebinding_is_differentiated():
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(sg.grad(update_after_rebinding)(x), 2 * (3 * x + 1) + 6 * x)
    check_grads(update_after_rebinding, x, order=2)
    with pytest.raises(sg.UnsupportedSyntax, match="v shares with a, which is read afterwards"):
        sg.grad(update_of_a_shared_array)(x)


# ------------------------------------------------------------------------------------------------
# Second order, found by `fuzz_tally.py grammar --order 2`: the gradient's own code read a loop
# variable's definition as an assignment (AttributeError), and forward mode wrote into the
# tangent of an element-written array that was a read-only broadcast view (ValueError).

def loop_variable_in_a_helper(u, v):
    for e0 in v:
        u = -v[-2] * u
    return e0 * u


def calls_it_then_writes_a_row(a, b, m):
    m0 = m * 1.0
    m0[0, :] = m0[0, :] * loop_variable_in_a_helper(a[2], b) + (-1.2)
    return np.sum(m0 * m0)


def writes_into_a_copy_in_a_loop(a, b):
    y0 = b.copy()
    for e0 in b:
        y0[-1] = a
    return (np.sum(y0) + e0 + a) * np.sum(b * b)


def test_second_order_of_generated_code_with_loop_variables_and_element_writes():
    a, b = np.array([0.18, -1.31, -1.26]), np.array([1.28, 0.13, 0.6])
    check_grads(calls_it_then_writes_a_row, a, b, np.eye(3) + 0.5, wrt=(0, 1), order=2)
    check_grads(writes_into_a_copy_in_a_loop, -1.38, np.array([0.47, 0.35, -0.02]), order=2)


# ------------------------------------------------------------------------------------------------
# Silent wrong answers found by `fuzz_tally.py grammar --seed 5` at the end of session 4:
# a folded negative constant raised to a power was written `-0.7 ** 2` (read -(0.7 ** 2)), and
# sign folding read an adjoint in place of its negation while a second name changed it in place.

def negative_constant_to_a_power(x):
    return x * (-0.7) ** 2 + (-2.0) ** 3 * x - (-x) ** 2


def rescales_by_its_own_last_element(a):
    a = a - a[-1] * a
    return np.sum(np.cos(a[[0, 0]]))


def test_negative_constant_raised_to_a_power():
    assert sg.grad(negative_constant_to_a_power)(1.0) == pytest.approx(0.49 - 8.0 - 2.0)
    assert sg.jvp(negative_constant_to_a_power, (1.0,), (1.0,))[1] == pytest.approx(-9.51)
    check_grads(negative_constant_to_a_power, 0.3, order=2)


def test_sign_folding_never_reads_an_adjoint_another_name_changes():
    a = np.array([-1.44, -0.05, 1.18])
    check_grads(rescales_by_its_own_last_element, a, order=2)


# ------------------------------------------------------------------------------------------------
# Found by hand-written real programs in session 5: a name unpacked from a loop's item
# (`for a, b in pairs`: `a, b = pairs[i]` after ANF) was recomputed in the adjoint as
# `a = pairs[i]`, the whole item (7.32 for -0.049, and a crash for a list of (W, b) layers).

def sums_over_unpacked_pairs(x, pairs):
    s = 0.0
    for a, b in pairs:
        s = s + np.sin(x * a) * b
    return s


def runs_layers_of_weight_and_bias(layers, x):
    h = x
    for W, b in layers:
        h = np.tanh(h @ W + b)
    return np.sum(h ** 2)


def test_names_unpacked_from_a_loop_item_are_not_recomputed_as_the_item():
    pairs = np.array([[0.5, 2.0], [1.5, -1.0], [0.3, 0.7]])
    expected = sum(np.cos(0.4 * a) * a * b for a, b in pairs)
    assert sg.grad(sums_over_unpacked_pairs)(0.4, pairs) == pytest.approx(expected)
    check_grads(sums_over_unpacked_pairs, 0.4, pairs, wrt=(0, 1), order=2)
    rng = np.random.default_rng(0)
    layers = [(rng.normal(size=(3, 4)), rng.normal(size=4)),
              (rng.normal(size=(4, 2)), rng.normal(size=2))]
    check_grads(runs_layers_of_weight_and_bias, layers, rng.normal(size=(5, 3)), wrt=1,
                order=2, eager=False)


# Found by `fuzz_tally.py grammar --seed 51 --order 2` in session 5, older than it: a loop
# variable rebound in the body from a differentiated value (`for e in b: e = e * a[1]`, b not
# differentiated) carried its derivative from one iteration into the next, in both modes
# (0.545 for -0.19), though each iteration binds e afresh.

def scales_its_loop_variable(a, b):
    for e in b:
        e *= a[1]
    return e


def rebinds_its_loop_variable_and_reads_it_later(a, b):
    total = 0.0
    for e in b:
        e = np.tanh(e * a[0]) + a[2]
        total = total + e * e
    return total + e


def test_a_loop_variable_rebound_in_the_body_starts_afresh_each_iteration():
    a, b = np.array([-0.62, 1.07, 0.95]), np.array([1.38, -0.79, -0.19])
    np.testing.assert_allclose(sg.grad(scales_its_loop_variable)(a, b), [0.0, b[-1], 0.0])
    tangent = sg.jvp(scales_its_loop_variable, wrt=0)
    assert tangent.generated.function(a, b, np.array([0.0, 1.0, 0.0]))[1] == pytest.approx(b[-1])
    check_grads(scales_its_loop_variable, a, b, wrt=0, order=2)
    check_grads(rebinds_its_loop_variable_and_reads_it_later, a, b, wrt=0, order=2)


# ------------------------------------------------------------------------------------------------
# Second order where an array exists on only some paths (`fuzz_tally.py grammar --seed 1
# --order 2`): the tangent of an array the second sweep writes into (`dm[i, 2] = ...`) was made
# as the 0.0 standing in for "not bound yet", because the array is bound only under the `else`
# of an early return (or under `if c > 0.5`) and the adjoint's `if not branch:` (the same test
# again) was not known to run only there; and before a loop, where it may truly be unbound.
# TypeError: 'float' object does not support item assignment, in generated code.

def early_return_then_writes_in_a_loop(a, b, c):
    if c > 3.0:
        return np.sin(c)
    s = c * c
    c = b  # c is saved for the adjoint: the tape has tangents in the second sweep
    m = np.outer(a, a)
    for i in range(3):
        m[i, 2] = m[i, 2] * np.tanh(c)
    return np.sum(m) * b + s * s


def bound_under_a_test_written_under_it_again(a, c):
    if c > 0.5:
        m = np.outer(a, a)
    t = np.sum(a)
    if c > 0.5:
        for i in range(3):
            m[i, 1] = m[i, 1] * c
        t = t + np.sum(m * m)
    return t * c


def bound_under_a_test_written_in_a_loop(a, c):
    if c > 0.5:
        m = np.outer(a, a)
    for i in range(2):
        if c > 0.5:
            m[i, 1] = m[i, 1] * c
    if c > 0.5:
        return np.sum(m * m) * c
    return c


def test_second_order_where_an_array_is_bound_on_some_paths():
    a = np.array([1.48, 0.09, 0.04])
    # f = (terms without c) + c^4 where c <= 3
    f = early_return_then_writes_in_a_loop
    assert sg.hessian(f, wrt=2)(a, -0.41, 0.65) == pytest.approx(12 * 0.65 ** 2)
    assert sg.grad(sg.grad(f, wrt=2), wrt=2)(a, -0.41, 0.65) == pytest.approx(12 * 0.65 ** 2)
    assert sg.hvp(f, wrt=2)(a, -0.41, 0.65, 2.0) == pytest.approx(24 * 0.65 ** 2)
    check_grads(f, a, -0.41, 0.65, order=2)
    check_grads(f, a, -0.41, 3.5, order=2)
    for f in (bound_under_a_test_written_under_it_again, bound_under_a_test_written_in_a_loop):
        check_grads(f, a, 0.65, order=2)
        check_grads(f, a, 0.25, order=2)


# ------------------------------------------------------------------------------------------------
# A write into an array while another name bound to it (or to a view of it) is read afterwards:
# the plain function sees the write through both names, the derivative through one only.
# Silent wrong gradients (3.0 for 6.0, 0.0 for 3.0); now refused at the write, naming the alias.

def write_seen_through_another_name(x):
    m = np.zeros(3)
    t = m
    m[0] = x * x
    return np.sum(t) + np.sum(m)


def write_seen_through_a_view(x):
    m = np.zeros(3)
    t = m[0:2]
    m[0] = x * x
    return np.sum(t)


def write_seen_through_a_name_from_the_last_iteration(x):
    m = np.zeros(3)
    s = 0.0
    for i in range(3):
        m[i] = x * i
        if i > 0:
            s = s + np.sum(t)
        t = m
    return s


def reads_a_row_before_writing_the_next(x):
    m = np.zeros((3, 3))
    for i in range(3):
        row = m[i - 1, :]  # a view, read before the write and bound again before the next
        m[i, :] = row * x + x
    t = m
    t = t * 2.0  # bound again: no longer m
    m[0, 0] = x
    return np.sum(m) + np.sum(t)


def test_a_write_seen_through_another_name_is_refused():
    for f in (write_seen_through_another_name, write_seen_through_a_view,
              write_seen_through_a_name_from_the_last_iteration):
        with pytest.raises(sg.SrcgradError, match=f"{THIS_FILE}.*write into m while t shares"):
            sg.grad(f)(1.5)


def saves_a_view_of_an_array_it_writes(x):
    m = np.zeros((3, 3))
    for i in range(3):
        row = m[i - 1, :]
        m[i, :] = row * x + x
    return np.sum(m)


def test_names_that_no_longer_share_an_array_are_fine():
    check_grads(reads_a_row_before_writing_the_next, 1.5, order=2)


def test_a_pullback_keeps_saved_views_of_what_it_restores():
    # The vjp saves the view row = m[i - 1, :] and restores m's rows as it goes back; the
    # pullback worked on copies of both (runtime.own_copies), so row no longer saw m put back:
    # 148.78 for 47.25. f = x + (x^2 + x) + (x^3 + x^2 + x) on each of the 3 columns.
    x = 1.5
    expected = 3 * (3 * x ** 2 + 4 * x + 3)
    value, pullback = sg.vjp(saves_a_view_of_an_array_it_writes)(x)
    assert pullback(1.0) == pytest.approx(expected)
    assert pullback(1.0) == pytest.approx(expected)
    check_grads(saves_a_view_of_an_array_it_writes, x, order=2)


# ------------------------------------------------------------------------------------------------
# Second order of generated code with its own idioms (`fuzz_tally.py grammar --seed 1 --order 2`):
# - a loop left early inside a loop: the adjoint runs `for i in reversed(range(3)[:iterations])`
#   with the count popped off the tape; the count counted as differentiable (a slice bound), so
#   hessian refused `reversed` ("no derivative rule"), and grad(grad) saved the iterator the
#   loop used up ("'range_iterator' object is not reversible");
# - `da_3 = da_4` then `da_3[:] += ...` (an adjoint taking over its operand's array): refused as
#   a write into an array that may share memory, in code srcgrad made itself.

def returns_from_a_loop_in_a_loop(a, b):
    t0 = b * b
    n0 = 0
    while n0 < 3:
        n0 = n0 + 1
        for i in range(3):
            if t0 > 5.0:
                return a * (0.5 * i)
            t0 = t0 * 1.5
    return t0 + a


def cancels_itself_through_a_slice(a):
    a = a[:]
    a = np.tanh(a) + a
    a = a - a[:]
    a = np.arctan(a) - a[::-1]
    return np.mean(np.sin(a)) + np.sum(np.sin(a[:]) * a)


def test_second_order_of_generated_loops_and_adjoints():
    f = returns_from_a_loop_in_a_loop
    # b = 0.3 runs all 9 steps: f = 1.5^9 b^2 + a
    assert sg.hessian(f, wrt=1)(-1.15, 0.3) == pytest.approx(2 * 1.5 ** 9)
    assert sg.grad(sg.grad(f, wrt=1), wrt=1)(-1.15, 0.3) == pytest.approx(2 * 1.5 ** 9)
    check_grads(f, -1.15, 0.3, order=2)
    check_grads(f, -1.15, -0.76, order=2)  # returns from inside the loops
    check_grads(cancels_itself_through_a_slice, np.array([0.76, -0.91, -0.92]), order=2)


# - `for j in range(len(a))` with `a` rebound in the loop: the range was kept on the tape and
#   came off it as a differentiable value (hessian: "reversed" has no rule; "an index computed
#   from a differentiated value" for `for e in <array>`); its integer bound is kept instead;
# - `da += ...` in a loop after `da_plus_a = da`: refused in code srcgrad made ("changes in
#   place the array da shares with da_plus_a"), naming the generated file. Code differentiated
#   again adds into a new array.

def loops_over_the_length_of_what_it_rebinds(a, b, c):
    t0 = b[:-1] * c[1:]
    for i in range(a.shape[0]):
        for j in range(len(a)):
            a = np.tanh(-a)
            a = a + a - (t0[-2] + a)
    return np.sum(t0) + np.sum(a * a) - np.mean(np.sin(b))


def loops_over_an_array_it_computes(a, b):
    s = 0.0
    for i in range(2):
        for e0 in np.tanh(b) * b:
            s = s + e0 * a
        b = b * 0.9
    return s * s


def test_second_order_of_kept_loop_bounds_and_accumulated_adjoints():
    a, b, c = np.array([0.62, -0.2, 0.07]), np.array([-0.1, -1.43, -0.66]), \
        np.array([0.05, -0.11, 0.43])
    check_grads(loops_over_the_length_of_what_it_rebinds, a, b, c, order=2)
    check_grads(loops_over_an_array_it_computes, -1.03, np.array([1.24, -1.03, -0.44]), order=2)


# `for row in reversed(X)` with X differentiated: refused ("reversed has no derivative rule"),
# also where generated code loops backwards over rows it took off its tape (hessian of a loop
# over an array computed from another argument). It runs over X[::-1], which indexing
# differentiates.

def loops_over_reversed_rows(x):
    s, w = 0.0, 1.0
    for row in reversed(x):
        s = s * 0.5 + np.sum(np.sin(row)) * w
        w = w + 1.0
    return s


def loops_over_a_reversed_list(x):
    items = [x * 2.0, np.sin(x), x * x]
    s, k = 0.0, 1.0
    for item in reversed(items):
        s = s * 0.5 + np.sum(item) * k
        k = k + 1.0
    return s


def test_loops_over_reversed_sequences():
    x = np.array([[0.3, -1.2], [0.8, 0.1], [-0.5, 2.0]])
    # rows taken last to first: s = sum sin(x2) * 0.25 + sum sin(x1) * 2 * 0.5 + sum sin(x0) * 3
    expected = np.cos(x) * np.array([[3.0], [1.0], [0.25]])
    np.testing.assert_allclose(sg.grad(loops_over_reversed_rows)(x), expected)
    check_grads(loops_over_reversed_rows, x, order=2)
    check_grads(loops_over_a_reversed_list, x, order=2)


# A loop variable the body rebinds from a differentiated value, over an array not
# differentiated (`fuzz_tally.py grammar --seed 6 --extra --order 2` found it as a wrong
# Hessian): the adjoint of e carried from one iteration into the one before, although each
# iteration binds e afresh from the array: sg.grad gave -2.15 for -1.075 (n times the truth).

def rebinds_its_loop_variable(a, b):
    for e in np.arctan(b):
        e = e - a
    return e * np.tanh(e)


def updates_its_loop_variable(a, b):
    for e in np.arctan(b[[1, 2]]):
        e -= a
    return e * np.tanh(e)


def test_a_loop_variable_rebound_in_the_body_starts_each_iteration_afresh():
    a, b = -1.35, np.array([1.01, -0.8, 1.28])
    e = np.arctan(b[-1]) - a
    t = np.tanh(e)
    for f in (rebinds_its_loop_variable, updates_its_loop_variable):
        assert sg.grad(f)(a, b) == pytest.approx(-(t + e * (1 - t * t)))
        assert sg.jvp(f, (a, b), (1.0, np.zeros(3)))[1] == pytest.approx(-(t + e * (1 - t * t)))
        assert sg.hessian(f)(a, b) == pytest.approx(2 * (1 - t * t) * (1 - e * t))
        check_grads(f, a, b, wrt=0, order=2)


# A list first bound inside a loop whose values the adjoint reads after it: the second sweep
# made its tangent list before the loop with zeros_like_each(l0), where l0 did not exist yet
# (UnboundLocalError); grad(grad) then met the 0.0 standing in for an array's adjoint in
# unbroadcast's own adjoint (np.broadcast_to of an array to a number's shape: ValueError).

def builds_a_list_in_each_iteration(a, b, c):
    for i in range(2):
        items = []
        for j in range(1):
            items.append(np.where(c[[1, 2, 1]] > 1.0, 1.0, -1.0) * c)
            c = c - np.exp(-b * b)
        t0 = sum(items)
    return np.mean(np.sin(t0)) - a + b


def test_second_order_of_a_list_bound_in_a_loop():
    check_grads(builds_a_list_in_each_iteration, 0.06, 0.1, np.array([1.12, -0.05, 1.43]),
                order=2)


# An internal error `fuzz_tally.py grammar --seed 62 --order 2` found, older than session 5:
# sign folding met an element write reading a negated value (in the adjoint of m[1, 2] = -t)
# and asked the write's target for a name.

def writes_a_negated_constant_into_an_element(a):
    t = -0.7
    m = np.outer(a, a)
    m[1, 2] = -t
    return m[1, 1] - t


def test_sign_folding_through_an_element_write():
    a = np.array([0.32, -1.14, -1.14])
    np.testing.assert_allclose(sg.grad(writes_a_negated_constant_into_an_element)(a),
                               [0.0, 2 * a[1], 0.0])
    check_grads(writes_a_negated_constant_into_an_element, a, order=2)


# --- an element write whose index reads the array it writes ---------------------------------------
# y[y < 0] = 0.0 selects its elements before the write. The derivative puts the overwritten
# elements back after it, and used to select them again from the changed array: a crash
# where the count differed, and other elements where it did not. The index is now computed
# once, before the write.

def clamp_then_double(x):
    y = x.copy()
    y[y < 0] = 0.0
    y[0] *= 2
    return np.sum(y ** 2)


def shrink_in_a_loop(x):
    y = x * 1.0
    for k in range(3):
        y[y > 0.5] = y[y > 0.5] * 0.5 + 0.1
        y[np.argmax(y)] += x[k]
    return np.sum(y ** 3)


def subtract_where_large(x):
    y = x ** 2
    y[y > 1.0] -= np.sqrt(y[y > 1.0])
    return np.sum(y * x)


MASKED = np.array([0.55, -1.1, 2.0, -0.3, 0.7, -2.0, 1.3])


def test_index_that_reads_the_written_array_is_taken_before_the_write():
    closed = np.where(MASKED > 0, 2 * MASKED, 0.0)
    closed[0] = 8 * MASKED[0]  # y[0] = 2 x[0], squared
    np.testing.assert_allclose(sg.grad(clamp_then_double)(MASKED), closed)
    check_grads(clamp_then_double, MASKED, wrt=(0,), order=2, eager=True)
    check_grads(subtract_where_large, MASKED, wrt=(0,), order=2, eager=True)
    check_grads(shrink_in_a_loop, MASKED, wrt=(0,), order=1, eager=True)
    assert "y_where = y < 0" in sg.source(sg.grad(clamp_then_double))


# A list bound afresh in each iteration of a loop, appended to, and read after the loop: the
# adjoint of `items = []` left the 0.0 that stands in for an adjoint whose list does not exist
# yet, and the iteration before (the next one in reverse) popped from it ('float' object has
# no attribute 'pop', in grad itself). Its adjoint is now zeros of the earlier list's length.

def rebuilds_a_list_in_a_loop(a, b):
    for i in range(2):
        items = []
        items.append(b * b)
        b = b * a
    return sum(items)


def test_a_list_rebuilt_in_each_iteration():
    a, b = 0.23, 1.5
    # the last list holds (a b)^2
    assert sg.grad(rebuilds_a_list_in_a_loop, wrt=(0, 1))(a, b) == pytest.approx(
        (2 * a * b * b, 2 * a * a * b))
    assert sg.hessian(rebuilds_a_list_in_a_loop)(a, b) == pytest.approx(2 * b * b)
    assert sg.grad(sg.grad(rebuilds_a_list_in_a_loop, wrt=1), wrt=1)(a, b) == \
        pytest.approx(2 * a * a)
    check_grads(rebuilds_a_list_in_a_loop, a, b, order=2)


# The same list summed inside the loop under a branch (`fuzz_tally.py grammar --seed 62 --extra
# --order 2`): grad(grad) gave the adjoint of the list popped from the first sweep's stack as
# np.zeros_like(items), an array, and popped from it ('numpy.ndarray' object has no attribute
# 'pop'). A list's zero adjoint is a list of zeros.

def sums_a_list_rebuilt_in_a_loop(a, b):
    if a > 0:
        for i in range(2):
            items = []
            items.append(np.dot(b, b))
            b = b + a
            t = sum(items)
    else:
        t = a
    return t


def test_second_order_of_a_list_rebuilt_and_summed_in_a_loop():
    a, b = 0.23, np.array([-1.3, -0.53, 1.32])
    # t = |b + a|^2: d/da = 2 sum(b + a), d2/da2 = 2 * 3
    assert sg.grad(sums_a_list_rebuilt_in_a_loop)(a, b) == pytest.approx(2 * np.sum(b + a))
    assert sg.grad(sg.grad(sums_a_list_rebuilt_in_a_loop))(a, b) == pytest.approx(6.0)
    check_grads(sums_a_list_rebuilt_in_a_loop, a, b, order=2)


# Forward mode dropped the tangent of a name read only inside one branch of an `if` in a loop
# (`fuzz_tally.py grammar --seed 62 --features list_append --order 2`, as a Hessian of 0.0):
# it took the name for a temporary of that branch, though the next iteration's branch reads
# it. sg.jvp gave 0.0 for the swap below, and sg.hessian 0.0 for the one after it.

def swaps_through_a_branch_in_a_loop(a):
    c = 1.19
    for i in range(2):
        if c > 0.1:
            t = a
            a = c
            c = t
    return a * a


def swaps_pairs_in_a_loop(a, b):
    items = []
    for i in range(2):
        items.append(a)
        if b > 0.1:
            a, b = b, a
    return items[-1] * a * a


def test_forward_mode_of_a_swap_through_a_branch_in_a_loop():
    a = 0.92
    assert sg.jvp(swaps_through_a_branch_in_a_loop)(a, 1.0) == pytest.approx((a * a, 2 * a))
    check_grads(swaps_through_a_branch_in_a_loop, a, order=2)
    b = 1.19
    # two swaps: a, b as they came; the list's last item is b
    assert sg.hessian(swaps_pairs_in_a_loop)(a, b) == pytest.approx(2 * b)
    assert sg.hvp(swaps_pairs_in_a_loop)(a, b, 1.0) == pytest.approx(2 * b)
    check_grads(swaps_pairs_in_a_loop, a, b, order=2)


# grad(grad) of an axis reduction recomputed in each iteration of a loop (found with the new
# grammar features, seed 80): the reduction's adjoint before the loop's last iteration is the
# 0.0 standing in for an array, and expand_reduced's own adjoint reshaped a (3,) array to that
# number's shape (ValueError: cannot reshape array of size 3 into shape ()).

def reduces_an_outer_product_in_a_loop(a, b):
    for i in range(2):
        m = np.outer(a, a) * b
        t = np.sum(m, axis=0)
    return np.sum(t * t)


def test_second_order_of_an_axis_reduction_in_a_loop():
    a, b = np.array([-0.97, 0.24, 0.1]), 0.27
    # t = a sum(a) b: f = b^2 sum(a)^2 |a|^2, so d2f/db2 = 2 sum(a)^2 |a|^2
    expected = 2 * np.sum(a) ** 2 * np.dot(a, a)
    assert sg.grad(sg.grad(reduces_an_outer_product_in_a_loop, wrt=1), wrt=1)(a, b) == \
        pytest.approx(expected)
    assert sg.hessian(reduces_an_outer_product_in_a_loop, wrt=1)(a, b) == pytest.approx(expected)
    check_grads(reduces_an_outer_product_in_a_loop, a, b, order=2)


# A silent wrong gradient (found from a false refusal of grad(grad), seed 81 --extra --order
# 2): the cleanup that moves a single-use value into its reader moved `da = ... * t` past the
# adjoint's `m[0, 0] = stack.pop()`, which puts m's old elements back, where t = m[0, 0] is a
# view of m (m three-dimensional): da read the elements from before the write (3.0 for 4.5).
# A value now moves past no write into an array a name it reads may view.

def reads_a_view_of_a_written_array(a, b, m):
    m0 = m.copy()
    m0[0, 0] = m0[0, 0] * b
    t = m0[0, 0]
    return np.sum(t * a) - b


def test_a_view_read_after_the_adjoint_restores_its_array():
    a, b, m = 0.7, 1.5, np.arange(8.0).reshape(2, 2, 2) + 1.0
    da, db = sg.grad(reads_a_view_of_a_written_array, wrt=(0, 1))(a, b, m)
    assert da == pytest.approx(b * np.sum(m[0, 0]))   # 4.5, not 3.0
    assert db == pytest.approx(a * np.sum(m[0, 0]) - 1.0)
    check_grads(reads_a_view_of_a_written_array, a, b, m, wrt=(0, 1, 2), order=2)
    # with a matrix, t is a number: grad(grad) was refused (a write into m0 while t shares it)
    m2 = np.array([[0.08, -0.31, -0.21], [-0.26, 0.07, 0.79], [-0.69, 0.01, -0.15]])
    assert sg.grad(sg.grad(reads_a_view_of_a_written_array))(a, b, m2) == 0.0
    check_grads(reads_a_view_of_a_written_array, a, b, m2, order=2)


# A wrong Hessian (seed 84, list_append): forward mode over a gradient whose loop writes into
# an array it pushed on the tape. The gradient pushes the array, writes into it, and its
# adjoint puts the elements back before popping it; the tangent code pushed the tangent array,
# wrote into it in place, but put the elements back into a copy: the tangent popped later held
# the written values (H[0, 0] = 12 for 10). The tangent now goes on the tape as a copy.

def sums_squares_while_doubling_elements(a):
    y = a * 1.0
    s = 0.0
    for i in range(2):
        s = s + np.sum(y * y)
        y[i] *= 2.0
    return s


def test_forward_over_reverse_of_element_writes_into_a_pushed_array():
    a = np.array([0.89, 0.11, 0.38])
    # s = |a|^2 + (4 a0^2 + a1^2 + a2^2): H = diag(10, 4, 4)
    np.testing.assert_allclose(sg.hessian(sums_squares_while_doubling_elements)(a),
                               np.diag([10.0, 4.0, 4.0]))
    np.testing.assert_allclose(sg.hvp(sums_squares_while_doubling_elements)(a, np.ones(3)),
                               [10.0, 4.0, 4.0])
    check_grads(sums_squares_while_doubling_elements, a, order=2)


# A silent wrong gradient in first-order grad of default-grammar code (seed 88): the code
# specialized to the shapes folded `da_over = -da` into `neg_da_over = da`, the array of da,
# which the next line then changed in place (`da -= neg_da_over / t`) before the line after
# read neg_da_over again: 3.14 for 4.09. A negation folds only into a name nothing changes in
# place before its last reader.

def shrinks_then_doubles(a):
    a = a - a / (1.0 + a * a)
    t0 = a * 2.0
    for i in range(1):
        a = a * 2.0
    return np.sum(t0) + np.sum(a)


def test_a_folded_negation_of_an_adjoint_updated_in_place():
    a = np.array([1.05, 0.09, -1.03])
    expected = 4.0 * (1.0 - (1.0 - a * a) / (1.0 + a * a) ** 2)
    np.testing.assert_allclose(sg.grad(shrinks_then_doubles)(a), expected)
    np.testing.assert_allclose(sg.value_and_grad(shrinks_then_doubles)(a)[1], expected)
    check_grads(shrinks_then_doubles, a, order=2)


# A false refusal of grad(grad) (seeds 85 and 88, with the new `x[:, None]` feature): the
# gradient, specialized to its shapes, writes its reductions as methods (`dc = (...).sum(axis=0)`)
# and then writes into dc (`dc[:, None] = ...`); differentiated again, the write was refused
# ("a write into dc, which may share memory with another array"): a reduction method's result
# counted as maybe shared. Reductions make new arrays.

def sums_an_outer_product_by_rows(c):
    t = np.sum(c[:, None] * c, axis=1)
    return np.sum(t * t)


def test_second_order_through_a_broadcast_by_a_new_axis():
    c = np.array([-0.77, 0.77, -0.86])
    # t = c sum(c): f = sum(c)^2 |c|^2
    s, q = np.sum(c), np.dot(c, c)
    np.testing.assert_allclose(sg.grad(sums_an_outer_product_by_rows)(c), 2 * s * q + 2 * s * s * c)
    np.testing.assert_allclose(sg.hessian(sums_an_outer_product_by_rows)(c),
                               2 * q + 4 * s * (c[:, None] + c[None, :]) + 2 * s * s * np.eye(3))
    check_grads(sums_an_outer_product_by_rows, c, order=2)


# A stale value after a global was rebound (seed 89, the new `closure` feature): a nested
# function runs lifted out of its function, in a copy of the module's namespace made when it
# was lifted; SCALE = 3.0 set afterwards was not seen, by the value or by the derivative
# (sg.value_and_grad gave 1.0 where f gave 1.5). The lifted function now takes the numbers and
# arrays it reads from the module as arguments, read where it is called.

NESTED_SCALE = 2.0


def scales_with_a_nested_function(a):
    def scaled(z):
        return NESTED_SCALE * z * z
    t = scaled(1.0)
    return t * a + scaled(a)


def test_a_nested_function_reads_a_rebound_global():
    global NESTED_SCALE
    a = 0.5
    try:
        for scale in (2.0, 3.0):
            NESTED_SCALE = scale
            value, slope = sg.value_and_grad(scales_with_a_nested_function)(a)
            assert value == pytest.approx(scale * a + scale * a * a)
            assert slope == pytest.approx(scale + 2 * scale * a)
            assert sg.jvp(scales_with_a_nested_function)(a, 1.0)[1] == pytest.approx(slope)
            assert sg.hessian(scales_with_a_nested_function)(a) == pytest.approx(2 * scale)
            check_grads(scales_with_a_nested_function, a, order=2)
    finally:
        NESTED_SCALE = 2.0


# A false refusal of grad(grad) (seed 90): the gradient of `c = c[::-1]` in a loop ends its
# branch with `dc = dc_prev` (an array it made) and the other branch writes `dc[i] += 1.0`; the
# write was refused, differentiated again, as into an array that may be shared. A name bound
# to an array made here is made here too; a write through it is refused only where the other
# name is read after it (with that message).

def reverses_or_accumulates(a, c):
    for i in range(2):
        if a >= 1.0:
            c = c[::-1]
        else:
            a = a + c[i]
    return a - np.sum(c * c)


def writes_through_a_second_name(a):
    y = a * 2.0
    d = y
    d[0] = a[1] * a[2]
    return np.sum(d * d)


def reads_the_first_name_after(a):
    y = a * 2.0
    d = y
    d[0] = a[1] * a[2]
    return np.sum(d * y)


def test_writes_into_an_array_made_here_under_a_second_name():
    c = np.array([0.58, 0.59, -1.22])
    for a in (0.9, 1.1):
        check_grads(reverses_or_accumulates, a, c, order=2)
    assert sg.hessian(reverses_or_accumulates, wrt=1)(0.9, c) == pytest.approx(-2 * np.eye(3))
    a = np.array([0.3, -0.5, 0.8])
    # d = (a1 a2, 2 a1, 2 a2)
    np.testing.assert_allclose(sg.grad(writes_through_a_second_name)(a),
                               [0.0, 2 * a[1] * a[2] ** 2 + 8 * a[1],
                                2 * a[2] * a[1] ** 2 + 8 * a[2]])
    check_grads(writes_through_a_second_name, a, order=2)
    import inspect
    lines, first = inspect.getsourcelines(reads_the_first_name_after)
    write = first + next(k for k, line in enumerate(lines) if "d[0] =" in line)
    with pytest.raises(sg.UnsupportedSyntax,
                       match=rf"{THIS_FILE}, line {write}: .*a write into d while y shares"):
        sg.grad(reads_the_first_name_after)(a)
