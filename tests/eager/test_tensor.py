"""The Tensor's attributes, conversions and methods (values, and gradients by gradcheck)."""
import numpy as np
import pytest

import srcgrad
from srcgrad.eager import EagerError, Tensor, tensor
from srcgrad.gradcheck import gradcheck

rng = np.random.default_rng(1)
M = rng.normal(size=(3, 4))


def test_attributes_of_a_leaf():
    data = np.arange(6.0).reshape(2, 3)
    t = Tensor(data, requires_grad=True)
    assert t.array is data and t.data.array is data  # shared, not copied
    assert (t.shape, t.dtype, t.ndim, t.size(), len(t)) == ((2, 3), np.float64, 2, (2, 3), 2)
    assert (t.numel(), t.dim(), t.device) == (6, 2, "cpu")
    assert t.is_leaf and t.grad is None and t.grad_fn is None and t.requires_grad


def test_tensor_copies_and_converts_python_data():
    data = np.array([1.0, 2.0])
    copied = tensor(data)
    assert copied.data is not data and copied.data.tolist() == [1.0, 2.0]
    assert tensor([1, 2]).dtype == np.int64
    assert tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert Tensor(2.5).item() == 2.5 and Tensor(2.5).shape == ()


def test_requires_grad_flags():
    t = tensor([1.0, 2.0]).requires_grad_()
    assert t.requires_grad
    y = t * 2
    assert y.requires_grad and not y.is_leaf
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        tensor([1, 2]).requires_grad = True


def test_conversions():
    t = tensor([[1.5, 2.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        t.numpy()
    assert t.detach().numpy() is t.array
    assert t.tolist() == [[1.5, 2.0]]
    assert float(t[0, 0]) == 1.5 and int(t[0, 1]) == 2 and bool(t[0, 0] > 1)
    with pytest.raises(TypeError, match="0-d"):
        iter(tensor(1.0))
    assert [row.shape for row in tensor(np.zeros((3, 2)))] == [(2,)] * 3


def test_repr_shows_requires_grad_or_the_node():
    t = tensor([1.0, 2.0], requires_grad=True)
    assert repr(t) == "tensor([1., 2.], requires_grad=True)"
    assert repr(t * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr(tensor(3.0)) == "tensor(3.)"


def test_operators_broadcast_like_numpy():
    x = tensor(M, requires_grad=True)
    row = tensor(np.arange(4.0), requires_grad=True)
    y = (x + row) * 2 - row / 3 + 1 - x ** 2 + 2 ** row - (-x) + abs(x)
    expected = (M + np.arange(4.0)) * 2 - np.arange(4.0) / 3 + 1 - M ** 2 + 2 ** np.arange(4.0) \
        + M + np.abs(M)
    np.testing.assert_allclose(y.data, expected)
    y.sum().backward()
    np.testing.assert_allclose(row.grad.numpy(), 3 * (2 - 1 / 3 + np.log(2) * 2 ** np.arange(4.0)))


def test_comparisons_and_masks_are_plain_tensors():
    x = tensor(M, requires_grad=True)
    mask = (x > 0) & ~(x > 1) | (x == x[0, 0])
    assert mask.dtype == bool and not mask.requires_grad
    np.testing.assert_array_equal(mask.data, (M > 0) & ~(M > 1) | (M == M[0, 0]))


def test_max_and_min_share_the_gradient_between_ties():
    x = tensor([1.0, 3.0, 3.0, -2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])


def test_relu_and_clamp_gradients_at_the_boundary_follow_pytorch():
    x = tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])
    x.grad = None
    x.clamp(min=0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0])


def test_sigmoid_is_stable_far_from_zero():
    x = tensor([-800.0, 0.0, 800.0], requires_grad=True)
    s = x.sigmoid()
    np.testing.assert_allclose(s.data, [0.0, 0.5, 1.0])
    s.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.25, 0.0])


def test_transpose_swaps_two_axes_as_pytorch_does():
    x = tensor(np.zeros((2, 3, 4)))
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.transpose().shape == (4, 3, 2)
    assert x.transpose(1, 2, 0).shape == (3, 4, 2)
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert tensor(M).transpose(0, 1).shape == (4, 3)


def test_shape_methods():
    x = tensor(M)
    assert x.reshape(2, 6).shape == x.reshape((2, 6)).shape == (2, 6)
    assert x.view(-1, 3).shape == (4, 3) and x.flatten().shape == (12,)
    assert x.unsqueeze(0).shape == (1, 3, 4) and x.unsqueeze(0).squeeze(0).shape == (3, 4)
    assert tensor(np.ones(4)).expand(3, -1).shape == (3, 4)
    assert tensor(np.ones(4)).expand_as(x).shape == (3, 4)
    assert x.t().shape == (4, 3) and x.T.shape == (4, 3)
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        tensor(np.zeros((1, 2, 3))).t()


