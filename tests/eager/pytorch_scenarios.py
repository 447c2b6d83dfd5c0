"""Scenarios of PyTorch's surface, each written once against a module ``T``: srcgrad or torch.

Each returns plain Python values (numbers, nested lists, strings, flags, error kinds and texts),
so that srcgrad's results can be compared with torch's live (test_torch_parity.py) and with
torch's results recorded in test_pytorch_surface.py (no torch needed there).
"""
import numpy as np


def assert_same(ours, theirs, path="result"):
    """Equal results; numbers to a relative 1e-5 (float32 results of NumPy and PyTorch differ
    in the last bits); PyTorch's names without its "torch." and "torch::autograd::" prefixes."""
    theirs = _without_torch_prefix(theirs)
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), \
            f"{path}: {ours!r} != {theirs!r}"
        for k, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{k}]")
    elif isinstance(theirs, float) and not isinstance(ours, bool):
        assert isinstance(ours, (float, int)), f"{path}: {ours!r} != {theirs!r}"
        assert (np.isnan(ours) and np.isnan(theirs)) or np.isclose(ours, theirs, rtol=1e-5,
                                                                   atol=1e-6), \
            f"{path}: {ours!r} != {theirs!r}"
    else:
        assert ours == theirs and type(ours) is type(theirs), f"{path}: {ours!r} != {theirs!r}"


def _without_torch_prefix(value):
    if isinstance(value, str):
        return value.replace("torch::autograd::", "").replace("torch.", "srcgrad.")
    if isinstance(value, tuple) and type(value) is not tuple:  # torch.Size
        return list(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_without_torch_prefix(v) for v in value)
    return value


def values(t):
    """A tensor's numbers as nested lists (None for None)."""
    return None if t is None else t.detach().cpu().numpy().tolist()


def error_of(function, chars=60):
    """(the kind of error, the first ``chars`` characters of its message) or None."""
    try:
        function()
    except Exception as error:  # noqa: BLE001  (any error is a result to compare)
        kind = "RuntimeError" if isinstance(error, RuntimeError) else type(error).__name__
        return kind, str(error)[:chars]
    return None


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def rng_data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- factories and the namespace ----------------------------------------------------------------

def factories(T):
    made = [T.ones(2, 3), T.zeros((2,)), T.full((2, 2), 1.5), T.eye(3), T.arange(5),
            T.arange(0, 1, 0.25), T.arange(1, 7, 2), T.linspace(0, 1, 5), T.zeros(2, 1),
            T.tensor([1, 2]), T.tensor([1.0, 2.5]), T.tensor(True), T.tensor(3.5),
            T.tensor([[1, 2]], dtype=T.float64), T.full((2,), 3)]
    x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    likes = [T.zeros_like(x), T.ones_like(x), T.full_like(x, 7.0), T.empty_like(x)]
    array = np.arange(4.0)
    shared = T.from_numpy(array)
    array[0] = 10.0
    random = [T.rand(3, 2), T.randn(4), T.rand_like(x), T.randn_like(x), T.empty(2, 1)]
    return ([values(t) for t in made] + [dtype_name(t) for t in made]
            + [values(t) for t in likes if t is not likes[-1]] + [dtype_name(t) for t in likes]
            + [t.requires_grad for t in likes] + [values(shared), dtype_name(shared)]
            + [tuple(t.shape) for t in random] + [dtype_name(t) for t in random]
            + [bool(((random[0] >= 0) & (random[0] < 1)).all())]
            + [T.ones(2, requires_grad=True).requires_grad, T.get_default_dtype() == T.float32])


def manual_seed_repeats(T):
    T.manual_seed(3)
    first = T.randn(3)
    T.manual_seed(3)
    return [values(first) == values(T.randn(3))]


