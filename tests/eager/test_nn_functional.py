"""srcgrad.nn.functional: losses and activations against their closed forms and gradcheck."""
import numpy as np
import pytest

import srcgrad
import srcgrad.nn.functional as F
from srcgrad.gradcheck import gradcheck

rng = np.random.default_rng(5)
LOGITS = rng.standard_normal((4, 3))
CLASSES = np.array([2, 0, 1, 2])


def log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def test_cross_entropy_is_the_mean_negative_log_probability_of_the_class():
    logits = srcgrad.tensor(LOGITS, requires_grad=True)
    loss = F.cross_entropy(logits, srcgrad.tensor(CLASSES))
    expected = -log_softmax(LOGITS)[np.arange(4), CLASSES].mean()
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()  # d/dlogits = (softmax - onehot) / n
    onehot = np.eye(3)[CLASSES]
    np.testing.assert_allclose(logits.grad.numpy(), (np.exp(log_softmax(LOGITS)) - onehot) / 4,
                               rtol=1e-12)


def test_nll_loss_weights_classes_and_ignores_an_index():
    log_p = srcgrad.tensor(log_softmax(LOGITS))
    weight = np.array([0.5, 2.0, 1.0])
    loss = F.nll_loss(log_p, srcgrad.tensor(CLASSES), weight=srcgrad.tensor(weight),
                      ignore_index=0)
    kept = CLASSES != 0
    picked = -log_softmax(LOGITS)[np.arange(4), CLASSES] * weight[CLASSES]
    assert loss.item() == pytest.approx(picked[kept].sum() / weight[CLASSES][kept].sum())


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")
def test_binary_cross_entropy_and_its_logits_version_agree():
    target = srcgrad.tensor(np.array([0.0, 1.0, 1.0, 0.0]))
    x = LOGITS[:, 0]
    p = 1 / (1 + np.exp(-x))
    expected = -np.mean(target.numpy() * np.log(p) + (1 - target.numpy()) * np.log(1 - p))
    from_probabilities = F.binary_cross_entropy(srcgrad.tensor(x).sigmoid(), target)
    from_logits = F.binary_cross_entropy_with_logits(srcgrad.tensor(x), target)
    assert from_probabilities.item() == pytest.approx(expected, rel=1e-12)
    assert from_logits.item() == pytest.approx(expected, rel=1e-12)
    # PyTorch clamps each log at -100, so a certain wrong answer costs 100, not inf.
    certain = F.binary_cross_entropy(srcgrad.tensor([0.0]), srcgrad.tensor([1.0]))
    assert certain.item() == 100.0


def test_mse_and_l1_losses_with_their_reductions():
    a, b = srcgrad.tensor(LOGITS), srcgrad.tensor(LOGITS[::-1].copy())
    difference = LOGITS - LOGITS[::-1]
    assert F.mse_loss(a, b).item() == pytest.approx(np.mean(difference ** 2))
    assert F.mse_loss(a, b, reduction="sum").item() == pytest.approx(np.sum(difference ** 2))
    np.testing.assert_allclose(F.l1_loss(a, b, reduction="none").numpy(), np.abs(difference))
    with pytest.raises(RuntimeError, match="the target size"):
        F.mse_loss(a, b[0])


@pytest.mark.parametrize("loss", [
    lambda x: F.cross_entropy(x, srcgrad.tensor(CLASSES), label_smoothing=0.1),
    lambda x: F.binary_cross_entropy_with_logits(x, srcgrad.tensor(np.ones((4, 3)) * 0.3)),
    lambda x: F.linear(x, x[:2], x[0, :2]).tanh().sum(),
    lambda x: F.mse_loss(F.softmax(x, 1), F.log_softmax(x, 0).exp()),
], ids=["cross_entropy smoothed", "bce with logits", "linear", "mse of softmaxes"])
def test_loss_gradients_match_central_differences(loss):
    assert gradcheck(loss, (srcgrad.tensor(LOGITS, requires_grad=True),))
