"""Devices: NumPy data is on the CPU; .cuda() needs CuPy, imported only when asked for."""
import importlib.util
import sys

import numpy as np
import pytest

from srcgrad.eager import EagerError, tensor

HAS_CUPY = importlib.util.find_spec("cupy") is not None


def test_numpy_data_is_on_the_cpu_and_cpu_is_a_no_op():
    t = tensor([1.0, 2.0])
    assert t.device == "cpu" and t.cpu() is t


def test_cupy_is_not_imported_by_srcgrad():
    import srcgrad.eager  # noqa: F401
    assert "cupy" not in sys.modules or HAS_CUPY


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here")
def test_cuda_without_cupy_says_how_to_install_it():
    with pytest.raises(EagerError, match=r"pip install 'srcgrad\[gpu\]'"):
        tensor([1.0]).cuda()


@pytest.mark.skipif(not HAS_CUPY, reason="CuPy is not installed")
def test_cuda_round_trip_keeps_values_and_gradients():  # pragma: no cover - needs a GPU
    import cupy
    x = tensor([0.5, 1.5], dtype=np.float64, requires_grad=True)
    on_gpu = x.cuda()
    assert isinstance(on_gpu.array, cupy.ndarray) and on_gpu.device.startswith("cuda")
    y = (np.exp(on_gpu) * on_gpu).sum()
    y.cpu().backward()
    np.testing.assert_allclose(x.grad.numpy(), (1 + x.array) * np.exp(x.array), rtol=1e-12)