def module_functions(T):
    a = T.tensor(rng_data((2, 3)), requires_grad=True)
    b = T.tensor(rng_data((2, 3), 1), requires_grad=True)
    v = T.tensor(rng_data(3, 2), requires_grad=True)
    results = [T.exp(a), T.log(T.abs(a)), T.sin(a), T.cos(a), T.tanh(a), T.sigmoid(a),
               T.relu(a), T.sqrt(T.abs(a)), T.pow(a, 2), T.sum(a, dim=0), T.mean(a, 1),
               T.prod(a), T.max(a), T.min(a), T.amax(a, 1), T.amin(a, 0),
               T.cat([a, b]), T.cat([a, b], dim=1), T.stack([a, b]), T.where(a > 0, a, b),
               T.maximum(a, b), T.minimum(a, b), T.matmul(a, v), T.mm(a, b.t()),
               T.mv(a, v), T.bmm(T.stack([a, b]), T.stack([b.t(), a.t()])), T.dot(v, v),
               T.outer(v, v), T.clamp(a, -0.5, 0.5), T.softmax(a, dim=1), T.log_softmax(a, 0),
               T.norm(a), T.einsum("ij,kj->ik", a, b), T.transpose(a, 0, 1),
               T.reshape(a, (3, 2)), T.squeeze(a[:1]), T.unsqueeze(v, 1), T.flatten(a)]
    gradients = []
    for result in results:
        (g,) = T.autograd.grad(result.sum(), a, retain_graph=True, allow_unused=True)
        gradients.append(values(g))
    indices = [values(T.argmax(a)), values(T.argmax(a, dim=1)), values(T.argmin(a, 0))]
    # outer and einsum: PyTorch records the operations they are made of (MulBackward0 ...)
    names = [r.grad_fn.name() for i, r in enumerate(results) if i not in (27, 32)]
    return [values(r) for r in results] + gradients + indices + names


# --- Tensor methods -----------------------------------------------------------------------------

def tensor_methods(T):
    x = T.tensor(rng_data((2, 3)), requires_grad=True)
    w = T.tensor(rng_data((3, 2), 1), requires_grad=True)
    v = T.tensor(rng_data(3, 2), requires_grad=True)
    results = [x.mm(w), x.mv(v), x.add(v), x.add(v, alpha=2), x.sub(1.5), x.mul(v), x.div(2),
               x.pow(3), x.neg(), x.exp(), x.abs(), x.view(3, 2), x.view(-1), x.view_as(w),
               x[0].expand(4, 3), v.expand_as(x), x.permute(1, 0), x.transpose(0, 1),
               x.unsqueeze(0), x.unsqueeze(-1), x.unsqueeze(0).squeeze(0), x.squeeze(0),
               x.squeeze(), x.flatten(), x.norm(), x.norm(dim=1), x.norm(p=1, dim=0),
               x.softmax(dim=1), x.log_softmax(dim=-1), x.amax(dim=0), x.amin(dim=1),
               x.masked_fill(x > 0, 0.0), x.clone(), x.double(), x.float(), x.to(T.float64),
               x.type_as(w), x.clamp(min=0.0), x.clamp(max=0.1), x.t(), x.reshape(3, 2),
               x.sum(dim=1, keepdim=True), x.mean(dim=(0, 1)), x.logsumexp(dim=1),
               x.var(), x.std(dim=0), x.repeat(2, 1), x.sigmoid(), x.relu(), x.square(),
               x.reciprocal(), x.maximum(w.t()), x.split(2, dim=1)[1], x.chunk(3, 1)[2],
               x.unbind(1)[0], x.narrow(1, 1, 2), x.flip(0), x.where(x > 0, -x),
               x.prod(dim=1), x % 0.5, x.lerp(w.t(), 0.25), x.atan(), x.abs().rsqrt()]
    grads = []
    for result in results:
        (g,) = T.autograd.grad(result.sum(), x, retain_graph=True, allow_unused=True)
        grads.append(values(g))
    flags = [x.argmax().item(), values(x.argmax(dim=1)), values(x.argmin(dim=0, keepdim=True)),
             bool(x.all()), bool((x > 5).any()), values((x > 0).all(dim=1)),
             x.size(), x.size(0), x.size(-1), x.dim(), x.numel(), x.ndim, x[0, 1].item(),
             x.tolist(), dtype_name(x.new_tensor([1, 2])), values(x.new_tensor([1, 2])),
             x.new_tensor([1.0]).requires_grad, values(x.new_zeros(2)), values(x.new_ones((1, 2))),
             dtype_name(x.double()), dtype_name(x.float()), x.is_leaf, x.mm(w).is_leaf,
             dtype_name(x.long()), values(x.long()), x.is_floating_point(), x.element_size()]
    # logsumexp, var, std, reciprocal, split, chunk, unbind, %, lerp, rsqrt are made of other
    # recorded operations: their node has the name of the last one.
    composite = {43, 44, 45, 50, 52, 53, 54, 59, 60, 62}
    names = [None if r.grad_fn is None else r.grad_fn.name() for i, r in enumerate(results)
             if i not in composite]
    return [values(r) for r in results] + grads + flags + names


