"""NumPy functions called on Tensors: recorded, with first and second derivatives from the rules.

Every case is checked against central differences (gradcheck and gradgradcheck).
"""
import numpy as np
import pytest

import srcgrad.autograd as autograd
from srcgrad.eager import NoEagerRule, Tensor, tensor
from srcgrad.gradcheck import gradcheck, gradgradcheck

rng = np.random.default_rng(0)
A = rng.normal(size=(3, 4))
B = rng.normal(size=(4, 2))
POSITIVE = rng.uniform(0.5, 2.0, size=4)


def set_row(a):
    b = a * 1.0
    b[1] = a[0] * 3
    return b


# name -> (function of Tensors, input arrays); every one also passes gradgradcheck unless listed
# in FIRST_ORDER_ONLY.
CASES = {
    "exp": (lambda a: np.exp(a), (A,)),
    "log sqrt pow": (lambda x: np.log(x) + np.sqrt(x) + x ** 0.5, (POSITIVE,)),
    "expm1 log1p": (lambda x: np.expm1(x) + np.log1p(x), (POSITIVE,)),
    "trigonometry": (lambda a: np.sin(a) * np.cos(a) + np.tanh(a) + np.arctan(a) + np.sinh(a)
                     + np.cosh(a) + np.tan(0.3 * a), (A,)),
    "abs": (lambda a: np.abs(a), (A,)),
    "sum over an axis": (lambda a: np.sum(a, axis=1), (A,)),
    "mean keepdims": (lambda a: np.mean(a, axis=0, keepdims=True), (A,)),
    "prod": (lambda a: np.prod(a, axis=1), (A,)),
    "max": (lambda a: np.max(a, axis=0), (A,)),
    "min method": (lambda a: a.min(), (A,)),
    "where": (lambda a: np.where(a > 0, a * a, -a), (A,)),
    "concatenate": (lambda a, b: np.concatenate([a, b.T], axis=0), (A, B)),
    "stack": (lambda a: np.stack([a, a * 2], axis=1), (A,)),
    "broadcast_to": (lambda x: np.broadcast_to(x, (3, 4)), (POSITIVE,)),
    "maximum": (lambda a, x: np.maximum(a, x), (A, POSITIVE)),
    "norm": (lambda a: np.linalg.norm(a, axis=1), (A,)),
    "dot": (lambda a, b: np.dot(a, b), (A, B)),
    "outer": (lambda x: np.outer(x, x), (POSITIVE,)),
    "clip": (lambda a: np.clip(a, -0.5, 0.5), (A,)),
    "logaddexp": (lambda a, x: np.logaddexp(a, x), (A, POSITIVE)),
    "ndarray on the left": (lambda a: np.ones((3, 4)) * a + np.ones(4) / (1 + a * a), (A,)),
    "transpose": (lambda a: np.transpose(a), (A,)),
    "reshape": (lambda a: np.reshape(a, (2, 6)), (A,)),
    "expand_dims squeeze": (lambda a: np.squeeze(np.expand_dims(a, 1)), (A,)),
    "moveaxis swapaxes": (lambda a: np.swapaxes(np.moveaxis(a[None], 0, 2), 0, 1), (A,)),
    "flip ravel": (lambda a: np.ravel(np.flip(a, 0)), (A,)),
    "matmul": (lambda a, b: a @ b, (A, B)),
    "matrix @ vector": (lambda a, x: a @ x, (A, POSITIVE)),
    "fancy index": (lambda a: a[[0, 2, 0], 1:3], (A,)),
    "mask index": (lambda a: a[a > 0], (A,)),
    "power of tensors": (lambda x, y: x ** y, (POSITIVE, POSITIVE[::-1].copy())),
    "divide": (lambda a, x: a / x - 2 / x, (A, POSITIVE)),
    ".T and copy": (lambda a: np.copy(a.T), (A,)),
    "index assignment": (set_row, (A,)),
}
# Their rules' adjoints call NumPy functions that have no rule themselves, so the backward pass
# cannot be recorded (see the report of missing rules): np.tensordot. (np.concatenate's adjoint
# cuts with slices, which record.)
FIRST_ORDER_ONLY = set()  # np.tensordot, which dot's adjoint calls, has a rule now


def leaves(arrays):
    return tuple(tensor(a, requires_grad=True) for a in arrays)


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_derivatives_match_central_differences(name):
    function, arrays = CASES[name]
    assert gradcheck(function, leaves(arrays))


@pytest.mark.parametrize("name", sorted(set(CASES) - FIRST_ORDER_ONLY))
def test_second_derivatives_match_central_differences(name):
    function, arrays = CASES[name]
    assert gradgradcheck(function, leaves(arrays))


