"""The passes of issue 17 that shorten generated code (fold.py, invariance.py, batch.py): where
they apply, and that the gradients stay right where they do and where they must not."""
import numpy as np
import pytest

import srcgrad as sg
from checks import check_grad

rng = np.random.default_rng(17)


# --- the seed of grad ------------------------------------------------------------------------

def squares(x):
    return np.sum(x * x)


def identity_of_a_number(x):
    return x * 1.0


def test_the_seed_is_folded_where_the_output_is_a_number():
    x = rng.normal(size=5)
    source = sg.source(sg.grad(squares), x)
    assert "scalar_seed" not in source and "dresult" not in source and "= np.sum" not in source
    check_grad(squares, x)


def test_the_value_of_value_and_grad_is_still_computed():
    x = rng.normal(size=5)
    value, gradient = sg.value_and_grad(squares)(x)
    assert value == pytest.approx(np.sum(x * x))
    np.testing.assert_allclose(gradient, 2 * x)


def test_the_seed_stays_where_it_only_meets_numbers():
    source = sg.source(sg.grad(identity_of_a_number), 2.0)
    assert "scalar_seed" in source  # its dtype is the output's: 1.0 would not say so
    assert sg.grad(identity_of_a_number)(np.float32(2.0)).dtype == np.float32


def test_a_non_scalar_output_is_still_refused():
    with pytest.raises(sg.NonScalarOutput):
        sg.grad(lambda x: x * 2.0)(np.ones(3))


# --- shift invariance ------------------------------------------------------------------------

def softmax_xent(logits, label):
    shifted = logits - np.max(logits)
    return np.log(np.sum(np.exp(shifted))) - shifted[label]


def softmax_pick(logits, label):
    e = np.exp(logits - np.max(logits))
    p = e / np.sum(e)
    return np.log(p[label])


def not_invariant(logits, label):
    shifted = logits - np.max(logits)
    return np.sum(shifted ** 2) + shifted[label]


def row_shift(logits, label):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(shifted), axis=1)) - shifted[:, label])


def max_read_elsewhere(logits, label):
    top = np.max(logits)
    shifted = logits - top
    return np.log(np.sum(np.exp(shifted))) - shifted[label] + top * top


@pytest.mark.parametrize("function", [softmax_xent, softmax_pick])
def test_the_max_of_a_shift_nothing_else_notices_gets_no_adjoint(function):
    logits = rng.normal(size=7)
    source = sg.source(sg.grad(function), logits, 3)
    assert "count_of" not in source and "==" not in source
    check_grad(function, logits, 3, wrt=0)


def test_ties_at_the_maximum_give_softmax_minus_onehot():
    logits = np.array([1.0, 3.0, 3.0, -2.0])
    gradient = sg.grad(softmax_xent)(logits, 0)
    expected = np.exp(logits) / np.sum(np.exp(logits))
    expected[0] -= 1.0
    np.testing.assert_allclose(gradient, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("function", [not_invariant, max_read_elsewhere])
def test_the_max_keeps_its_adjoint_where_the_output_notices_the_shift(function):
    logits = rng.normal(size=6)
    source = sg.source(sg.grad(function), logits, 2)
    assert "count_of" in source
    check_grad(function, logits, 2, wrt=0)


def test_a_shift_by_an_array_is_left_alone():
    logits = rng.normal(size=(3, 5))
    check_grad(row_shift, logits, 1, wrt=0)


# --- an adjoint started from its first dense part -------------------------------------------

def test_a_sparse_update_moves_after_the_dense_start():
    logits = rng.normal(size=6)
    source = sg.source(sg.grad(softmax_xent), logits, 2)
    assert "zeros_like" not in source
    assert source.index("np.exp") < source.index("add_at")