def max_and_min_along_a_dimension(T):
    x = T.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]], requires_grad=True)
    values_, indices = x.max(dim=1)
    smallest = x.min(1, keepdim=True)
    (values_ * T.tensor([1.0, 10.0])).sum().backward(retain_graph=True)
    picked_grad = values(x.grad)
    x.grad = None
    x.max().backward()  # no dim: ties share the gradient evenly
    whole_grad = values(x.grad)
    x.grad = None
    smallest.values.sum().backward()
    return [values(values_), values(indices), dtype_name(indices), picked_grad, whole_grad,
            values(smallest.values), values(smallest.indices), values(x.grad),
            type(x.max(0)).__name__, values_.grad_fn.name(), x.max().grad_fn.name(),
            values(x.max(dim=0).values), values(T.max(x, 1)[0]), values(x.max(T.ones(2, 3) * 6))]


def in_place_methods(T):
    x = T.tensor([1.0, -2.0, 3.0], requires_grad=True)
    results = []
    for change in (lambda y: y.add_(1), lambda y: y.sub_(2, alpha=0.5), lambda y: y.mul_(3),
                   lambda y: y.div_(4), lambda y: y.pow_(2), lambda y: y.clamp_(-1, 1),
                   lambda y: y.relu_(), lambda y: y.sigmoid_(), lambda y: y.exp_(),
                   lambda y: y.neg_(), lambda y: y.zero_(), lambda y: y.fill_(2.5),
                   lambda y: y.copy_(x * x), lambda y: y.masked_fill_(y > 0, 0.0)):
        y = x * 1.0
        returned = change(y)
        (g,) = T.autograd.grad(y.sum(), x)
        results += [returned is y, values(y), values(g), y.grad_fn.name(), y._version > 0]
    detached = (x * 2).detach_()
    results += [detached.requires_grad, detached.grad_fn is None, detached.is_leaf]
    return results


