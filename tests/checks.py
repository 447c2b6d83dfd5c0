"""The one checking helper every test uses: srcgrad's derivatives against central differences."""
import numpy as np

import srcgrad as sg


def numeric_gradient(f, args, position, eps=1e-6):
    """Central differences of scalar ``f(*args)`` with respect to ``args[position]``."""
    args = list(args)
    x = args[position]
    if np.ndim(x) == 0:
        up, down = list(args), list(args)
        up[position], down[position] = x + eps, x - eps
        return (f(*up) - f(*down)) / (2 * eps)
    x = np.array(x, dtype=float)
    gradient = np.zeros_like(x)
    for k in range(x.size):
        step = np.zeros_like(x)
        step.flat[k] = eps
        args[position] = x + step
        high = f(*args)
        args[position] = x - step
        low = f(*args)
        gradient.flat[k] = (high - low) / (2 * eps)
    args[position] = x
    return gradient


def check_grad(f, *args, wrt=None, rtol=1e-5, atol=1e-7):
    """Assert that srcgrad's gradient of ``f`` matches central differences for each ``wrt``."""
    positions = tuple(range(len(args))) if wrt is None else (
        wrt if isinstance(wrt, tuple) else (wrt,))
    gradients = sg.grad(f, wrt=positions)(*args)
    for position, gradient in zip(positions, gradients):
        expected = numeric_gradient(f, args, position)
        assert np.shape(gradient) == np.shape(args[position]), (
            f"gradient for argument {position} has shape {np.shape(gradient)}, "
            f"expected {np.shape(args[position])}")
        np.testing.assert_allclose(gradient, expected, rtol=rtol, atol=atol,
                                   err_msg=f"gradient for argument {position}")
    return gradients
