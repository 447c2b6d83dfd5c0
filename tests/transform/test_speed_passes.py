"""The passes of issue 17 that shorten generated code (fold.py, invariance.py, batch.py): where
they apply, and that the gradients stay right where they do and where they must not."""
import numpy as np
import pytest

import srcgrad as sg
from checks import check_grad
from srcgrad.errors import InputTypeError

rng = np.random.default_rng(17)


# --- the seed of grad ------------------------------------------------------------------------

def squares(x):
    return np.sum(x * x)


def identity_of_a_number(x):
    return x * 1.0


def test_the_seed_is_folded_where_the_output_is_a_number():
    x = rng.normal(size=5)
    source = sg.source(sg.grad(squares), x)
    assert "scalar_seed" not in source and "dresult" not in source and "= np.sum" not in source
    check_grad(squares, x)


def test_the_value_of_value_and_grad_is_still_computed():
    x = rng.normal(size=5)
    value, gradient = sg.value_and_grad(squares)(x)
    assert value == pytest.approx(np.sum(x * x))
    np.testing.assert_allclose(gradient, 2 * x)


def test_the_seed_stays_where_it_only_meets_numbers():
    source = sg.source(sg.grad(identity_of_a_number), 2.0)
    assert "scalar_seed" in source  # its dtype is the output's: 1.0 would not say so
    assert sg.grad(identity_of_a_number)(np.float32(2.0)).dtype == np.float32


def test_a_non_scalar_output_is_still_refused():
    with pytest.raises(sg.NonScalarOutput):
        sg.grad(lambda x: x * 2.0)(np.ones(3))


# --- shift invariance ------------------------------------------------------------------------

def softmax_xent(logits, label):
    shifted = logits - np.max(logits)
    return np.log(np.sum(np.exp(shifted))) - shifted[label]


def softmax_pick(logits, label):
    e = np.exp(logits - np.max(logits))
    p = e / np.sum(e)
    return np.log(p[label])


def not_invariant(logits, label):
    shifted = logits - np.max(logits)
    return np.sum(shifted ** 2) + shifted[label]


def row_shift(logits, label):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(shifted), axis=1)) - shifted[:, label])


def max_read_elsewhere(logits, label):
    top = np.max(logits)
    shifted = logits - top
    return np.log(np.sum(np.exp(shifted))) - shifted[label] + top * top


@pytest.mark.parametrize("function", [softmax_xent, softmax_pick])
def test_the_max_of_a_shift_nothing_else_notices_gets_no_adjoint(function):
    logits = rng.normal(size=7)
    source = sg.source(sg.grad(function), logits, 3)
    assert "count_of" not in source and "==" not in source
    check_grad(function, logits, 3, wrt=0)


def test_ties_at_the_maximum_give_softmax_minus_onehot():
    logits = np.array([1.0, 3.0, 3.0, -2.0])
    gradient = sg.grad(softmax_xent)(logits, 0)
    expected = np.exp(logits) / np.sum(np.exp(logits))
    expected[0] -= 1.0
    np.testing.assert_allclose(gradient, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("function", [not_invariant, max_read_elsewhere])
def test_the_max_keeps_its_adjoint_where_the_output_notices_the_shift(function):
    logits = rng.normal(size=6)
    source = sg.source(sg.grad(function), logits, 2)
    assert "count_of" in source
    check_grad(function, logits, 2, wrt=0)


def test_a_shift_by_an_array_is_left_alone():
    logits = rng.normal(size=(3, 5))
    check_grad(row_shift, logits, 1, wrt=0)


# --- an adjoint started from its first dense part -------------------------------------------

def test_a_sparse_update_moves_after_the_dense_start():
    logits = rng.normal(size=6)
    source = sg.source(sg.grad(softmax_xent), logits, 2)
    assert "zeros_like" not in source
    assert source.index("np.exp") < source.index("dshifted[label] -= 1.0")  # a number: no add_at


# --- per-step products batched into one after the loop ----------------------------------------

def rnn(W, U, x, h0):
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(h @ W + x[t] @ U)
    return np.sum(h * h)


def vector_rnn(W, x, h0):
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t])
    return np.sum(h)


def euler(a, b, u, steps):
    for _ in range(steps):
        u = u + 0.1 * (a * u - b * u * u)
    return np.sum(u)