def test_dot_is_for_vectors():
    v = tensor([1.0, 2.0], requires_grad=True)
    assert v.dot(v).item() == 5.0
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        tensor(M).dot(v)


def test_astype_casts_and_casts_the_gradient_back():
    x = tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


POSITIVE = rng.uniform(0.5, 2.0, size=(3, 4))
METHODS = {
    "sum": lambda t: t.sum(), "sum(dim, keepdim)": lambda t: t.sum(dim=1, keepdim=True),
    "mean(axis)": lambda t: t.mean(axis=0), "prod": lambda t: t.prod(axis=1),
    "max(dim)": lambda t: t.max(dim=0), "min": lambda t: t.min(axis=1, keepdims=True),
    "exp": lambda t: t.exp(), "log": lambda t: t.log(), "sqrt": lambda t: t.sqrt(),
    "sin cos": lambda t: t.sin() * t.cos(), "tanh": lambda t: t.tanh(), "abs": lambda t: t.abs(),
    "neg": lambda t: t.neg(), "sigmoid": lambda t: t.sigmoid(), "relu": lambda t: t.relu(),
    "pow": lambda t: t.pow(3), "pow tensor": lambda t: t.pow(t), "rpow": lambda t: 2.0 ** t,
    "matmul": lambda t: t.matmul(t.T), "rmatmul": lambda t: np.ones((2, 3)) @ t,
    "clamp": lambda t: t.clamp(0.7, 1.5), "reshape": lambda t: t.reshape(4, 3),
    "view": lambda t: t.view(-1), "transpose": lambda t: t.transpose(0, 1),
    "permute": lambda t: t.permute(1, 0), "t": lambda t: t.t(),
    "unsqueeze squeeze": lambda t: t.unsqueeze(1).squeeze(),
    "expand": lambda t: t[:, :1].expand(3, 5), "expand_as": lambda t: t[0].expand_as(t),
    "clone": lambda t: t.clone() * t, "getitem": lambda t: t[1:, [0, 2]] * t[0, 3],
    "rtruediv rsub": lambda t: 1 / t - (3 - t),
    "max(dim) values": lambda t: t.max(dim=1).values,
    "min(dim, keepdim)": lambda t: t.min(0, True)[0],
    "softmax": lambda t: t.softmax(dim=1), "log_softmax": lambda t: t.log_softmax(0),
    "logsumexp": lambda t: t.logsumexp(1), "var std": lambda t: t.var(0) + t.std(),
    "NumPy spellings of var std": lambda t: t.var(axis=1, correction=0) + t.std(axis=0, keepdims=True).T,
    "ravel round": lambda t: t.ravel()[2:7] * t.round(1).ravel()[:5],
    "repeat": lambda t: t.repeat(2, 1, 1), "norm(dim)": lambda t: t.norm(dim=1),
    "mm mv": lambda t: t.mm(t.t()).mv(t[:, 0]), "bmm": lambda t: t.unsqueeze(0).bmm(t.T[None]),
    "masked_fill": lambda t: t.masked_fill(t > 1, 0.5),
    "flip split": lambda t: t.flip(0).split(2, 1)[1],
    "einsum": lambda t: srcgrad.einsum("ij,kj,i->k", t, t, t[:, 0]),
    "cat stack": lambda t: srcgrad.stack([t, srcgrad.cat([t[1:], t[:1]])]),
    "in place through a view": lambda t: _scaled_rows(t),
    "%": lambda t: t % 0.3, "square reciprocal": lambda t: t.square() + t.reciprocal(),
}


def _scaled_rows(t):
    y = t * 1.0
    y[1:].mul_(t[0])
    return y


@pytest.mark.parametrize("name", sorted(METHODS))
def test_method_gradients_match_central_differences(name):
    assert gradcheck(METHODS[name], (tensor(POSITIVE, requires_grad=True),))


def test_numpy_spellings_of_var_and_std_mean_what_pytorch_would():
    t = tensor(M)
    np.testing.assert_allclose(t.var(axis=0).data, np.var(M, axis=0, ddof=1))  # unbiased
    np.testing.assert_allclose(t.std(axis=1, correction=0, keepdims=True).data,
                               np.std(M, axis=1, keepdims=True))
    np.testing.assert_allclose(t.round(2).data, np.round(M, 2))
    assert t.ravel().shape == (12,)


def test_leaf_gradient_keeps_its_dtype_and_is_writable():
    x = tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    x.sum().backward()  # the sum's adjoint is a read-only broadcast view
    assert x.grad.dtype == np.float32
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_gradient_of_wrong_shape_is_refused():
    x = tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of "
                                           r"srcgrad.Size\(\[3\]\) and output\[0\] has a shape of "
                                           r"srcgrad.Size\(\[2\]\)"):
        (x * 2).backward(np.ones(3))


def test_backward_of_a_tensor_without_history_is_refused():
    with pytest.raises(EagerError, match="element 0 of tensors does not require grad"):
        tensor(1.0).backward()
