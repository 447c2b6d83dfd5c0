"""Generated derivatives on Dask arrays: lazy graphs whose compute() equals the NumPy results.

A function written with ``np.`` and called with ``dask.array`` inputs gets a gradient that is
itself a Dask graph: nothing runs until ``compute``. The exceptions are the ones Dask makes for
any code: ``if``/``while`` on a lazy value (``bool()``) computes the condition, and so does an
index array that is itself lazy. Each test counts the computations that building the derivative
triggered, so a helper that silently falls back to NumPy (Dask computes the whole array then)
fails here. Skipped when Dask is not installed (``pip install -e ".[dask]"``).
"""
import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import srcgrad as sg  # noqa: E402
from array_programs import (FUNCTIONS, HESSIAN_INPUTS, INPUTS, array_valued,  # noqa: E402
                            branches, derivative, element_writes, fancy_reads, least_squares,
                            masked_read, mlp, read_at_argmax, rng, settle)
from srcgrad.runtime import add_at  # noqa: E402


def lazy(value):
    """A NumPy argument as a Dask array of two chunks; numbers stay as they are."""
    if not isinstance(value, np.ndarray):
        return value
    if value.ndim == 0:
        return da.from_array(value)
    return da.from_array(value, chunks=(max(1, (value.shape[0] + 1) // 2),) + value.shape[1:])


class CountComputations:
    """A Dask scheduler that runs graphs in this thread and counts how often it was asked to."""

    def __init__(self):
        self.count = 0

    def __call__(self, graph, keys, **kwargs):
        self.count += 1
        return dask.get(graph, keys, **kwargs)


def assert_lazy_and_equal(results, expected, rtol=1e-10):
    assert len(results) == len(expected)
    for result, wanted in zip(results, expected):
        assert isinstance(result, da.Array), f"{type(result).__name__} is not a Dask graph"
    computed = dask.compute(*results)
    for result, wanted in zip(computed, expected):
        np.testing.assert_allclose(result, wanted, rtol=rtol, atol=1e-12)


def _generated_code_calls_np_copy():
    return "np.copy(" in sg.source(sg.grad(element_writes))


# The transformer writes np.copy(...) where it saves elements that a write overwrites, and where
# an adjoint that another adjoint shares is about to be updated in place (``dx[:1] += ...``
# after ``dx = ...``); Dask does not implement np.copy and computes the array there, after which
# the in-place update fails. srcgrad.runtime.copy_of is the replacement.
# Not run while the condition holds; they run (and must pass) once it no longer does.
NP_COPY_COMPUTES = pytest.mark.xfail(
    condition=_generated_code_calls_np_copy(), run=False,
    reason="generated code calls np.copy, which Dask does not implement (it computes); the "
           "transformer should call srcgrad.runtime.copy_of")

BRANCH_FREE = ["least_squares", "mlp", "elementwise", "reductions", "shapes", "where_clip",
               "fancy_reads", "with_list", "element_writes"]
# grad generates nearly the code value_and_grad does: it runs on a few functions only, which
# keeps the file fast (each derivative is generated once per function and mode).
MODES = ["value_and_grad", "vjp", "jvp"]
CASES = [pytest.param(name, mode, marks=NP_COPY_COMPUTES)
         if name in ("element_writes", "shapes") and mode != "jvp" else (name, mode)
         for name in BRANCH_FREE for mode in MODES]
CASES += [("least_squares", "grad"), ("fancy_reads", "grad")]


# --- building derivatives computes nothing ---------------------------------------------------

@pytest.mark.parametrize("name, mode", CASES)
def test_derivative_is_a_lazy_graph_equal_to_numpy(name, mode):
    function, args = FUNCTIONS[name], INPUTS[name]
    expected = derivative(mode, function, args)
    counter = CountComputations()
    with dask.config.set(scheduler=counter):
        results = derivative(mode, function, [lazy(a) for a in args])
        assert counter.count == 0, f"building the {mode} computed {counter.count} times"
        assert_lazy_and_equal(results, expected)


@pytest.mark.parametrize("name", ["least_squares",
                                  pytest.param("element_writes", marks=NP_COPY_COMPUTES)])
def test_hessian_is_a_lazy_graph_equal_to_numpy(name):
    function, args = FUNCTIONS[name], HESSIAN_INPUTS.get(name, INPUTS[name])
    expected = derivative("hessian", function, args)
    counter = CountComputations()
    with dask.config.set(scheduler=counter):
        results = derivative("hessian", function, [lazy(a) for a in args])
        assert counter.count == 0
        assert_lazy_and_equal(results, expected)


def test_vjp_of_an_array_valued_function_and_repeated_pullbacks_stay_lazy():
    x = rng.normal(size=(6, 4))
    out, pullback = sg.vjp(array_valued)(lazy(x))
    numpy_out, numpy_pullback = sg.vjp(array_valued)(x)
    cotangents = [np.ones_like(x), rng.normal(size=x.shape)]
    results = [out] + [pullback(lazy(c)) for c in cotangents]
    assert_lazy_and_equal(results, [numpy_out] + [numpy_pullback(c) for c in cotangents])


def test_jacobian_has_the_numpy_values():
    x = rng.normal(size=5)
    result = sg.jacobian(array_valued)(lazy(x))
    np.testing.assert_allclose(np.asarray(result), sg.jacobian(array_valued)(x), rtol=1e-12)


def test_hessian_vector_product_is_lazy():
    w, X, y = INPUTS["least_squares"]
    vector = rng.normal(size=w.shape)
    result = sg.hvp(least_squares)(lazy(w), lazy(X), lazy(y), lazy(vector))
    assert_lazy_and_equal([result], [sg.hvp(least_squares)(w, X, y, vector)])


def test_grad_with_respect_to_several_lazy_arguments():
    args = INPUTS["mlp"]
    expected = sg.grad(mlp, wrt=(0, 2))(*args)
    results = sg.grad(mlp, wrt=(0, 2))(*[lazy(a) for a in args])
    assert_lazy_and_equal(results, expected)


@NP_COPY_COMPUTES
def test_masks_in_memory_select_from_a_lazy_array():
    # Masks along one axis, held in memory. Dask gives a read through a mask over several axes
    # (x[x > 0]) an unknown length, which no adjoint can be shaped back from: write such a
    # selection as np.where(mask, x, 0.0) instead.
    x = rng.normal(size=(6, 4))
    rows, columns = x[:, 0] > 0.0, np.array([True, False, True, True])
    result = sg.grad(masked_read)(lazy(x), rows, columns)
    assert_lazy_and_equal([result], [sg.grad(masked_read)(x, rows, columns)])


def test_float32_stays_float32():
    args = [a.astype(np.float32) for a in INPUTS["least_squares"]]
    result = sg.grad(least_squares)(*[lazy(a) for a in args])
    assert result.dtype == np.float32
    np.testing.assert_allclose(result.compute(), sg.grad(least_squares)(*args), rtol=1e-5)


# --- conditions on lazy values compute the condition, as bool() on a Dask array does -----------

def test_if_on_a_lazy_element_computes_each_condition_once_per_sweep():
    args = INPUTS["branches"]
    expected = sg.value_and_grad(branches)(*args)
    counter = CountComputations()
    with dask.config.set(scheduler=counter):
        results = sg.value_and_grad(branches)(*[lazy(a) for a in args])
        # `if err[i] > 0` runs in the primal loop and again in the reversed adjoint loop.
        assert counter.count == 2 * args[1].shape[0]
        assert_lazy_and_equal(results, expected)


def test_while_on_a_lazy_value_computes_its_condition_each_round():
    (x,) = INPUTS["settle"]
    expected = sg.value_and_grad(settle)(x)
    counter = CountComputations()
    with dask.config.set(scheduler=counter):
        results = sg.value_and_grad(settle)(lazy(x))
        # One per evaluated `while` test (the last one false); the adjoint replays the count.
        rounds, y = 0, x
        while np.max(np.abs(y)) > 0.1 and rounds < 30:
            y, rounds = 0.5 * y + 0.01 * np.sin(y), rounds + 1
        assert rounds > 1 and counter.count == rounds + 1
        assert_lazy_and_equal(results, expected)


def test_branches_in_forward_mode():
    args = INPUTS["branches"]
    tangents = (np.ones_like(args[0]), 0.0 * args[1], 0.0 * args[2])
    expected = sg.jvp(branches, args, tangents)
    results = sg.jvp(branches, [lazy(a) for a in args], [lazy(t) for t in tangents])
    assert_lazy_and_equal(results, expected)


# --- np.add.at, which Dask lacks ----------------------------------------------------------------

SHAPE = (5, 4, 6)
INDICES = [
    2, -1, slice(1, 4), (1, slice(None), 2), (Ellipsis, 3),
    np.array([0, 2, 2, 1]), [4, 4, 4], (np.array([0, 2, 2]), slice(1, 3)),
    (slice(None), np.array([3, 0, 3, 3])), (Ellipsis, np.array([[1, 1], [5, 0]])),
    (np.array([0, 2, 2]), np.array([1, 1, 1])), (np.array([[0], [2]]), np.array([1, 3, 1])),
    (np.array([0, 0, 4]), slice(None), np.array([5, 5, 1])),  # separated: index axes go first
    (1, slice(None), np.array([5, 5, -1])), (np.array([-5, 0]), Ellipsis),
    np.arange(120).reshape(SHAPE) % 3 == 0, (np.array([True, False, True, True, False]), 2),
]


def test_add_at_on_dask_matches_numpy_add_at():
    results, expected = [], []
    for index in INDICES:
        g = rng.normal(size=np.zeros(SHAPE)[index].shape)
        wanted = np.zeros(SHAPE)
        np.add.at(wanted, index, g)
        dx = da.zeros(SHAPE, chunks=(2, 3, 4))
        add_at(dx, index, da.from_array(g, chunks=2) if g.ndim else g)
        assert isinstance(dx, da.Array)
        results.append(dx)
        expected.append(wanted)
    for index, result, wanted in zip(INDICES, dask.compute(*results), expected):
        np.testing.assert_allclose(result, wanted, rtol=1e-12, err_msg=repr(index))


def test_add_at_sums_many_repeats_across_chunks():
    index = rng.integers(-7, 7, size=500)
    g = rng.normal(size=(500, 3))
    expected = np.zeros((7, 3))
    np.add.at(expected, index, g)
    dx = da.zeros((7, 3), chunks=(3, 2))
    add_at(dx, index, da.from_array(g, chunks=(37, 2)))
    np.testing.assert_allclose(dx.compute(), expected, rtol=1e-12)


def test_a_lazy_index_is_computed_once_by_the_adjoint():
    x = rng.normal(size=7)
    expected = sg.grad(read_at_argmax)(x)
    counter = CountComputations()
    with dask.config.set(scheduler=counter):
        result = sg.grad(read_at_argmax)(lazy(x))
        assert counter.count == 1  # np.argmax(x), to know where to add
        assert_lazy_and_equal([result], [expected])


def test_add_at_computes_a_lazy_index():
    dx = da.zeros(4, chunks=2)
    add_at(dx, da.from_array(np.array([1, 1, 3]), chunks=2), 1.0)
    np.testing.assert_array_equal(dx.compute(), [0.0, 2.0, 0.0, 1.0])


# --- the eager Tensor --------------------------------------------------------------------------

def test_eager_tensor_on_dask_data_gives_numpy_values():
    x = rng.normal(size=(3, 4))
    t = sg.Tensor(lazy(x), requires_grad=True)
    y = (np.exp(t) * t).sum()
    assert isinstance(y.array, da.Array)
    y.backward()
    np.testing.assert_allclose(np.asarray(t.grad.array), (1 + x) * np.exp(x), rtol=1e-12)


@pytest.mark.xfail(strict=True, reason="srcgrad/eager/engine.py _accumulate copies a leaf's first "
                   "gradient with np.copy, which Dask does not implement (it computes); "
                   "srcgrad.runtime.copy_of keeps it lazy")
def test_eager_leaf_gradient_stays_lazy():
    t = sg.Tensor(lazy(rng.normal(size=4)), requires_grad=True)
    (t * t).sum().backward()
    assert isinstance(t.grad.array, da.Array)


# --- a distributed cluster on this machine -----------------------------------------------------

@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    # Two single-threaded workers in this process; every server listens on the loopback
    # interface only, on ports the system picks, and there is no dashboard.
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       host="127.0.0.1", protocol="tcp://",
                                       dashboard_address=None,
                                       scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    client = distributed.Client(cluster, timeout=30)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_gradients_on_a_local_distributed_cluster(client):
    args = INPUTS["least_squares"]
    lazy_args = [lazy(a) for a in args]
    value, gradient = sg.value_and_grad(least_squares)(*lazy_args)
    (x,) = INPUTS["fancy_reads"]
    repeated_rows = sg.grad(fancy_reads)(lazy(x))  # the adjoint sums repeats chunk by chunk
    futures = client.compute([value, gradient, repeated_rows])
    results = [future.result(timeout=60) for future in futures]
    expected = list(sg.value_and_grad(least_squares)(*args)) + [sg.grad(fancy_reads)(x)]
    for result, wanted in zip(results, expected):
        np.testing.assert_allclose(result, wanted, rtol=1e-10)


def test_conditions_are_computed_by_the_cluster(client):
    args = HESSIAN_INPUTS["branches"]
    results = sg.value_and_grad(branches)(*[lazy(a) for a in args])  # bool() goes to the client
    futures = client.compute(list(results))
    computed = [future.result(timeout=60) for future in futures]
    for result, wanted in zip(computed, sg.value_and_grad(branches)(*args)):
        np.testing.assert_allclose(result, wanted, rtol=1e-10)


def test_the_large_gradient_example_on_a_smaller_problem(capsys):
    pytest.importorskip("distributed")
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "dask_large_gradient.py"
    spec = importlib.util.spec_from_file_location("dask_large_gradient", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(rows=20_000, features=5, chunks=4, processes=False)  # asserts its own result
    assert "largest difference from NumPy" in capsys.readouterr().out