def in_place_rules_for_leaves_and_saved_tensors(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    errors = [error_of(lambda: x.add_(1)), error_of(lambda: x.zero_()),
              error_of(lambda: x[0].mul_(2), 50), error_of(lambda: x.relu_())]
    with T.no_grad():
        x.mul_(2)  # allowed: not recorded
    y = x.exp()
    y.add_(1)  # exp saved its result: backward must refuse
    saved_error = error_of(lambda: y.sum().backward(), 75)
    a = x * 2
    b = a + 1  # add reads no value: changing a afterwards is allowed
    a.mul_(3)
    (g,) = T.autograd.grad(b.sum(), x)
    return errors + [values(x), saved_error, values(g), values(b)]


def in_place_through_a_view(T):
    x = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1.0
    view = y[1:]
    view.mul_(2)
    z = x * 1.0
    z[::2].add_(z[1::2] * 10)
    m = (x * 1.0).view(2, 2)
    m[:, 0].sub_(5)
    loss = (y * T.tensor([1.0, 2.0, 3.0, 4.0])).sum() + (z * z).sum() + m.sum()
    loss.backward()
    base = T.zeros(3)
    base[1:].copy_(x[:2] * 3)  # a base that did not require grad takes the view's history
    (g,) = T.autograd.grad(base.sum(), x)
    return [values(y), values(z), values(m), values(x.grad), y.grad_fn.name(), values(base),
            values(g), base.grad_fn.name(), view.requires_grad, view._version, y._version]


def data_shares_storage_untracked(T):
    w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    data = w.data
    flags = [data.requires_grad, data.grad_fn is None, data.is_leaf]
    y = w * w
    w.data.sub_(T.tensor([0.5, 0.5, 0.5]))  # untracked: backward still runs
    y.sum().backward()
    w.grad.data.zero_()
    zeroed = values(w.grad)
    d = T.tensor([0.0, 1.0]).data.sigmoid_()
    w.data = T.tensor([9.0, 8.0, 7.0])
    numpy_view = w.detach().numpy()
    numpy_view[0] = -1.0
    return flags + [values(w), zeroed, values(d), values(data), w.requires_grad,
                    float(data.sum())]


def python_protocols(T):
    x = T.tensor(2.5, requires_grad=True)
    v = T.tensor([7.0, -3.5])
    return [f"{x:.3f}", f"{(x * 2):6.2f}", f"{v}", float(x), int(T.tensor(7.9)), bool(x > 2),
            values(v // 2), values(7 // v), values(v % 3), error_of(lambda: bool(v)),
            error_of(lambda: float(v)), error_of(lambda: f"{v:.2f}"), len(v),
            error_of(lambda: len(T.tensor(1.0))), x.item(), values(-v), values(abs(v)),
            [values(t) for t in v]]


def dtype_promotion(T):
    f32 = T.tensor([1.0, 2.0])
    f64 = T.tensor([1.0, 2.0], dtype=T.float64)
    zero_dim64 = T.tensor(2.0, dtype=T.float64)
    ints = T.tensor([1, 2])
    cases = [f32 * zero_dim64, f32 + 1.5, f32 + f64, ints + 1.5, ints / ints, ints * 2,
             zero_dim64 * ints, f32 * T.tensor(3), T.tensor(True) + 1, f32 * np.float64(2.0),
             T.exp(ints), T.where(ints > 1, f32, zero_dim64), T.cat([f32, f64]),
             T.tensor([1.0]) + T.tensor([1.0], dtype=T.float16)]
    x = T.tensor([1.0, 2.0], requires_grad=True)
    s = T.tensor(3.0, dtype=T.float64, requires_grad=True)
    (x * s).sum().backward()
    return ([dtype_name(c) for c in cases] + [values(c) for c in cases]
            + [dtype_name(x.grad), dtype_name(s.grad), values(s.grad), values(x.grad),
               T.float32 == T.float, T.float64 == T.double, T.int64 == T.long,
               f32.dtype == T.float32, f32.dtype != T.float64, f32.dtype.is_floating_point,
               ints.dtype.is_floating_point, str(f32.device), f32.device.type,
               f32.is_cuda])


def set_default_dtype_to_float64(T):
    try:
        T.set_default_dtype(T.float64)
        made = [T.tensor([1.5]), T.ones(2), T.arange(0.0, 1.0, 0.5), T.tensor([1, 2]) / 2]
        return [dtype_name(t) for t in made] + [dtype_name(T.get_default_dtype() and made[0])]
    finally:
        T.set_default_dtype(T.float32)


def printing(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    return [repr(x), repr(x * 2), repr(T.tensor(3.0)), repr(T.tensor([0.1234567, 12.5])),
            repr(T.tensor([[1e-5, 1.0], [100.0, 2000.0]])), repr(T.tensor([1, 2])),
            repr(T.tensor([1.5], dtype=T.float64)), repr(T.tensor([True, False])),
            repr(T.zeros(0, 3)), repr(T.tensor([])), repr(T.tensor([float("nan"), 1.0])),
            repr(T.tensor([1, 2], dtype=T.int32)), repr((x * 2).sum()),
            repr(T.ones(2, 2, dtype=T.float64, requires_grad=True)),
            repr(T.linspace(0, 1, 12).reshape(3, 4))]


# --- custom Function extras ---------------------------------------------------------------------

def function_extras(T):
    seen = {}

    class SortedPair(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.set_materialize_grads(False)
            seen["needs"] = ctx.needs_input_grad
            doubled = x * scale
            index = (x > 0).float()
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward(x)
            ctx.scale = scale
            return doubled, index

        @staticmethod
        def backward(ctx, grad_doubled, grad_index):
            seen["grad_index"] = grad_index
            return grad_doubled * ctx.scale, None

    class AddOneInPlace(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class Cube(T.autograd.Function):
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        @T.autograd.function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    x = T.tensor([1.0, -2.0], requires_grad=True)
    doubled, index = SortedPair.apply(x, 2.0)
    doubled.sum().backward()
    base = x * 1.0
    same = AddOneInPlace.apply(base)
    (g_dirty,) = T.autograd.grad((same * same).sum(), x)
    cube = Cube.apply(x)
    (g_cube,) = T.autograd.grad(cube.sum(), x, create_graph=True)
    return [seen["needs"], seen["grad_index"] is None, index.requires_grad, values(index),
            values(x.grad), same is base, values(same), values(g_dirty), values(cube),
            values(g_cube), g_cube.requires_grad, doubled.grad_fn.name(), same.grad_fn.name()]


def function_error_on_dirty_leaf(T):
    class AddOneInPlace(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    return [error_of(lambda: AddOneInPlace.apply(T.tensor([1.0], requires_grad=True)), 40)]


# --- autograd extras ----------------------------------------------------------------------------

def autograd_functional(T):
    F = T.autograd.functional

    def f(x):
        return (x ** 3).sum() + x[0] * x[1]

    def g(x, y):
        return T.stack([x[0] * y, x[1].exp() * y, (x * x).sum() + y])

    x = T.tensor([0.5, -1.5, 2.0])
    y = T.tensor(0.7)
    v3, v2 = T.tensor([1.0, 2.0, 0.5]), T.tensor([0.3, -1.0, 2.0])
    out_vjp, vjp = F.vjp(g, (x, y), v2)
    out_jvp, jvp = F.jvp(g, (x, y), (v3, T.tensor(1.0)))
    out_hvp, hvp = F.hvp(f, x, v3)
    return [values(F.jacobian(f, x)), [values(j) for j in F.jacobian(g, (x, y))],
            values(F.hessian(f, x)), values(out_vjp), [values(t) for t in vjp],
            values(out_jvp), values(jvp), values(out_hvp), values(hvp),
            values(F.vhp(f, x, v3)[1]), values(F.jacobian(lambda t: t * 2, x))]


def backward_with_inputs_and_grad_options(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    w = T.tensor([3.0, 4.0], requires_grad=True)
    hidden = x * w
    hidden.retain_grad()
    loss = (hidden ** 2).sum()
    loss.backward(inputs=[w], retain_graph=True)
    only_w = [x.grad is None, values(w.grad), hidden.grad is None]
    loss.backward(inputs=[hidden])
    unused = T.tensor(1.0, requires_grad=True)
    none = T.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    zeros = T.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    error = error_of(lambda: T.autograd.grad((x * 2).sum(), [unused]))
    return only_w + [values(hidden.grad), values(none[0]), none[1] is None, values(zeros[1]),
                     error]


def grad_modes(T):
    x = T.tensor([1.0], requires_grad=True)

    @T.no_grad
    def bare(t):
        return t * 2

    @T.no_grad()
    def called(t):
        return t * 2

    @T.enable_grad()
    def enabled(t):
        return t * 2

    with T.inference_mode():
        inside = x * 2
        mode_inside = T.is_grad_enabled()
    with T.no_grad():
        nested = enabled(x)
    with T.set_grad_enabled(False):
        off = x * 2
    with T.inference_mode(False):
        on = x * 2
    return [bare(x).requires_grad, called(x).requires_grad, inside.requires_grad, mode_inside,
            T.is_grad_enabled(), nested.requires_grad, off.requires_grad, on.requires_grad,
            bare.__name__]


def autograd_variable(T):
    data = T.tensor([1.0, 2.0])
    v = T.autograd.Variable(data, requires_grad=True)
    (v * v).sum().backward()
    return [type(v).__name__, v.requires_grad, values(v.grad), v.is_leaf]


# --- semantics that were fixed ------------------------------------------------------------------

def squeeze_of_a_longer_dimension_is_a_no_op(T):
    x = T.ones(2, 1, 3)
    return [tuple(x.squeeze(0).shape), tuple(x.squeeze(1).shape), tuple(x.squeeze(-1).shape),
            tuple(x.squeeze().shape), tuple(T.ones(1).squeeze(0).shape)]


def second_backward_through_a_graph_that_saved_nothing(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()  # add and sum save nothing: no error
    z = (x - 2).mean()
    z.backward()
    z.backward()
    w = (x * x).sum()
    w.backward()
    return [values(x.grad), error_of(w.backward, 50)]


def backward_after_create_graph_accumulates(T):
    x = T.tensor(2.0, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    first = [values(x.grad), x.grad.requires_grad]
    (x * x).backward()
    return first + [values(x.grad), x.grad.requires_grad]


def shape_errors(T):
    a, b = T.ones(3, 4), T.ones(2, 4)
    return [error_of(lambda: a + b, 80), error_of(lambda: a.mm(b), 80),
            error_of(lambda: a @ b, 80), error_of(lambda: a.view(5), 40),
            error_of(lambda: T.ones(3).dot(T.ones(4)), 40), error_of(lambda: a.mv(T.ones(3)), 14),
            error_of(lambda: T.ones(2, 2).bmm(T.ones(2, 2)), 30),
            error_of(lambda: a.size(2), 30)]


def grad_fn_names(T):
    x = T.tensor(rng_data((2, 3)), requires_grad=True)
    y = x * 1
    y[0] = 1.0
    z = x * 1
    z.copy_(x * 2)
    nodes = [x.sigmoid(), x @ x.t(), x[0] @ x[1], x.t() @ x[:, 0], x.sum(), x.sum(1), x.mean(),
             x.mean(0), x.max(), x.max(1)[0], x.min(0).values, x.amax(1), x[0], x[:, 1], x[0:1],
             x[[0]], x.flatten(), x.squeeze(0), x.squeeze(), x.unsqueeze(0), x.t(), x.T,
             x.transpose(0, 1), x.permute(1, 0), x.expand(2, 2, 3), x.clone(), x.float(),
             x.relu(), x.softmax(1), x.log_softmax(1), x.clamp(0, 1), x.tanh(), x.exp(),
             x.abs().log(), x.abs().sqrt(), x.abs(), -x, 2 - x, x.norm(), x.prod(),
             x.masked_fill(x > 0, 0),
             y, z, T.cat([x, x]), T.stack([x, x]), T.where(x > 0, x, x), T.maximum(x, x),
             x.repeat(2, 1), x.reshape(3, 2), x.view(6)]
    return [n.grad_fn.name() for n in nodes]


def grad_fn_class_names(T):
    """The class of each node is named as PyTorch's (type(y.grad_fn).__name__), for the common
    operations, the ways of indexing, the ways of writing pow and division, in-place writes,
    leaves and custom Functions."""
    x = T.tensor(rng_data((2, 3)), requires_grad=True)
    b = T.tensor(rng_data((2, 3), 1), requires_grad=True)
    v = T.tensor(rng_data(3, 2), requires_grad=True)
    y = x * 1
    y[0] = 1.0

    class Double(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    nodes = [x + b, x + 1, 1 + x, x - b, x - 1, 1 - x, x * b, 2 * x, x / b, x / 2, 2 / x, x ** 2,
             x ** b, 2 ** x, T.pow(x, 3), T.pow(2, x), -x, x @ v, x @ b.t(), x.mm(b.t()), v.dot(v),
             x.sum(), x.sum(0), T.sum(x, dim=1), x.mean(), x.mean(1), x.exp(), x.tanh(),
             x.sigmoid(), x.relu(), x.abs().log(), x.view(6), x.reshape(3, 2), x.t(), x.T,
             x[0], x[0:1], x[:, 1], x[0, 1], x[..., 1], x[None], x[...], x[:, :], x[:],
             x[[0]], x[x > 0], x.unsqueeze(0), x[None].squeeze(0), v.expand(2, 3), x.max(),
             x.clone(), T.cat([x, b]), T.stack([x, b]), T.where(x > 0, x, b), x.softmax(1),
             x.transpose(0, 1), x.permute(1, 0), x.flatten(), x.clamp(0, 1), x.float(),
             (x * 1).exp_(), y, Double.apply(x)]
    leaf = (x * 1).grad_fn.next_functions[0][0]
    return [type(n.grad_fn).__name__ for n in nodes] + [type(leaf).__name__]


# --- issue #11: never a silent wrong answer -----------------------------------------------------

def power_zero_at_zero(T):
    x = T.tensor([0.0, 2.0, -1.5], requires_grad=True)
    (x ** 0).sum().backward()
    y = T.tensor([0.0, 3.0], requires_grad=True)
    (y ** T.tensor([0.0, 2.0])).sum().backward()
    return [values(x.grad), values(y.grad), values(x ** 0)]


def hook_of_the_wrong_shape(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: T.ones(3))
    leaf_error = error_of(lambda: (x * 2).sum().backward(), 10)
    y = T.tensor([1.0, 2.0], requires_grad=True)
    hidden = y * 2
    hidden.register_hook(lambda g: g.sum())
    inner_error = error_of(lambda: hidden.sum().backward(), 10)
    return [leaf_error, inner_error]


def grad_of_the_wrong_shape(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    size_error = error_of(lambda: setattr(x, "grad", T.ones(3)), 80)
    type_error = error_of(lambda: setattr(x, "grad", T.ones(2, dtype=T.float64)), 42)
    x.grad = T.ones(2)
    (x * 3).sum().backward()
    return [size_error, type_error, values(x.grad)]


def nn_functional(T):
    """srcgrad.nn.functional as torch.nn.functional: activations and losses, values and
    gradients, each reduction, weights, ignored and smoothed labels, probabilities as targets."""
    F = T.nn.functional
    x = T.tensor(rng_data((3, 4)), requires_grad=True)
    p = T.tensor([[0.2, 0.9], [0.6, 0.05], [0.5, 0.99]], requires_grad=True)
    target = T.tensor(rng_data((3, 4), 1))
    labels = T.tensor([1, 0, 3])
    binary = T.tensor([[0.0, 1.0], [1.0, 0.0], [0.3, 1.0]])
    class_weight = T.tensor(np.array([1.0, 2.0, 0.5, 1.5]))  # float64, as x
    probabilities = T.tensor(rng_data((3, 4), 2)).softmax(1)
    w = T.tensor(rng_data((2, 4), 3), requires_grad=True)
    bias = T.tensor(np.array([0.1, -0.2]), requires_grad=True)
    results = [F.relu(x), F.sigmoid(x), F.tanh(x), F.softmax(x, dim=1), F.log_softmax(x, dim=0),
               F.mse_loss(x, target), F.mse_loss(x, target, reduction="sum"),
               F.mse_loss(x, target, reduction="none"), F.l1_loss(x, target),
               F.binary_cross_entropy(p, binary),
               F.binary_cross_entropy(p, binary, weight=T.tensor([1.0, 3.0]), reduction="sum"),
               F.binary_cross_entropy_with_logits(x[:, :2], binary),
               F.nll_loss(x.log_softmax(1), labels), F.cross_entropy(x, labels),
               F.cross_entropy(x, labels, weight=class_weight),
               F.cross_entropy(x, T.tensor([1, -100, 3])),
               F.cross_entropy(x, labels, reduction="none"),
               F.cross_entropy(x, labels, label_smoothing=0.1),
               F.cross_entropy(x, probabilities), F.linear(x, w, bias)]
    grads = []
    for result in results:
        inputs = [t for t in (x, p, w, bias) if t.requires_grad]
        found = T.autograd.grad(result.sum(), inputs, retain_graph=True, allow_unused=True)
        grads.append([values(g) for g in found])
    return [values(r) for r in results] + grads


def float32_times_zero_dim_float64(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    scale = T.tensor(0.1, dtype=T.float64, requires_grad=True)
    y = x * scale
    y.sum().backward()
    return [dtype_name(y), dtype_name(x.grad), dtype_name(scale.grad), values(y),
            values(scale.grad)]


SCENARIOS = [factories, manual_seed_repeats, module_functions, tensor_methods,
             max_and_min_along_a_dimension, in_place_methods,
             in_place_rules_for_leaves_and_saved_tensors, in_place_through_a_view,
             data_shares_storage_untracked, python_protocols, dtype_promotion,
             set_default_dtype_to_float64, printing, function_extras,
             function_error_on_dirty_leaf, autograd_functional,
             backward_with_inputs_and_grad_options, grad_modes, autograd_variable,
             squeeze_of_a_longer_dimension_is_a_no_op,
             second_backward_through_a_graph_that_saved_nothing,
             backward_after_create_graph_accumulates, shape_errors, grad_fn_names,
             grad_fn_class_names,
             power_zero_at_zero, hook_of_the_wrong_shape, grad_of_the_wrong_shape,
             float32_times_zero_dim_float64, nn_functional]