def test_results_are_tensors_and_values_are_numpys():
    x = tensor(A, requires_grad=True)
    for result, expected in [(np.exp(x), np.exp(A)), (np.sum(x, axis=0), A.sum(axis=0)),
                             (x @ B, A @ B), (np.ones(4) + x, 1 + A)]:
        assert isinstance(result, Tensor) and result.requires_grad
        np.testing.assert_array_equal(result.data, expected)


def test_non_differentiable_functions_give_tensors_without_history():
    x = tensor(A, requires_grad=True)
    for result in (np.sign(x), x > 0, np.argmax(x), np.floor(x), np.zeros_like(x)):
        assert isinstance(result, Tensor) and not result.requires_grad
    assert np.shape(x) == (3, 4) and np.ndim(x) == 2


def test_a_function_without_rule_names_itself_and_the_callers_line():
    x = tensor(A, requires_grad=True)
    with pytest.raises(NoEagerRule, match=r"test_numpy_dispatch\.py, line \d+: srcgrad has no "
                                          r"derivative rule for numpy\.piecewise"):
        np.piecewise(x, [A > 0.0], [np.negative, np.exp])  # the caller's functions: no rule
    np.testing.assert_array_equal(np.piecewise(x.detach(), [A > 0.0], [np.negative, np.exp]).data,
                                  np.piecewise(A, [A > 0.0], [np.negative, np.exp]))


def test_an_option_the_rule_does_not_know_is_refused_with_its_name():
    x = tensor(A, requires_grad=True)
    with pytest.raises(TypeError, match="'dtype'"):
        np.sum(x, dtype=np.float32)


# --- backend neutrality: a duck array that refuses to become a NumPy array ---------------------

class StrictDuck(np.lib.mixins.NDArrayOperatorsMixin):
    """Reaches NumPy only through __array_ufunc__/__array_function__, as CuPy arrays do, and
    fails on any conversion to numpy.ndarray; counts the calls it serves."""

    calls = 0

    def __init__(self, data):
        self.data = np.asarray(data)

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)
    T = property(lambda self: StrictDuck(self.data.T))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a duck array was converted to a NumPy array")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        StrictDuck.calls += 1
        if "out" in kwargs:
            kwargs["out"] = tuple(duck_unwrap(o) for o in kwargs["out"])
        result = getattr(ufunc, method)(*duck_unwrap(inputs), **duck_unwrap(kwargs))
        if method == "at" or "out" in kwargs:
            return None
        return duck_wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        StrictDuck.calls += 1
        return duck_wrap(func(*duck_unwrap(args), **duck_unwrap(kwargs)))

    def __getitem__(self, index):
        return duck_wrap(self.data[duck_unwrap(index)])

    def __setitem__(self, index, value):
        self.data[duck_unwrap(index)] = duck_unwrap(value)

    def __len__(self):
        return len(self.data)

    def reshape(self, *shape):
        return StrictDuck(self.data.reshape(*shape))

    def copy(self):
        return StrictDuck(self.data.copy())

    def astype(self, dtype, copy=True):
        return StrictDuck(self.data.astype(dtype))

    def item(self):
        return self.data.item()


def duck_unwrap(value):
    if isinstance(value, StrictDuck):
        return value.data
    if isinstance(value, np.ndarray):
        raise TypeError("a plain NumPy array met a duck array")
    if isinstance(value, (list, tuple)):
        return type(value)(duck_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: duck_unwrap(v) for k, v in value.items()}
    return value


def duck_wrap(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return StrictDuck(value)
    if isinstance(value, (list, tuple)):
        return type(value)(duck_wrap(v) for v in value)
    return value


def test_forward_and_backward_run_on_a_duck_array_without_converting_it():
    StrictDuck.calls = 0
    w = Tensor(StrictDuck(B), requires_grad=True)
    x = Tensor(StrictDuck(A))
    hidden = np.tanh(x @ w)
    loss = (hidden[1:] ** 2).sum() + hidden.mean() + np.exp(w).max()
    loss.backward()
    assert isinstance(w.grad.array, StrictDuck) and StrictDuck.calls > 10
    assert w.device == "cpu"

    hidden_np = np.tanh(A @ B)
    d_hidden = np.zeros_like(hidden_np)
    d_hidden[1:] = 2 * hidden_np[1:]
    d_hidden += 1 / hidden_np.size
    expected = A.T @ (d_hidden * (1 - hidden_np ** 2))
    expected += np.exp(B) * (B == B.max())
    np.testing.assert_allclose(w.grad.array.data, expected, rtol=1e-12)


def test_second_derivatives_run_on_a_duck_array():
    x = Tensor(StrictDuck(np.array([0.5, 1.5])), requires_grad=True)
    y = (x ** 3 * np.exp(x)).sum()
    (first,) = autograd.grad(y, x, create_graph=True)
    first.sum().backward()
    values = np.array([0.5, 1.5])
    expected = (6 * values + 6 * values ** 2 + values ** 3) * np.exp(values)
    np.testing.assert_allclose(x.grad.array.data, expected, rtol=1e-12)