def newton(M, e, tol):
    E = M
    delta = 1.0
    while delta > tol:
        step = (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
        E = E - step
        delta = np.max(np.abs(step))
    return np.sum(E * E)


def writes_elements(W, x):
    h = np.zeros((x.shape[0] + 1, W.shape[1]))
    for t in range(x.shape[0]):
        h[t + 1] = np.tanh(x[t] @ W + h[t])
    return np.sum(h ** 2)


def rnn_arguments(steps=5):
    return (rng.normal(size=(4, 4)) / 2, rng.normal(size=(3, 4)) / 2,
            rng.normal(size=(steps, 2, 3)), rng.normal(size=(2, 4)))


def test_the_weight_gradients_of_an_rnn_are_one_product_each():
    args = rnn_arguments()
    source = sg.source(sg.grad(rnn, wrt=(0, 1)), *args)
    assert "h_steps.append(h)" in source and "h_steps = np.concatenate(h_steps)" in source
    assert "d_W +=" not in source  # the product after the loop starts d_W
    check_grad(rnn, *args, wrt=(0, 1))


def test_a_loop_that_runs_zero_times_gives_zeros():
    args = rnn_arguments(steps=0)
    d_W, d_U = sg.grad(rnn, wrt=(0, 1))(*args)
    assert not d_W.any() and not d_U.any()


def test_outer_products_of_vectors_are_stacked():
    W, x, h0 = rng.normal(size=(4, 4)) / 2, rng.normal(size=(6, 4)), rng.normal(size=4)
    source = sg.source(sg.grad(vector_rnn, wrt=(0, 2)), W, x, h0)
    assert "np.stack(" in source and "np.outer" not in source
    check_grad(vector_rnn, W, x, h0, wrt=(0, 2))


def test_dots_of_short_vectors_are_one_dot_under_a_guard():
    u = rng.uniform(0.5, 1.0, size=3)
    source = sg.source(sg.grad(euler, wrt=(0, 1)), 0.3, 0.2, u, 20)
    assert "_steps.append(" in source and "if " in source  # steps may be 0
    check_grad(euler, 0.3, 0.2, u, 20, wrt=(0, 1))
    np.testing.assert_allclose(sg.grad(euler, wrt=(0, 1))(0.3, 0.2, u, 0), (0.0, 0.0))


def test_long_vectors_keep_their_dot_per_step():
    u = rng.uniform(0.5, 1.0, size=1000)
    source = sg.source(sg.grad(euler, wrt=(0, 1)), 0.3, 0.2, u, 3)
    assert "_steps" not in source


def test_a_while_loop_batches_under_a_guard():
    M = rng.uniform(0.1, 3.0, size=4)
    source = sg.source(sg.grad(newton, wrt=(0, 1)), M, 0.3, 1e-10)
    assert "_steps.append(" in source
    check_grad(newton, M, 0.3, 1e-10, wrt=(0, 1))
    np.testing.assert_allclose(sg.grad(newton, wrt=1)(M, 0.3, 1e6), 0.0)  # no iteration


def test_a_loop_with_element_writes_is_left_alone():
    W, x = rng.normal(size=(3, 4)) / 2, rng.normal(size=(5, 3))
    source = sg.source(sg.grad(writes_elements), W, x)
    assert "_steps" not in source
    check_grad(writes_elements, W, x, wrt=0)


def test_batched_products_run_on_dask():
    da = pytest.importorskip("dask.array")
    args = rnn_arguments()
    expected = sg.grad(rnn, wrt=(0, 1))(*args)
    lazy = [da.from_array(a, chunks=a.shape) for a in args]
    got = sg.grad(rnn, wrt=(0, 1))(*lazy)
    assert "np.concatenate" in sg.source(sg.grad(rnn, wrt=(0, 1)), *lazy)
    for g, e in zip(got, expected):
        assert isinstance(g, da.Array)
        np.testing.assert_allclose(g.compute(), e, rtol=1e-12)


# --- the Derivative's quick lookup of arguments it has seen ---------------------------------

def test_a_seen_shape_with_another_dtype_is_still_checked():
    gradient = sg.grad(squares)
    np.testing.assert_allclose(gradient(np.ones(3)), 2.0)
    with pytest.raises(InputTypeError):
        gradient(np.ones(3, dtype=int))
    np.testing.assert_allclose(gradient(np.ones(3, dtype=np.float32)), 2.0)
    assert gradient(np.ones(3, dtype=np.float32)).dtype == np.float32


SCALE = 2.0


def scaled(x):
    return np.sum(x * SCALE)


def test_a_changed_global_is_seen_through_the_quick_lookup():
    global SCALE
    gradient = sg.grad(scaled)
    np.testing.assert_allclose(gradient(np.ones(3)), 2.0)
    SCALE = 3.0
    try:
        np.testing.assert_allclose(gradient(np.ones(3)), 3.0)
    finally:
        SCALE = 2.0


# --- signs carried into the sums that take them -----------------------------------------------

def test_negations_go_into_the_updates_that_read_them():
    M = rng.uniform(0.1, 3.0, size=300)  # dots too long to batch: they stay in the loop
    source = sg.source(sg.grad(newton, wrt=(0, 1)), M, 0.3, 1e-10)
    assert "= -" not in source and "neg_" in source
    check_grad(newton, M, 0.3, 1e-10, wrt=(0, 1))


def negation_read_twice(x, y):
    a = -np.sin(x)
    b = a * y
    c = a / y
    return np.sum(b * c)


def test_a_negation_that_would_be_made_twice_stays():
    x, y = rng.normal(size=4), rng.uniform(1.0, 2.0, size=4)
    check_grad(negation_read_twice, x, y)


def _times(a, b):
    return a * b


def squared_twice(a):
    a = a - (a ** 2 + (a + a))  # the adjoint of a is read negated, then a's adjoint updated
    for i in range(1):
        a = _times(a, a)
    return 0.5 + a[-3]


def test_a_negation_of_an_adjoint_updated_in_place_is_a_copy():
    """(found by the random programs) ``neg_g = dx`` then ``dx -= neg_g`` twice: the second
    read the first's result. The negated name copies an array that changes before its last
    read."""
    x = np.array([-1.5, -1.5, -1.5])
    np.testing.assert_allclose(sg.grad(squared_twice)(x), [-3.0, 0.0, 0.0])
    check_grad(squared_twice, rng.normal(size=4))


# --- a dead array scaled in place ---------------------------------------------------------------

def logsumexp(x):
    return np.log(np.sum(np.exp(x)))


def exp_read_later(x):
    e = np.exp(x)
    return np.log(np.sum(e)) + np.sum(e * x)


def exp_of_input_view(x):
    e = np.exp(x)
    view = e[:2]
    return np.log(np.sum(e)) + np.sum(view)


def test_a_dead_exp_is_scaled_in_place():
    x = rng.normal(size=6)
    before = x.copy()
    source = sg.source(sg.grad(logsumexp), x)
    assert "exp_x *= 1.0 / exp_x.sum()" in source
    check_grad(logsumexp, x)
    np.testing.assert_array_equal(x, before)
    assert sg.grad(logsumexp)(x.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("function", [exp_read_later, exp_of_input_view])
def test_an_array_read_later_or_viewed_is_not_scaled_in_place(function):
    x = rng.normal(size=5)
    assert "/=" not in sg.source(sg.grad(function), x) and \
        "*=" not in sg.source(sg.grad(function), x)
    check_grad(function, x)


def test_scaling_in_place_runs_on_dask():
    da = pytest.importorskip("dask.array")
    x = rng.normal(size=6)
    got = sg.grad(logsumexp)(da.from_array(x, chunks=3))
    assert isinstance(got, da.Array)
    np.testing.assert_allclose(got.compute(), sg.grad(logsumexp)(x), rtol=1e-12)


def test_large_steps_keep_their_product_per_step():
    W, U = rng.normal(size=(80, 80)) / 9, rng.normal(size=(3, 80)) / 2
    x, h0 = rng.normal(size=(3, 64, 3)), rng.normal(size=(64, 80))
    assert "_steps" not in sg.source(sg.grad(rnn, wrt=(0, 1)), W, U, x, h0)


def test_the_readme_shows_the_current_batched_rnn_gradient():
    import importlib.util
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("speed_workloads",
                                                  root / "benchmarks" / "workloads.py")
    workloads = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(workloads)
    workload = next(w for w in workloads.WORKLOADS if w.loss == "rnn")
    args = getattr(workloads, workload.make_args)(np.random.default_rng(0),
                                                   *workload.sizes[0].params)
    section = (root / "README.md").read_text().split("**Per-step products batched", 1)[1]
    shown = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert shown == sg.source(sg.grad(workloads.rnn, wrt=workload.wrt), *args)


# --- reductions of arrays as their methods ------------------------------------------------------

def reductions(x, s):
    return np.sum(x * x) + np.max(x, 0)[0] + np.mean(x, axis=1, keepdims=True)[0, 0] * np.sum(s)


def test_reductions_of_arrays_are_methods_and_of_numbers_functions():
    x, s = rng.normal(size=(3, 4)), 0.7
    source = sg.source(sg.grad(reductions), x, s)
    assert "x.max(axis=0)" in source and \
        "x.mean(axis=1, keepdims=True)" in source
    assert "np.sum(s)" in source  # a number has no method
    check_grad(reductions, x, s)


# --- loop-invariant projections hoisted ---------------------------------------------------------

def projected(W, U, x, h0):
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(h @ W + x[t] @ U.T)
    return np.sum(h * h)


def projected_few_rows(W, U, x, h0):
    h = h0
    for t in range(2):
        h = np.tanh(h @ W + x[t] @ U)
    return np.sum(h * h)


def projected_rebound(W, U, x, h0):
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(h @ W + x[t] @ U)
        x = x * 0.5
    return np.sum(h * h)


@pytest.mark.parametrize("batch", [(), (3,)])
def test_input_projections_are_one_product_before_the_loop(batch):
    W, U = rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(4, 5)) * 0.5
    x, h0 = rng.normal(size=(6,) + batch + (5,)), rng.normal(size=batch + (4,))
    source = sg.source(sg.grad(projected, wrt=(0, 1, 2, 3)), W, U, x, h0)
    assert "x_at_U_T = " in source and "x_at_U_T[t]" in source, source
    check_grad(projected, W, U, x, h0, wrt=(0, 1, 2, 3))


def test_projections_stay_in_the_loop_where_the_rows_change_or_few_are_read():
    W, U = rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(5, 4)) * 0.5
    x, h0 = rng.normal(size=(6, 3, 5)), rng.normal(size=(3, 4))
    for function in (projected_few_rows, projected_rebound):
        source = sg.source(sg.grad(function, wrt=(0, 1, 2)), W, U, x, h0)
        assert "x_at_U" not in source, source
        check_grad(function, W, U, x, h0, wrt=(0, 1, 2))


