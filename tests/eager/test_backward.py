"""The backward pass: accumulation, hooks, retain_grad, autograd.grad, graphs of any depth."""
import threading

import numpy as np
import pytest

import srcgrad.autograd as autograd
from srcgrad.eager import (
    EagerError,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    tensor,
)


def test_gradients_accumulate_over_backward_calls_until_zeroed():
    x = tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    held = x.grad
    (x * x).sum().backward()
    assert x.grad is held  # accumulated in place, as PyTorch does
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * x.data)
    x.grad.zero_()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_a_value_used_twice_gets_the_sum_of_both_gradients():
    x = tensor(3.0, requires_grad=True)
    y = x * x
    z = y + y * x  # x^2 + x^3
    z.backward()
    assert x.grad.item() == 2 * 3 + 3 * 9


def test_backward_of_a_leaf_itself():
    x = tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_hooks_on_a_leaf_run_before_accumulation_and_can_be_removed():
    x = tensor([1.0, -1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_a_hook_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tensor(1.0).register_hook(print)


def test_hook_on_an_intermediate_changes_what_flows_upstream():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = x ** 2
    y.register_hook(lambda g: g * 0 + 1)  # pretend dL/dy is 1 everywhere
    (y * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.data)


def test_retain_grad_accumulates_like_a_leaf():
    x = tensor(2.0, requires_grad=True)
    y = x * 3
    y.retain_grad()
    assert y.retains_grad
    z = y * y
    z.backward(retain_graph=True)
    z.backward()
    assert y.grad.item() == 2 * (2 * 6.0)


def test_autograd_grad_with_grad_outputs_and_several_outputs():
    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    first, second = x * 2, x ** 2
    (g,) = autograd.grad((first, second), x, grad_outputs=(np.ones(3), np.array([1.0, 0.0, 1.0])))
    np.testing.assert_allclose(g.numpy(), 2 + np.array([2.0, 0.0, 6.0]))


def test_autograd_grad_refuses_an_input_that_does_not_require_grad():
    x = tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad(x * 2, tensor(1.0))


def test_autograd_grad_runs_only_what_the_inputs_need():
    x = tensor(1.0, requires_grad=True)
    other = tensor(1.0, requires_grad=True)
    loss = x * 2 + other.exp()
    (g,) = autograd.grad(loss, x)
    assert g.item() == 2.0 and other.grad is None and x.grad is None


def test_a_long_chain_does_not_hit_the_recursion_limit():
    x = tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 5000)


def test_create_graph_keeps_the_graph_of_grad():
    x = tensor([0.3, 0.9], requires_grad=True)
    (x.exp() * x).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first.grad_fn is not None
    (second,) = autograd.grad(first.sum(), x)
    np.testing.assert_allclose(second.numpy(), (x.data + 2) * np.exp(x.data))


# --- grad mode ------------------------------------------------------------------------------

def test_no_grad_enable_grad_and_set_grad_enabled_nest():
    x = tensor(1.0, requires_grad=True)
    with no_grad():
        assert not is_grad_enabled() and not (x * 2).requires_grad
        with enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert is_grad_enabled()
    with set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_set_grad_enabled_as_a_call_and_no_grad_as_a_decorator():
    x = tensor(1.0, requires_grad=True)
    set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        set_grad_enabled(True)
    assert (x * 2).requires_grad

    @no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad and is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with no_grad():
        worker = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        worker.start()
        worker.join()
        assert not is_grad_enabled()
    assert seen == [True]


def test_in_place_update_of_a_leaf_under_no_grad():
    w = tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.data, [0.8, 1.6])
    with pytest.raises(EagerError, match="a leaf Variable that requires grad is being used in an "
                                         "in-place operation"):
        w += 1
