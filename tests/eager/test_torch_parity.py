"""srcgrad against PyTorch (when installed): same values, gradients and errors in the scenarios.

Each scenario is written once against a small adapter of the two libraries.
"""
import numpy as np
import pytest

import srcgrad
import srcgrad.autograd as sg_autograd
from pytorch_scenarios import SCENARIOS as SURFACE_SCENARIOS
from pytorch_scenarios import assert_same as assert_same_surface
from srcgrad.eager import no_grad as sg_no_grad
from srcgrad.eager import tensor as sg_tensor

torch = pytest.importorskip("torch")


class SrcgradLib:
    name = "srcgrad"
    Function = sg_autograd.Function
    grad = staticmethod(sg_autograd.grad)
    no_grad = sg_no_grad
    exp = staticmethod(np.exp)

    @staticmethod
    def tensor(data, requires_grad=False):
        return sg_tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)

    @staticmethod
    def int_tensor(data, requires_grad=False):
        return sg_tensor(data, requires_grad=requires_grad)

    @staticmethod
    def value(t):
        return None if t is None else np.asarray(t.detach().data)


class TorchLib:
    name = "torch"
    Function = torch.autograd.Function
    grad = staticmethod(torch.autograd.grad)
    no_grad = torch.no_grad
    exp = staticmethod(torch.exp)

    @staticmethod
    def tensor(data, requires_grad=False):
        return torch.tensor(data, dtype=torch.float64, requires_grad=requires_grad)

    @staticmethod
    def int_tensor(data, requires_grad=False):
        return torch.tensor(data, requires_grad=requires_grad)

    @staticmethod
    def value(t):
        return None if t is None else t.detach().numpy()


# --- scenarios: each takes a lib and returns values to compare (arrays, names, error types) ----

def product_and_exponential(lib):
    a, b, c = (lib.tensor(v, requires_grad=True) for v in (2.0, 3.0, 0.5))
    y = a * a + b * lib.exp(c)
    y.backward()
    return [lib.value(y), lib.value(a.grad), lib.value(b.grad), lib.value(c.grad),
            y.grad_fn.name(), [n.name() for n, _ in y.grad_fn.next_functions]]


def square_times_exponential(lib):
    x = lib.tensor(np.linspace(-2, 2, 5), requires_grad=True)
    (x ** 2 * x.exp()).sum().backward()
    return [lib.value(x.grad)]


def abs_by_branch(lib):
    results = []
    for v in (3.0, -2.0):
        x = lib.tensor(v, requires_grad=True)
        y = x if x > 0 else -x
        y.backward()
        results.append(lib.value(x.grad))
    return results


def product_of_positive_entries(lib):
    x = lib.tensor([2.0, -1.0, 3.0, 0.5], requires_grad=True)
    product = lib.tensor(1.0)
    for i in range(4):
        if x[i] > 0:
            product = product * x[i]
    product.backward()
    return [lib.value(product), lib.value(x.grad)]


def weighted_backward(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x ** 3).backward(lib.tensor([0.5, -1.0, 2.0]))
    return [lib.value(x.grad)]


def retained_graph_accumulates(lib):
    x = lib.tensor(1.0, requires_grad=True)
    y = x * 1.0
    y.backward(retain_graph=True)
    first = lib.value(x.grad).copy()
    y.backward()
    return [first, lib.value(x.grad)]


