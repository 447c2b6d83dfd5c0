"""Train an MLP whose parameters live in a dict, on scikit-learn's bundled 8x8 digits.

The loss returns ``(loss, accuracy)``; ``sg.value_and_grad(..., has_aux=True)`` gives the loss,
the accuracy and the gradient (a dict shaped like the parameters) from one pass. Prints the test
accuracy and the time per training step, beside PyTorch and HIPS autograd where installed.

    pip install -e ".[examples]" && python examples/mlp_digits.py
"""
import time

import numpy as np

import srcgrad as sg


def init_params(sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"W{k}"] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        params[f"b{k}"] = np.zeros(n_out)
    return params


def loss_and_accuracy(params, x, labels):
    hidden = np.tanh(x @ params["W0"] + params["b0"])
    logits = hidden @ params["W1"] + params["b1"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.mean(log_probs[np.arange(labels.shape[0]), labels])
    accuracy = np.mean(np.argmax(logits, axis=1) == labels)
    return loss, accuracy


def load_data():
    from sklearn.datasets import load_digits  # bundled with scikit-learn: nothing is downloaded
    digits = load_digits()
    x = digits.data / 16.0
    order = np.random.default_rng(1).permutation(len(x))
    x, labels = x[order], digits.target[order]
    split = int(0.8 * len(x))
    return (x[:split], labels[:split]), (x[split:], labels[split:])


def train(steps=300, batch=64, learning_rate=0.5, seed=0):
    """Plain SGD with srcgrad; returns (params, test accuracy, seconds per step)."""
    (x_train, y_train), (x_test, y_test) = load_data()
    params = init_params([64, 32, 10], seed)
    step = sg.value_and_grad(loss_and_accuracy, has_aux=True)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(steps):
        chosen = rng.integers(0, len(x_train), batch)
        (loss, accuracy), gradient = step(params, x_train[chosen], y_train[chosen])
        params = {name: value - learning_rate * gradient[name] for name, value in params.items()}
    seconds = (time.perf_counter() - start) / steps
    _, test_accuracy = loss_and_accuracy(params, x_test, y_test)
    return params, test_accuracy, seconds


def torch_seconds_per_step(steps=300, batch=64, learning_rate=0.5):
    """The same training step written for PyTorch eager, timed the same way, or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)  # one thread, as NumPy's matrix products here: a fair comparison
    (x_train, y_train), _ = load_data()
    x_all, y_all = torch.tensor(x_train), torch.tensor(y_train)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in init_params([64, 32, 10]).items()}
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(steps):
        chosen = torch.tensor(rng.integers(0, len(x_train), batch))
        x, y = x_all[chosen], y_all[chosen]
        logits = torch.tanh(x @ params["W0"] + params["b0"]) @ params["W1"] + params["b1"]
        loss = torch.nn.functional.cross_entropy(logits, y)
        grads = torch.autograd.grad(loss, list(params.values()))
        with torch.no_grad():
            params = {k: (v - learning_rate * g).requires_grad_()
                      for (k, v), g in zip(params.items(), grads)}
    return (time.perf_counter() - start) / steps


def autograd_seconds_per_step(steps=300, batch=64, learning_rate=0.5):
    """The same step with HIPS autograd, or None where it is not installed."""
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None

    def loss(params, x, labels):
        logits = anp.tanh(x @ params["W0"] + params["b0"]) @ params["W1"] + params["b1"]
        shifted = logits - anp.max(logits, axis=1, keepdims=True)
        log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(log_probs[anp.arange(labels.shape[0]), labels])

    (x_train, y_train), _ = load_data()
    params = init_params([64, 32, 10])
    gradient_of = autograd.grad(loss)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(steps):
        chosen = rng.integers(0, len(x_train), batch)
        gradient = gradient_of(params, x_train[chosen], y_train[chosen])
        params = {k: v - learning_rate * gradient[k] for k, v in params.items()}
    return (time.perf_counter() - start) / steps


def main():
    _, accuracy, seconds = train()
    print(f"srcgrad:       test accuracy {accuracy:.3f}, {seconds * 1e6:.0f} us per step")
    for name, timing in (("PyTorch eager", torch_seconds_per_step),
                         ("HIPS autograd", autograd_seconds_per_step)):
        measured = timing()
        if measured is None:
            print(f"{name}: not installed")
        else:
            print(f"{name}: {measured * 1e6:.0f} us per step ({measured / seconds:.1f}x srcgrad)")


if __name__ == "__main__":
    main()
