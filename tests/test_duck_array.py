"""Generated code stays within NumPy's dispatching API, so other array libraries flow through.

``RecordingArray`` implements ``__array_ufunc__`` and ``__array_function__`` the way CuPy and Dask
do, records every NumPy function it sees, and refuses conversion to ``numpy.ndarray``: a gradient
that silently copied to the host (``np.asarray``, ``np.zeros(shape)``) fails here.
"""
import numpy as np
import numpy.lib.mixins
import pytest

import srcgrad as sg
from checks import numeric_gradient


class ConversionError(AssertionError):
    pass


class RecordingArray(numpy.lib.mixins.NDArrayOperatorsMixin):
    seen = []

    def __init__(self, data):
        self.data = np.asarray(data)

    def __array__(self, dtype=None, copy=None):
        raise ConversionError("generated code converted a duck array to numpy.ndarray")

    @staticmethod
    def _unwrap(value):
        if isinstance(value, RecordingArray):
            return value.data
        if isinstance(value, (list, tuple)):
            return type(value)(RecordingArray._unwrap(v) for v in value)
        if isinstance(value, dict):
            return {k: RecordingArray._unwrap(v) for k, v in value.items()}
        return value

    @staticmethod
    def _wrap(value):
        if isinstance(value, np.ndarray):
            return RecordingArray(value)
        if isinstance(value, tuple):
            return tuple(RecordingArray._wrap(v) for v in value)
        return value

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        RecordingArray.seen.append(ufunc.__name__ if method == "__call__" else
                                   f"{ufunc.__name__}.{method}")
        result = getattr(ufunc, method)(*self._unwrap(inputs), **self._unwrap(kwargs))
        return None if method == "at" else self._wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        RecordingArray.seen.append(func.__name__)
        return self._wrap(func(*self._unwrap(args), **self._unwrap(kwargs)))

    def __getitem__(self, index):
        result = self.data[self._unwrap(index)]
        return RecordingArray(result) if isinstance(result, np.ndarray) else result

    def __setitem__(self, index, value):
        self.data[self._unwrap(index)] = self._unwrap(value)

    def __len__(self):
        return len(self.data)

    def __bool__(self):
        return bool(self.data)

    def copy(self):
        return RecordingArray(self.data.copy())

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    T = property(lambda self: RecordingArray(self.data.T))


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
    RecordingArray.seen.clear()
    ducks = [RecordingArray(v) for v in (w, x, y)]
    gradient = sg.grad(model)(ducks[0], b, ducks[1], ducks[2])
    assert isinstance(gradient, RecordingArray)
    expected = numeric_gradient(model, [w, b, x, y], 0)
    np.testing.assert_allclose(gradient.data, expected, rtol=1e-6, atol=1e-8)
    # The adjoint itself went through the dispatch protocol, not only the primal.
    assert {"tanh", "zeros_like", "matmul", "exp", "maximum"} <= set(RecordingArray.seen)


def test_conversion_is_caught_by_the_duck_array():
    with pytest.raises(ConversionError):
        np.asarray(RecordingArray(np.ones(2))) + 0


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
