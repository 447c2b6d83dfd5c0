"""gradcheck/gradgradcheck on Tensors and on plain NumPy functions (the generated derivatives)."""
import numpy as np
import pytest

import srcgrad.autograd as autograd
from srcgrad.eager import tensor
from srcgrad.gradcheck import GradcheckError, gradcheck, gradgradcheck


def softplus_loss(w, x):
    return np.sum(np.log1p(np.exp(x @ w)))


def test_plain_numpy_function_checks_the_generated_derivative():
    rng = np.random.default_rng(0)
    assert gradcheck(softplus_loss, (rng.normal(size=3), rng.normal(size=(5, 3))))
    assert gradcheck(scaled_tanh, (2.0, rng.normal(size=4)))


def scaled_tanh(a, x):
    return a * np.tanh(x)


def test_plain_numpy_wrt_selects_inputs():
    assert gradcheck(softplus_loss, (np.ones(3), np.eye(3)), wrt=0)


class CubeWithWrongBackward(autograd.Function):
    """x**3, whose backward claims 3x instead of 3x**2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x


def cube(side):
    return CubeWithWrongBackward.apply(side)


def test_mismatch_names_the_input_and_the_worst_element():
    x = tensor([1.0, 2.0, 3.0], dtype=np.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as error:
        gradcheck(cube, (x,))
    message = str(error.value)
    assert "with respect to input 0 ('side'), of shape (3,)" in message
    assert "d output[2] / d side[2]: analytical 9 vs numerical 27 " in message


def test_float32_inputs_warn():
    x = tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        gradcheck(lambda t: t * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_no_input_requires_grad():
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda t: t * 2, (tensor([1.0]),))


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class WrongCurvature(autograd.Function):
        """sin with a backward whose own derivative is wrong: the first derivative is right at
        the checked points only through a constant, so gradcheck passes and gradgradcheck not."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            # cos(x) computed as cos(x.detach()): right value, no second derivative
            return grad * np.cos(x.detach())

    x = tensor([0.3, 1.1], dtype=np.float64, requires_grad=True)
    assert gradcheck(WrongCurvature.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(WrongCurvature.apply, (x,))


def test_gradgradcheck_needs_tensors():
    with pytest.raises(TypeError, match="eager Tensors"):
        gradgradcheck(softplus_loss, (np.ones(3), np.eye(3)))
