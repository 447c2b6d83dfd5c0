"""srcgrad.checkpoint on eager Tensors: one tape node per call that keeps the inputs and runs
the function again in backward; the gradients are those without it."""
import numpy as np

import srcgrad as sg


def step(x, w):
    a = sg.tanh(x * w)
    return a * a + x


def run(checkpointed):
    x = sg.tensor([0.3, -0.5, 1.0], requires_grad=True)
    w = sg.tensor(0.7, requires_grad=True)
    y = x
    for _ in range(3):
        y = sg.checkpoint(step)(y, w) if checkpointed else step(y, w)
    y.sum().backward()
    return x.grad.numpy(), w.grad.item(), y


def test_checkpointed_eager_gradients_equal_the_plain_ones():
    dx, dw, _ = run(True)
    dx_plain, dw_plain, _ = run(False)
    np.testing.assert_allclose(dx, dx_plain, rtol=1e-13)
    assert abs(dw - dw_plain) < 1e-13 * abs(dw_plain)


def test_the_tape_holds_one_node_per_checkpointed_call():
    _, _, y = run(True)
    assert type(y.grad_fn).__name__ == "CheckpointFunctionBackward"
    previous = [f for f, _ in y.grad_fn.next_functions if f is not None]
    assert any(type(f).__name__ == "CheckpointFunctionBackward" for f in previous)


def test_without_grad_it_is_a_plain_call():
    with sg.no_grad():
        y = sg.checkpoint(step)(sg.tensor([0.5]), 2.0)
    assert y.grad_fn is None
    np.testing.assert_allclose(y.numpy(), np.tanh(1.0) ** 2 + 0.5)
