"""Generated derivatives and the eager Tensor on CuPy arrays: results stay on the GPU and equal
NumPy's.

Skipped unless CuPy is installed (``pip install -e ".[gpu]"``, or the cupy-cudaXXx wheel that
matches your CUDA) and a GPU is visible. Run: ``python -m pytest tests/test_cupy.py -v``.
"""
import numpy as np
import pytest

cupy = pytest.importorskip("cupy")


def _gpu_count():
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no driver, no device, or a CUDA library that does not load
        return 0


if _gpu_count() == 0:
    pytest.skip("CuPy is installed but no GPU is visible", allow_module_level=True)

import srcgrad as sg  # noqa: E402
from array_programs import (FUNCTIONS, HESSIAN_INPUTS, INPUTS, array_valued,  # noqa: E402
                            branches, derivative, masked_read, rng)
from srcgrad.runtime import add_at  # noqa: E402


def on_gpu(value):
    """A NumPy argument copied to the GPU; numbers stay as they are."""
    return cupy.asarray(value) if isinstance(value, np.ndarray) else value


def assert_on_gpu_and_equal(results, expected, rtol=1e-10):
    assert len(results) == len(expected)
    for result, wanted in zip(results, expected):
        assert isinstance(result, cupy.ndarray), f"{type(result).__name__} is not on the GPU"
        np.testing.assert_allclose(cupy.asnumpy(result), wanted, rtol=rtol, atol=1e-12)


MODES = ["grad", "value_and_grad", "vjp", "jvp"]
NAMES = sorted(INPUTS)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_derivative_stays_on_the_gpu_and_equals_numpy(name, mode):
    function, args = FUNCTIONS[name], INPUTS[name]
    expected = derivative(mode, function, args)
    results = derivative(mode, function, [on_gpu(a) for a in args])
    assert_on_gpu_and_equal(results, expected)


@pytest.mark.parametrize("mode", ["hessian", "hvp"])
@pytest.mark.parametrize("name", ["least_squares", "where_clip", "element_writes", "branches",
                                  "row_dots", "tanh_layer", "number_and_array"])
def test_hessian_stays_on_the_gpu_and_equals_numpy(name, mode):
    function, args = FUNCTIONS[name], HESSIAN_INPUTS.get(name, INPUTS[name])
    expected = derivative(mode, function, args)
    results = derivative(mode, function, [on_gpu(a) for a in args])
    assert_on_gpu_and_equal(results, expected)


def test_vjp_pullback_and_jacobian_of_an_array_valued_function():
    x = rng.normal(size=(5, 3))
    out, pullback = sg.vjp(array_valued)(on_gpu(x))
    numpy_out, numpy_pullback = sg.vjp(array_valued)(x)
    cotangent = rng.normal(size=x.shape)
    assert_on_gpu_and_equal([out, pullback(on_gpu(cotangent))],
                            [numpy_out, numpy_pullback(cotangent)])
    vector = rng.normal(size=4)
    assert_on_gpu_and_equal([sg.jacobian(array_valued)(on_gpu(vector))],
                            [sg.jacobian(array_valued)(vector)])


def test_float32_stays_float32_on_the_gpu():
    args = [a.astype(np.float32) for a in INPUTS["least_squares"]]
    result = sg.grad(FUNCTIONS["least_squares"])(*[on_gpu(a) for a in args])
    assert isinstance(result, cupy.ndarray) and result.dtype == np.float32
    np.testing.assert_allclose(cupy.asnumpy(result), sg.grad(FUNCTIONS["least_squares"])(*args),
                               rtol=1e-4)


def test_masks_and_conditions_on_the_gpu():
    x = rng.normal(size=(6, 4))
    rows, columns = x[:, 0] > 0.0, np.array([True, False, True, True])
    assert_on_gpu_and_equal([sg.grad(masked_read)(on_gpu(x), on_gpu(rows), on_gpu(columns))],
                            [sg.grad(masked_read)(x, rows, columns)])
    args = INPUTS["branches"]  # `if err[i] > 0` reads one element back from the GPU
    assert_on_gpu_and_equal(list(sg.value_and_grad(branches)(*[on_gpu(a) for a in args])),
                            list(sg.value_and_grad(branches)(*args)))


@pytest.mark.parametrize("index", [np.array([0, 2, 2, 1]), (np.array([1, 1]), slice(None)),
                                   (np.array([0, 0, 3]), np.array([2, 2, 1])), 3])
def test_add_at_accumulates_repeated_indices_on_the_gpu(index):
    g = rng.normal(size=np.zeros((4, 3))[index].shape)
    expected = np.zeros((4, 3))
    np.add.at(expected, index, g)
    dx = cupy.zeros((4, 3))
    add_at(dx, index, cupy.asarray(g))
    np.testing.assert_allclose(cupy.asnumpy(dx), expected, rtol=1e-12)


# --- the eager Tensor --------------------------------------------------------------------------

def test_cuda_and_cpu_move_a_tensor_and_its_gradient():
    x = sg.tensor([0.5, 1.5, -2.0], dtype=np.float64, requires_grad=True)
    on_device = x.cuda()
    assert isinstance(on_device.array, cupy.ndarray) and on_device.device.startswith("cuda")
    assert on_device.cuda() is on_device and x.cpu() is x
    y = (np.exp(on_device) * on_device).sum()
    assert isinstance(y.array, cupy.ndarray)
    back = y.cpu()
    assert back.device == "cpu" and isinstance(back.array, np.ndarray)
    back.backward()
    assert isinstance(x.grad.array, np.ndarray)  # the gradient came back through .cuda()
    np.testing.assert_allclose(x.grad.numpy(), (1 + x.array) * np.exp(x.array), rtol=1e-12)


def test_a_leaf_on_the_gpu_gets_its_gradient_on_the_gpu():
    w_data, x_data = rng.normal(size=(3, 2)), rng.normal(size=(4, 3))
    w = sg.Tensor(cupy.asarray(w_data), requires_grad=True)
    loss = (np.tanh(sg.Tensor(cupy.asarray(x_data)) @ w) ** 2).sum()
    loss.backward()
    assert w.device.startswith("cuda") and isinstance(w.grad.array, cupy.ndarray)
    h = np.tanh(x_data @ w_data)
    np.testing.assert_allclose(cupy.asnumpy(w.grad.array), x_data.T @ (2 * h * (1 - h * h)),
                               rtol=1e-12)
