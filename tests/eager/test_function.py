"""Custom Functions: forward/backward, saved tensors, needs_input_grad, gradcheck on them."""
import numpy as np
import pytest

import srcgrad.autograd as autograd
from srcgrad.eager import EagerError, GraphFreedError, InplaceModifiedError, tensor
from srcgrad.gradcheck import GradcheckError, gradcheck, gradgradcheck


class MultiplyAdd(autograd.Function):
    @staticmethod
    def forward(ctx, x, y, z):
        ctx.save_for_backward(x, y)
        return x * y + z

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * y, grad * x, grad


class Sigmoid(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(result)  # an output, saved for backward
        return result

    @staticmethod
    def backward(ctx, grad):
        (result,) = ctx.saved_tensors
        return grad * result * (1 - result)


class WrongSquare(autograd.Function):
    """x**2 with a deliberately wrong backward (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x


class ScaleBy(autograd.Function):
    """A Python number among the inputs: its gradient is None."""

    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return x * factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


rng = np.random.default_rng(5)


def leaf(*shape):
    return tensor(rng.normal(size=shape), requires_grad=True)


def test_multiply_add_values_and_gradients():
    x, y, z = tensor(2.0, requires_grad=True), tensor(3.0, requires_grad=True), tensor(
        4.0, requires_grad=True)
    out = MultiplyAdd.apply(x, y, z)
    assert out.item() == 10.0 and out.grad_fn.name() == "MultiplyAddBackward"
    out.backward()
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (3.0, 2.0, 1.0)


def test_custom_functions_pass_gradcheck_and_gradgradcheck():
    assert gradcheck(MultiplyAdd.apply, (leaf(3, 2), leaf(3, 2), leaf(2)))
    assert gradgradcheck(MultiplyAdd.apply, (leaf(3), leaf(3), leaf(3)))
    assert gradcheck(Sigmoid.apply, (leaf(4),))
    assert gradgradcheck(Sigmoid.apply, (leaf(4),))


def test_a_wrong_backward_fails_gradcheck_naming_the_input():
    with pytest.raises(GradcheckError, match=r"with respect to input 0.*analytical .* vs "
                                             r"numerical"):
        gradcheck(WrongSquare.apply, (leaf(3),))
    assert gradcheck(WrongSquare.apply, (leaf(3),), raise_exception=False) is False


def test_needs_input_grad_and_none_for_a_constant():
    seen = []

    class Probe(autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            seen.append(ctx.needs_input_grad)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    x = tensor(1.0, requires_grad=True)
    Probe.apply(x, tensor(2.0)).backward()
    assert seen == [(True, False)] and x.grad.item() == 1.0

    y = ScaleBy.apply(x, 4.0)
    x.grad = None
    y.backward()
    assert x.grad.item() == 4.0


def test_forward_is_not_recorded_and_inputs_without_grad_record_nothing():
    x = tensor([1.0, 2.0], requires_grad=True)
    out = MultiplyAdd.apply(x, x, x)
    assert out.grad_fn.name() == "MultiplyAddBackward"
    assert [type(n).__name__ for n, _ in out.grad_fn.next_functions] == ["AccumulateGrad"] * 3
    plain = MultiplyAdd.apply(tensor(1.0), tensor(2.0), tensor(3.0))
    assert plain.grad_fn is None and not plain.requires_grad


def test_wrong_number_of_gradients_is_an_error():
    class TooFew(autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = tensor(1.0, requires_grad=True)
    with pytest.raises(EagerError, match=r"returned an incorrect number of gradients \(expected "
                                         r"2, got 1\)"):
        TooFew.apply(x, x).backward()


def test_wrong_gradient_shape_is_an_error():
    class Wrong(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad  # should be broadcast to x's shape

    with pytest.raises(EagerError, match=r"WrongBackward returned a gradient of shape \(\) for "
                                         r"its input 0, of shape \(3,\)"):
        Wrong.apply(leaf(3)).backward()


def test_saved_tensors_are_freed_and_version_checked():
    x = leaf(3)
    y = Sigmoid.apply(x)
    y.sum().backward()
    with pytest.raises(GraphFreedError):
        y.sum().backward()
    h = x * 1.0
    out = MultiplyAdd.apply(h, h, h)
    h.add_(1)
    with pytest.raises(InplaceModifiedError, match="MultiplyAddBackward"):
        out.sum().backward()


def test_several_outputs_and_an_unused_one():
    class SplitHalves(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:2] * 1.0, x[2:] * 1.0

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            return np.concatenate([grad_first.data, grad_second.data])

    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    first, second = SplitHalves.apply(x)
    assert first.grad_fn is second.grad_fn and second._output_nr == 1
    (first * 5).sum().backward()  # the unused output gets a zero gradient
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0, 0.0])
