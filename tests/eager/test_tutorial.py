"""The classic autograd tutorial scenarios, with their values asserted in closed form."""
import numpy as np
import pytest

import srcgrad.autograd as autograd
from srcgrad.eager import EagerError, GraphFreedError, Tensor, no_grad, tensor


def test_a_times_a_plus_b_times_exp_c():
    a = tensor(2.0, requires_grad=True)
    b = tensor(3.0, requires_grad=True)
    c = tensor(0.5, requires_grad=True)
    y = a * a + b * np.exp(c)
    y.backward()
    assert y.item() == pytest.approx(4 + 3 * np.exp(0.5))
    assert a.grad.item() == pytest.approx(4.0)
    assert b.grad.item() == pytest.approx(np.exp(0.5))
    assert c.grad.item() == pytest.approx(3 * np.exp(0.5))


def test_x_squared_exp_x_against_its_derivative():
    values = np.linspace(-2, 2, 9)
    x = tensor(values, requires_grad=True)
    y = x ** 2 * x.exp()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (2 * values + values ** 2) * np.exp(values),
                               rtol=1e-12)


def python_abs(x):
    """abs written with a Python `if` on the value: the tape records the branch taken."""
    if x > 0:
        return x
    return -x


@pytest.mark.parametrize("value, slope", [(3.0, 1.0), (-2.0, -1.0)])
def test_abs_with_a_python_if(value, slope):
    x = tensor(value, requires_grad=True)
    y = python_abs(x)
    y.backward()
    assert y.item() == abs(value)
    assert x.grad.item() == slope


def test_loop_multiplying_only_the_positive_entries():
    values = np.array([2.0, -1.0, 3.0, 0.5])
    x = tensor(values, requires_grad=True)
    product = tensor(1.0)
    for i in range(len(x)):
        if x[i] > 0:
            product = product * x[i]
    product.backward()
    assert product.item() == pytest.approx(3.0)
    positive = values > 0
    expected = np.where(positive, np.prod(values[positive]) / np.where(positive, values, 1), 0.0)
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_non_scalar_backward_needs_a_gradient():
    x = tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 3).backward()


def test_backward_with_a_gradient_is_the_gradient_of_the_weighted_sum():
    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = np.array([0.5, -1.0, 2.0])
    (x ** 3).backward(w)
    via_sum = tensor([1.0, 2.0, 3.0], requires_grad=True)
    (via_sum ** 3 * w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), via_sum.grad.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.0, 4.0, 9.0]) * w)


def test_second_backward_through_freed_buffers_says_to_retain_graph():
    x = tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_accumulates_one_then_two():
    x = tensor(1.0, requires_grad=True)
    y = x * 1.0
    y.backward(retain_graph=True)
    assert x.grad.item() == 1.0
    y.backward()
    assert x.grad.item() == 2.0


def test_non_leaf_grad_stays_none_unless_retained():
    x = tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3
    kept = x * 4
    kept.retain_grad()
    (hidden * kept).sum().backward()
    assert hidden.grad is None
    assert not hidden.is_leaf and x.is_leaf
    np.testing.assert_allclose(kept.grad.numpy(), 3 * x.data)
    np.testing.assert_allclose(x.grad.numpy(), 24 * x.data)


def test_second_derivative_of_x_squared_at_five_is_two():
    x = tensor(5.0, requires_grad=True)
    y = x ** 2
    y.backward(create_graph=True)
    assert x.grad.item() == 10.0
    first = x.grad
    x.grad = None
    first.backward()
    assert x.grad.item() == 2.0


def test_second_and_third_derivatives_of_sin_with_autograd_grad():
    x = tensor(0.7, requires_grad=True)
    (d1,) = autograd.grad(np.sin(x), x, create_graph=True)
    (d2,) = autograd.grad(d1, x, create_graph=True)
    (d3,) = autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == pytest.approx(
        (np.cos(0.7), -np.sin(0.7), -np.cos(0.7)))


def test_hook_sees_the_gradient_and_may_replace_it():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    seen = []
    handle = y.register_hook(lambda g: seen.append(g.numpy().copy()))
    doubler = x.register_hook(lambda g: g * 2)
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * y.data)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (8 * x.data))
    handle.remove()
    doubler.remove()
    x.grad = None
    (x * 2 * x * 2).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.data)


def test_no_grad_records_nothing():
    x = tensor(3.0, requires_grad=True)
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_detach_shares_data_and_stops_the_gradient():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    frozen = y.detach()
    assert frozen.array is y.array and not frozen.requires_grad and frozen.grad_fn is None
    (y * frozen).sum().backward()  # d/dx of y * const = 2x * const
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.data * x.data ** 2)


def test_autograd_grad_of_an_intermediate_leaves_grad_alone():
    x = tensor([1.0, 2.0, 3.0], dtype=np.float64, requires_grad=True)
    hidden = x.exp()
    loss = (hidden * hidden).sum()
    grad_hidden, grad_x = autograd.grad(loss, (hidden, x))
    np.testing.assert_allclose(grad_hidden.numpy(), 2 * np.exp(x.data))
    np.testing.assert_allclose(grad_x.numpy(), 2 * np.exp(2 * x.data))
    assert x.grad is None and hidden.grad is None


def test_autograd_grad_of_an_unused_input():
    x = tensor(1.0, requires_grad=True)
    unused = tensor(2.0, requires_grad=True)
    with pytest.raises(EagerError, match="allow_unused=True"):
        autograd.grad(x * 3, (x, unused), retain_graph=True)
    assert autograd.grad(x * 3, (x, unused), allow_unused=True)[1] is None


def test_only_floating_point_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        tensor([1, 2, 3], requires_grad=True)
    assert Tensor(np.arange(3.0), requires_grad=True).requires_grad