def non_leaf_and_retained_grads(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    hidden, kept = x * 3, x * 4
    kept.retain_grad()
    (hidden * kept).sum().backward()
    return [hidden.grad is None, lib.value(kept.grad), lib.value(x.grad), hidden.is_leaf]


def second_derivative(lib):
    x = lib.tensor(5.0, requires_grad=True)
    (first,) = lib.grad(x ** 2, x, create_graph=True)
    (second,) = lib.grad(first, x)
    y = lib.tensor([0.3, 1.2], requires_grad=True)
    (g,) = lib.grad((y.tanh() * y).sum(), y, create_graph=True)
    (h,) = lib.grad(g.sum(), y)
    return [lib.value(first), lib.value(second), lib.value(h)]


def hooks(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    seen = []
    handle = y.register_hook(lambda g: seen.append(lib.value(g).copy()))
    x.register_hook(lambda g: g * 3)
    (y * y).sum().backward()
    handle.remove()
    return [seen[0], lib.value(x.grad)]


def no_grad_and_detach(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.no_grad():
        frozen = x * 2
    y = x * x
    (y * y.detach()).sum().backward()
    return [frozen.requires_grad, frozen.grad_fn is None, lib.value(x.grad)]


def grad_of_intermediate(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    hidden = x.exp()
    loss = (hidden * hidden).sum()
    grad_hidden, grad_x = lib.grad(loss, (hidden, x))
    return [lib.value(grad_hidden), lib.value(grad_x), x.grad is None]


def activations_and_reductions(lib):
    x = lib.tensor([-1.0, 0.0, 2.0, 2.0], requires_grad=True)
    parts = [x.relu().sum(), x.sigmoid().sum(), x.clamp(0.0, 1.5).sum(), x.max(),
             (x ** 2).mean(), x.abs().sum()]
    values = []
    for part in parts:
        (g,) = lib.grad(part, x, retain_graph=True)
        values += [lib.value(part), lib.value(g)]
    return values


def matmul_broadcasting(lib):
    rng = np.random.default_rng(0)
    w = lib.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    x = lib.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = lib.tensor(rng.normal(size=2), requires_grad=True)
    ((x @ w + b).tanh() ** 2).sum().backward()
    return [lib.value(w.grad), lib.value(x.grad), lib.value(b.grad)]


def index_assignment(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[0] = x[2] * 10
    y.sum().backward()
    return [lib.value(y), lib.value(x.grad), y.grad_fn is not None]


def custom_functions(lib):
    class MultiplyAdd(lib.Function):
        @staticmethod
        def forward(ctx, x, y, z):
            ctx.save_for_backward(x, y)
            return x * y + z

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y, grad * x, grad

    class Sigmoid(lib.Function):
        @staticmethod
        def forward(ctx, x):
            result = 1 / (1 + (-x).exp())
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result * (1 - result)

    x, y, z = (lib.tensor(v, requires_grad=True) for v in ([1.0, 2.0], [3.0, 4.0], [5.0, 6.0]))
    out = MultiplyAdd.apply(x, y, z)
    (Sigmoid.apply(out) * out).sum().backward()
    return [lib.value(out), lib.value(x.grad), lib.value(y.grad), lib.value(z.grad),
            out.grad_fn.name()]


SCENARIOS = [product_and_exponential, square_times_exponential, abs_by_branch,
             product_of_positive_entries, weighted_backward, retained_graph_accumulates,
             non_leaf_and_retained_grads, second_derivative, hooks, no_grad_and_detach,
             grad_of_intermediate, activations_and_reductions, matmul_broadcasting,
             index_assignment, custom_functions]


def assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if isinstance(b, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        else:
            assert a == b


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_same_values_and_gradients_as_pytorch(scenario):
    assert_same(scenario(SrcgradLib), scenario(TorchLib))


# --- errors: the same situations raise the same kind of error ---------------------------------

def backward_of_a_vector(lib):
    (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward()


def backward_twice(lib):
    x = lib.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    y.backward()


def changed_saved_value(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    y.sum().backward()


def in_place_on_a_leaf(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x.add_(1)


def integer_requires_grad(lib):
    lib.int_tensor([1, 2], requires_grad=True)


def unused_input(lib):
    x, unused = lib.tensor(1.0, requires_grad=True), lib.tensor(2.0, requires_grad=True)
    lib.grad(x * 3, (x, unused))


def numpy_of_a_tensor_that_requires_grad(lib):
    lib.tensor([1.0], requires_grad=True).numpy()


def wrong_number_of_gradients(lib):
    class TooFew(lib.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = lib.tensor(1.0, requires_grad=True)
    TooFew.apply(x, x).backward()


ERRORS = [(backward_of_a_vector, "grad can be implicitly created only for scalar outputs"),
          (backward_twice, "Trying to backward through the graph a second time"),
          (changed_saved_value, "modified by an inplace operation"),
          (in_place_on_a_leaf, "a leaf Variable that requires grad is being used in an in-place "
                               "operation"),
          (integer_requires_grad, "Only Tensors of floating point"),
          (unused_input, "appears to not have been used in the graph"),
          (numpy_of_a_tensor_that_requires_grad, "Can't call numpy() on Tensor that requires grad"),
          (wrong_number_of_gradients, "returned an incorrect number of gradients")]


@pytest.mark.parametrize("scenario, message", ERRORS, ids=[s.__name__ for s, _ in ERRORS])
def test_same_errors_as_pytorch(scenario, message):
    with pytest.raises(RuntimeError, match=message[:40].replace("(", r"\(").replace(")", r"\)")):
        scenario(TorchLib)
    with pytest.raises(RuntimeError, match=message[:40].replace("(", r"\(").replace(")", r"\)")):
        scenario(SrcgradLib)


# --- PyTorch's surface (factories, namespace, methods, dtypes, in-place rules ...) ------------

@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("scenario", SURFACE_SCENARIOS, ids=lambda s: s.__name__)
def test_surface_scenario_matches_pytorch(scenario):
    assert_same_surface(scenario(srcgrad), scenario(torch), scenario.__name__)


# ------------------------------------------------------------------------------------------------
# srcgrad.nn and srcgrad.optim against torch.nn and torch.optim: the same steps, the same numbers


def test_nn_layers_and_optimizers_agree_with_pytorch():
    import srcgrad.nn as nn
    from test_real_programs_3 import TwoLayerNet  # the PyTorch tutorial's model, on srcgrad.nn

    rng = np.random.default_rng(7)
    for make_ours, make_theirs in (
            (lambda ps: srcgrad.optim.Adam(ps, lr=0.01, weight_decay=0.001),
             lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.001)),
            (lambda ps: srcgrad.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
             lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True))):
        srcgrad.manual_seed(3)
        ours = TwoLayerNet(4, 6, 3).double()
        theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(),
                                     torch.nn.Linear(6, 3)).double()
        with torch.no_grad():
            for mine, other in zip(ours.parameters(), theirs.parameters()):
                other.copy_(torch.from_numpy(mine.detach().numpy().copy()))
        x, target = rng.standard_normal((8, 4)), np.array([0, 1, 2, 2, 1, 0, 0, 1])
        ours_opt, theirs_opt = make_ours(ours.parameters()), make_theirs(theirs.parameters())
        for _ in range(3):
            ours_opt.zero_grad()
            nn.CrossEntropyLoss()(ours(srcgrad.tensor(x)), srcgrad.tensor(target)).backward()
            ours_opt.step()
            theirs_opt.zero_grad()
            torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x)), torch.tensor(target)).backward()
            theirs_opt.step()
        for mine, other in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(mine.detach().numpy(), other.detach().numpy(),
                                       rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method, options", [
    ("var", dict(axis=0)), ("std", dict(axis=1, keepdims=True)), ("amax", dict(axis=0)),
    ("logsumexp", dict(axis=1)), ("softmax", dict(axis=1)), ("log_softmax", dict(axis=0)),
    ("cumsum", dict(dim=1)), ("cumprod", dict(dim=0)), ("var", dict(dim=1, keepdims=True))])
def test_numpy_style_axis_and_keepdims_and_cumulative_methods_agree_with_pytorch(method, options):
    rng = np.random.default_rng(8)
    a = rng.standard_normal((3, 4))
    ours, theirs = srcgrad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out_ours, out_theirs = getattr(ours, method)(**options), getattr(theirs, method)(**options)
    weights = rng.standard_normal(tuple(out_theirs.shape))
    (out_ours * srcgrad.tensor(weights)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
