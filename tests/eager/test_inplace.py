"""In-place changes: version counters, the error for a changed saved value, index assignment."""
import numpy as np
import pytest

import srcgrad as sg
from srcgrad.eager import EagerError, InplaceModifiedError, tensor
from srcgrad.gradcheck import gradcheck, gradgradcheck


def test_in_place_change_of_a_value_saved_for_backward_is_caught():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # exp's rule reads its result
    y.add_(1)
    with pytest.raises(InplaceModifiedError,
                       match="one of the variables needed for gradient computation has been "
                             "modified by an inplace operation.*ExpBackward0.*version 1; "
                             "expected version 0"):
        y.sum().backward()


def test_in_place_change_of_a_saved_input_is_caught():
    x = tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = h * h  # multiply saves its inputs
    h.mul_(2)
    with pytest.raises(InplaceModifiedError, match="MulBackward0"):
        y.sum().backward()


def test_changing_a_result_nobody_saved_is_fine_and_rewrites_its_history():
    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[0] = x[2] * 10  # y = [10 x2, 2 x1, 2 x2]
    y += x  # y = [10 x2 + x0, 3 x1, 3 x2]
    assert y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 3.0, 13.0])


def test_version_counter_counts_in_place_changes_and_is_shared_with_detach():
    x = tensor([1.0, 2.0])
    alias = x.detach()
    x.add_(1)
    x.mul_(2)
    x[0] = 0
    assert x._version == alias._version == 3
    np.testing.assert_allclose(alias.data, [0.0, 6.0])


def test_a_view_shares_the_version_of_its_base():
    x = tensor([1.0, 2.0, 3.0], dtype=np.float64, requires_grad=True)
    base = x * 1.0
    row = base[1:]
    y = row.sin()  # sin's backward reads its input, the view
    base.data[1] = 5.0  # writes to .data are not tracked, as in PyTorch
    y.sum().backward(retain_graph=True)
    base[0] = 7.0  # tracked, and it is seen through the view that sin saved
    with pytest.raises(InplaceModifiedError):
        y.sum().backward()


def test_fill_zero_and_copy_are_recorded_assignments():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.zero_()
    z = x * 1.0
    z.copy_(x ** 2)
    (y + z).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.data)


def test_ufunc_with_out_changes_a_tensor_in_place():
    x = tensor([0.5, 1.0], requires_grad=True)
    y = x * 1.0
    np.exp(y, out=y)
    assert y.grad_fn.name() == "ExpBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.data))


def index_assignment(x, v):
    y = x * 1.0
    y[1:, [0, 2]] = v * v
    return y * x


def test_index_assignment_has_first_and_second_derivatives():
    rng = np.random.default_rng(3)
    x = tensor(rng.normal(size=(3, 4)), requires_grad=True)
    v = tensor(rng.normal(size=(2, 1)), requires_grad=True)
    assert gradcheck(index_assignment, (x, v))
    assert gradgradcheck(index_assignment, (x, v))


def test_add_at_accumulates_repeated_indices_with_gradients():
    x = tensor(np.zeros(3))
    v = tensor([1.0, 2.0, 3.0], requires_grad=True)
    np.add.at(x, [0, 0, 2], v)
    np.testing.assert_allclose(x.data, [3.0, 0.0, 3.0])
    (x * tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [1.0, 1.0, 100.0])


def test_writing_a_tensor_that_requires_grad_into_a_numpy_array_is_refused():
    # acc = np.zeros(...); acc += t would compute into the array and lose the gradient
    x = sg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    acc = np.zeros((3, 3))
    with pytest.raises(EagerError, match="would drop its gradient"):
        acc += np.outer(x, x)
    with pytest.raises(EagerError, match="would drop its gradient"):
        np.multiply(x, 2.0, out=acc[0])
    with pytest.raises(EagerError, match="add.at writes a Tensor .* would drop its gradient"):
        np.add.at(acc[0], [0, 0, 2], x)
    with pytest.raises(EagerError, match="subtract.at writes a Tensor"):
        np.subtract.at(acc[0], [0, 0, 2], x)
    with sg.no_grad():
        acc += np.outer(x, x)  # nothing is recorded, so nothing is lost
    np.testing.assert_allclose(acc, np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]))


def test_numpy_copy_of_a_tensor_is_a_clone_in_the_graph():
    x = sg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.copy()
    y[0] = 5.0  # changes the copy only
    (y * x).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 4.0])  # d/dx of 5 x0 + y1 x1, y1 a copy of x1
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 2.0])