# --- saved values read again instead of computed again ------------------------------------------

def fixed_newton(M, e):
    E = M
    for _ in range(6):
        E = E - (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
    return np.sum(E * E)


def fixed_newton_with_writes(M, e):
    E = M
    out = np.zeros(M.shape[0] + 1)
    for k in range(4):
        E = E - (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
        out[k] = E[0]
    return np.sum(E * E) + np.sum(out * out)


def cos_of_other_value(x):
    y = x
    for _ in range(3):
        s = np.sin(y)
        y = y * 0.5
        c = np.cos(y)
        y = y + s * c
    return np.sum(y)


@pytest.mark.parametrize("n", [3, 1000])
def test_the_adjoint_reads_the_saved_cosine(n):
    M, e = rng.uniform(0.0, 6.0, size=n), 0.4
    source = sg.source(sg.grad(fixed_newton, wrt=(0, 1)), M, e)
    specialized = source.split("# for any")[0]
    # np.cos in the primal and in the comment heading the adjoint of its line, not in the adjoint
    assert specialized.count("np.cos(") == 2 and "stack.append(E)" not in source, source
    check_grad(fixed_newton, M, e, wrt=(0, 1), rtol=1e-3)  # differences of 6 Newton steps


def test_no_reuse_where_arrays_change_or_values_differ():
    M, e = rng.uniform(0.0, 6.0, size=5), 0.4
    source = sg.source(sg.grad(fixed_newton_with_writes, wrt=(0, 1)), M, e)
    check_grad(fixed_newton_with_writes, M, e, wrt=(0, 1))
    x = rng.normal(size=4)
    source = sg.source(sg.grad(cos_of_other_value), x)
    assert source.count("np.cos(") >= 2, source  # cos of the halved y is not cos of y
    check_grad(cos_of_other_value, x)


# --- a floating ufunc computed into the temporary of its argument -------------------------------

BIG = 40_000  # past inplace.LARGE


def big_chain(x, w, b):
    return np.sum(np.tanh(x * w + b) ** 2 * np.exp(-x))


def big_softmax(logits, label):
    shifted = logits - np.max(logits)
    return np.log(np.sum(np.exp(shifted))) - shifted[label]


def exp_of_int_arithmetic(x, k):
    return np.sum(x * np.exp(k * 2))


def exp_of_viewed(x):
    s = x * 2.0
    head = s[:10]
    e = np.exp(s)
    return np.sum(e * x) + np.sum(head)


def test_large_floating_ufuncs_write_into_their_temporary():
    x = rng.normal(size=BIG)
    source = sg.source(sg.grad(big_chain), x, 0.7, 0.1)
    assert "np.tanh(tanh_x_times_w_plus_b, out=tanh_x_times_w_plus_b)" in source, source
    assert "np.exp(exp_neg_x, out=exp_neg_x)" in source
    np.testing.assert_allclose(sg.grad(big_chain)(x, 0.7, 0.1),
                               np.exp(-x) * np.tanh(x * 0.7 + 0.1) * (
                                   2 * 0.7 * (1 - np.tanh(x * 0.7 + 0.1) ** 2)
                                   - np.tanh(x * 0.7 + 0.1)), rtol=1e-12, atol=1e-15)
    logits = rng.normal(size=BIG)
    source = sg.source(sg.grad(big_softmax), logits, 3)
    assert "exp_shifted = logits - logits.max()" in source and \
        "np.exp(exp_shifted, out=exp_shifted)" in source, source
    p = np.exp(logits - logits.max())
    p /= p.sum()
    p[3] -= 1.0
    np.testing.assert_allclose(sg.grad(big_softmax)(logits, 3), p, rtol=1e-10, atol=1e-15)


def test_in_place_ufuncs_keep_numpys_dtypes():
    """float32 x with a float64 scalar: NumPy makes x * w + b float64, and so must the code."""
    x = rng.normal(size=BIG).astype(np.float32)
    w, b = np.float64(0.7), 0.1
    gradient = sg.grad(big_chain)(x, w, b)
    expected = sg.grad(big_chain)(x.astype(np.float64), w, b)
    assert gradient.dtype == np.float64  # NumPy's promotion, as without the pass
    np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-6)
    x32 = rng.normal(size=BIG).astype(np.float32)
    assert sg.grad(big_chain)(x32, 0.7, 0.1).dtype == np.float32


def test_no_in_place_ufunc_of_integers_or_of_viewed_arrays():
    x, k = rng.normal(size=BIG), np.arange(BIG) % 5
    source = sg.source(sg.grad(exp_of_int_arithmetic), x, k)
    assert "out=" not in source, source
    np.testing.assert_allclose(sg.grad(exp_of_int_arithmetic)(x, k), np.exp(k * 2))
    x = rng.normal(size=BIG) * 0.1
    source = sg.source(sg.grad(exp_of_viewed), x)
    assert "out=e" not in source and "out=s" not in source, source
    expected = np.exp(2 * x) * (2 * x + 1)
    expected[:10] += 2.0
    np.testing.assert_allclose(sg.grad(exp_of_viewed)(x), expected, rtol=1e-10)


def test_in_place_ufuncs_on_dask_and_the_strict_device():
    """Dask's ufuncs take out= (they rebind the array), CuPy's write into it."""
    from strict_device import DeviceArray
    da = pytest.importorskip("dask.array")
    x = rng.normal(size=BIG)
    expected = sg.grad(big_chain)(x, 0.7, 0.1)
    lazy = da.from_array(x, chunks=10_000)
    assert "out=" in sg.source(sg.grad(big_chain), lazy, 0.7, 0.1)
    np.testing.assert_allclose(np.asarray(sg.grad(big_chain)(lazy, 0.7, 0.1)), expected,
                               rtol=1e-12)
    np.testing.assert_allclose(sg.grad(big_chain)(DeviceArray(x), 0.7, 0.1).get(), expected,
                               rtol=1e-12)
