"""srcgrad.checkpoint: the derivative keeps a checkpointed function's arguments only and runs it
again in the backward sweep; the values are those without it, in every mode."""
import numpy as np
import pytest

import srcgrad as sg
from checks import check_grads


def step(x, dt):
    a = np.tanh(x)
    b = np.sin(a) * x
    return x + dt * (a + b + np.exp(-b * b))


def simulate(x, dt):
    for _ in range(4):
        x = sg.checkpoint(step)(x, dt)
    return np.sum(x * x)


def simulate_plain(x, dt):
    for _ in range(4):
        x = step(x, dt)
    return np.sum(x * x)


@sg.checkpoint
def decorated_step(x, w):
    return np.tanh(x * w) + x


def simulate_decorated(x, w):
    for _ in range(3):
        x = decorated_step(x, w)
    return np.sum(x ** 2)


X = np.array([0.3, -0.5, 1.0])


def test_checkpointed_gradients_equal_the_plain_ones_in_every_mode():
    check_grads(simulate, X, 0.1, order=2, eager=True)
    check_grads(simulate_decorated, X, 0.7, order=2, eager=True)
    (dx, ddt), (dx_plain, ddt_plain) = (sg.grad(f, wrt=(0, 1))(X, 0.1)
                                        for f in (simulate, simulate_plain))
    np.testing.assert_allclose(dx, dx_plain, rtol=1e-13)
    assert ddt == pytest.approx(ddt_plain, rel=1e-13)
    value, _ = sg.value_and_grad(simulate)(X, 0.1)
    assert value == pytest.approx(simulate_plain(X, 0.1), rel=1e-15)


def test_the_adjoint_runs_the_function_again_and_keeps_only_its_arguments():
    code = sg.source(sg.grad(simulate), X, 0.1)
    main = code.split("\n\n\ndef ")[0]
    assert "x = sg.checkpoint(step)(x, dt)" in main  # the primal calls it as written
    assert "step_adjoint(dx, x_prev, dt)" in main  # the adjoint runs it again
    assert "pullback" not in main  # no closure keeps its inside alive
    assert main.count("stack.append(") == 1  # one saved value per step: its argument
    assert "def step_adjoint(dresult, x, dt):" in code


def test_grad_of_a_checkpointed_function_is_its_gradient():
    np.testing.assert_allclose(sg.grad(decorated_step)(0.4, 2.0),
                               2.0 * (1 - np.tanh(0.8) ** 2) + 1.0, rtol=1e-13)


def test_checkpoint_of_something_that_is_not_a_function_of_yours_is_refused():
    def f(x):
        return np.sum(sg.checkpoint(np.sin)(x))
    with pytest.raises(sg.UnsupportedSyntax) as raised:
        sg.grad(f)(X)
    assert "srcgrad.checkpoint of np.sin" in str(raised.value)
    assert __file__ in str(raised.value)
    with pytest.raises(TypeError, match="takes a function"):
        sg.checkpoint(3.0)
