"""Generated code stays within NumPy's dispatching API, so other array libraries flow through.

The duck array is the CPU stand-in for CuPy, ``strict_device.DeviceArray``: it refuses conversion
to ``numpy.ndarray`` and mixing with one (0-d ones included), gives 0-d device arrays for numbers,
and counts every NumPy function it sees (``strict_device.SEEN``). A gradient that silently
copied to the host (``np.asarray``, ``np.zeros(shape)``) or made a NumPy array of a number
(``np.zeros_like(0.0)``) fails here. ``test_strict_device.py`` runs every mode over many programs
on the same stand-in.
"""
import numpy as np
import pytest

import srcgrad as sg
import strict_device
from checks import numeric_gradient
from strict_device import DeviceArray


def model(w, b, x, y):
    h = np.tanh(x @ w + b)
    err = h - y
    total = 0.0
    for i in range(err.shape[0]):
        if err[i] > 0:
            total = total + err[i] ** 2
        else:
            total = total + 0.5 * np.abs(err[i])
    penalty = np.sum(np.maximum(w, 0.0)) + np.mean(np.exp(-w * w))
    return total / err.shape[0] + 0.1 * penalty + np.max(np.log1p(x[0] * x[0]) * b)


def test_gradient_of_duck_arrays_never_converts_and_matches_numpy():
    rng = np.random.default_rng(3)
    w, b = rng.normal(size=3), 0.3
    x, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    strict_device.SEEN.clear()
    ducks = [DeviceArray(v) for v in (w, x, y)]
    gradient = sg.grad(model)(ducks[0], b, ducks[1], ducks[2])
    assert isinstance(gradient, DeviceArray)
    expected = numeric_gradient(model, [w, b, x, y], 0)
    np.testing.assert_allclose(gradient.get(), expected, rtol=1e-6, atol=1e-8)
    # The adjoint itself went through the dispatch protocol, not only the primal.
    assert {"tanh", "zeros_like", "matmul", "exp", "maximum"} <= set(strict_device.SEEN)


def test_conversion_is_caught_by_the_duck_array():
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(DeviceArray(np.ones(2))) + 0


def test_srcgrad_loads_neither_cupy_nor_dask_unless_the_caller_does():
    """srcgrad tells libraries apart by the type of an array (runtime.array_library): using it on
    NumPy arrays, fancy indexing and the eager Tensor included, must not import CuPy or Dask."""
    import subprocess
    import sys
    import textwrap
    script = textwrap.dedent('''
        import sys
        import numpy as np
        import srcgrad as sg
        source = "def f(x):\\n    return np.sum(x[np.array([0, 0, 1])] ** 2) + np.sum(x.reshape(-1))\\n"
        namespace = {"np": np}
        exec(source, namespace)
        gradient = sg.grad(namespace["f"], source=source)(np.arange(3.0))
        assert gradient.tolist() == [1.0, 3.0, 1.0], gradient
        x = sg.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        loaded = sorted(name for name in ("cupy", "cupyx", "dask", "distributed")
                        if name in sys.modules)
        assert not loaded, loaded
    ''')
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
