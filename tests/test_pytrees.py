"""Parameters in containers: dicts, lists, tuples and named tuples of arrays and floats, nested,
as arguments to differentiate. The gradient has the argument's structure (JAX's semantics)."""
from collections import namedtuple
from dataclasses import dataclass, is_dataclass, replace

import numpy as np
import pytest

import srcgrad as sg

Linear = namedtuple("Linear", ["W", "b"])
RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))


def leaves(tree):
    """(path, leaf) for each float or array in ``tree``."""
    if is_dataclass(tree):
        return [((k,) + p, v) for k in vars(tree) for p, v in leaves(getattr(tree, k))]
    if isinstance(tree, dict):
        return [((k,) + p, v) for k, sub in tree.items() for p, v in leaves(sub)]
    if isinstance(tree, (list, tuple)):
        return [((i,) + p, v) for i, sub in enumerate(tree) for p, v in leaves(sub)]
    return [((), tree)]


def replaced(tree, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if is_dataclass(tree):
        return replace(tree, **{head: replaced(getattr(tree, head), rest, value)})
    if isinstance(tree, dict):
        return {k: replaced(v, rest, value) if k == head else v for k, v in tree.items()}
    parts = [replaced(v, rest, value) if i == head else v for i, v in enumerate(tree)]
    if hasattr(tree, "_fields"):
        return type(tree)(*parts)
    return type(tree)(parts)


def at(tree, path):
    for key in path:
        tree = getattr(tree, key) if is_dataclass(tree) else tree[key]
    return tree


def check_tree_gradient(f, params, *rest, eps=1e-6):
    """sg.grad, value_and_grad and the vjp of f w.r.t. a container, against central differences."""
    gradient = sg.grad(f)(params, *rest)
    value, also = sg.value_and_grad(f)(params, *rest)
    out, pullback = sg.vjp(f)(params, *rest)
    assert value == pytest.approx(f(params, *rest)) and out == pytest.approx(value)
    for result in (gradient, also, pullback(1.0)):
        assert type(result) is type(params)
        for path, leaf in leaves(params):
            leaf = np.asarray(leaf, dtype=float)
            expected = np.zeros_like(leaf)
            for k in range(leaf.size):
                step = np.zeros_like(leaf)
                step.flat[k] = eps
                up = f(replaced(params, path, leaf + step if leaf.ndim else float(leaf + step)),
                       *rest)
                down = f(replaced(params, path, leaf - step if leaf.ndim else float(leaf - step)),
                         *rest)
                expected.flat[k] = (up - down) / (2 * eps)
            np.testing.assert_allclose(at(result, path), expected, rtol=1e-5, atol=1e-8,
                                       err_msg=f"gradient at {path}")


def dict_mlp(p, x):
    return np.sum(np.tanh(x @ p["W"] + p["b"]) ** 2)


def unpacked(params, x):
    W, b = params
    return np.sum(np.tanh(x @ W + b) ** 2)


def layers_loop(layers, x):
    h = x
    for W, b in layers:
        h = np.tanh(h @ W + b)
    return np.sum(h ** 2)


def nested_dict(model, x):
    h = np.tanh(x @ model["encoder"]["W"] + model["encoder"]["b"])
    return np.sum((h @ model["head"][0]) ** 2) * model["scale"]


def named(layer, x):
    return np.sum(np.sin(x @ layer[0] + layer[1]))


PARAMS = {"W": RNG.standard_normal((3, 2)) * 0.5, "b": RNG.standard_normal(2) * 0.1}
LAYERS = [(RNG.standard_normal((3, 4)) * 0.5, RNG.standard_normal(4) * 0.1),
          (RNG.standard_normal((4, 2)) * 0.5, RNG.standard_normal(2) * 0.1)]
MODEL = {"encoder": {"W": RNG.standard_normal((3, 4)) * 0.5, "b": np.zeros(4)},
         "head": [RNG.standard_normal((4, 2)) * 0.5], "scale": 1.5}


@pytest.mark.parametrize("f, params", [
    (dict_mlp, PARAMS),
    (unpacked, [PARAMS["W"], PARAMS["b"]]),
    (unpacked, (PARAMS["W"], PARAMS["b"])),
    (layers_loop, LAYERS),
    (nested_dict, MODEL),
    (named, Linear(PARAMS["W"], PARAMS["b"])),
], ids=["dict", "list unpacked", "tuple unpacked", "list of (W, b) pairs in a loop",
        "nested dicts and lists with a float", "named tuple"])
def test_gradient_has_the_arguments_structure(f, params):
    check_tree_gradient(f, params, X)


def test_the_generated_code_reads_the_entries():
    text = sg.source(sg.grad(dict_mlp), PARAMS, X)
    assert "dp['W'] = dp['W'] + x.T @ " in text and "dp = zeros_like_each(p)" in text


def loss_with_accuracy(params, x, labels):
    logits = x @ params["W"] + params["b"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.mean(log_probs[np.arange(labels.shape[0]), labels])
    accuracy = np.mean(np.argmax(logits, axis=1) == labels)
    return loss, {"accuracy": accuracy, "logits": logits}


def test_has_aux_and_argnums_as_in_jax():
    labels = np.array([0, 1, 1, 0])
    plain = sg.grad(lambda p, x, y: loss_with_accuracy(p, x, y)[0])(PARAMS, X, labels)
    gradient, aux = sg.grad(loss_with_accuracy, has_aux=True)(PARAMS, X, labels)
    for key in PARAMS:
        np.testing.assert_allclose(gradient[key], plain[key], rtol=1e-12)
    assert set(aux) == {"accuracy", "logits"} and 0.0 <= aux["accuracy"] <= 1.0
    (value, aux2), gradient2 = sg.value_and_grad(loss_with_accuracy, has_aux=True)(
        PARAMS, X, labels)
    assert value == pytest.approx(loss_with_accuracy(PARAMS, X, labels)[0])
    np.testing.assert_allclose(gradient2["W"], plain["W"], rtol=1e-12)
    out, pullback, aux3 = sg.vjp(loss_with_accuracy, has_aux=True)(PARAMS, X, labels)
    np.testing.assert_allclose(pullback(2.0)["b"], 2.0 * plain["b"], rtol=1e-12)
    by_position = sg.grad(dict_mlp, argnums=1)(PARAMS, X)
    np.testing.assert_allclose(by_position, sg.grad(dict_mlp, wrt=1)(PARAMS, X), rtol=1e-12)


def test_has_aux_needs_a_pair():
    with pytest.raises(sg.SrcgradError, match="has_aux=True needs dict_mlp to return a pair"):
        sg.grad(dict_mlp, has_aux=True)(PARAMS, X)


def returns_a_dict(x):
    return {"square": x * x, "sine": np.sin(x)}


def reads_a_dict_it_made(x):
    parts = {"a": x * 2.0, "b": np.exp(x)}
    return np.sum(parts["a"] * parts["b"])


def test_dicts_made_in_the_function():
    x = np.array([0.3, -0.5])
    out, pullback = sg.vjp(returns_a_dict)(x)
    gradient = pullback({"square": np.ones(2), "sine": 2.0 * np.ones(2)})
    np.testing.assert_allclose(gradient, 2 * x + 2.0 * np.cos(x), rtol=1e-12)
    _, tangent = sg.jvp(returns_a_dict, (x,), (np.ones(2),))
    np.testing.assert_allclose(tangent["sine"], np.cos(x), rtol=1e-12)
    np.testing.assert_allclose(sg.grad(reads_a_dict_it_made)(x),
                               2.0 * np.exp(x) + 2.0 * x * np.exp(x), rtol=1e-12)


@dataclass
class Line:
    slope: np.ndarray
    intercept: float


def line_loss(line, x, y):
    return np.sum((line.slope * x + line.intercept - y) ** 2)


def named_fields(layer, x):
    return np.sum(np.tanh(x @ layer.W + layer.b) ** 2)


def test_attributes_of_dataclasses_and_named_tuples():
    x, y = np.array([0.5, 1.0, -2.0]), np.array([1.0, 0.0, 2.0])
    check_tree_gradient(line_loss, Line(np.array([0.3, -0.2, 0.1]), 0.7), x, y)
    check_tree_gradient(named_fields, Linear(PARAMS["W"], PARAMS["b"]), X)


def _leafwise(f, *trees):
    """f applied to the leaves of trees of one structure, as plain arrays, in leaf order."""
    return [f(*(np.asarray(at(t, path), dtype=float) for t in trees))
            for path, _ in leaves(trees[0])]


@pytest.mark.parametrize("f, params, rest", [
    (named_fields, Linear(PARAMS["W"], PARAMS["b"]), (X,)),
    (line_loss, Line(np.array([0.3, -0.2, 0.1]), 0.7),
     (np.array([0.5, 1.0, -2.0]), np.array([1.0, 0.0, 2.0])))])
def test_second_derivatives_through_fields(f, params, rest):
    """Reverse over reverse and forward over reverse through p.W of a named tuple or dataclass:
    the gradient's dp = add_field(dp, p, "W", g) has rules of its own."""
    rng = np.random.default_rng(3)
    direction = params
    for path, leaf in leaves(params):
        step = rng.standard_normal(np.shape(leaf))
        direction = replaced(direction, path, step if np.ndim(leaf) else float(step))
    gradient = sg.grad(f)
    eps = 1e-6
    up = gradient(_shifted(params, direction, eps), *rest)
    down = gradient(_shifted(params, direction, -eps), *rest)
    expected = _leafwise(lambda u, d: (u - d) / (2 * eps), up, down)
    _, pullback = sg.vjp(gradient)(params, *rest)
    reverse = pullback(direction)
    _, forward = sg.jvp(gradient, (params, *rest),
                        (direction, *(np.zeros_like(r) for r in rest)))
    for name, result in (("reverse over reverse", reverse), ("forward over reverse", forward)):
        for actual, wanted in zip(_leafwise(lambda a: a, result), expected):
            np.testing.assert_allclose(actual, wanted, rtol=1e-5, atol=1e-7, err_msg=name)


def _shifted(params, direction, eps):
    for path, leaf in leaves(params):
        moved = np.asarray(leaf) + eps * np.asarray(at(direction, path))
        params = replaced(params, path, moved if np.ndim(leaf) else float(moved))
    return params


# --- loops that unpack nested items of containers -------------------------------------------------

def numbered_layers(layers, x):
    h = x
    for i, (W, b) in enumerate(layers, 1):
        h = np.tanh(h @ W + b) * i
    return np.sum(h ** 2)


def pairs_and_scales(pairs, scales):
    total = 0.0
    for (a, b), c in zip(pairs, scales):
        total = total + np.sum(a * b * c)
    return total


def zipped_in_enumerate(xs, ys):
    total = 0.0
    for k, (a, (b, c)) in enumerate(zip(xs, ys), start=2):
        total = total + k * np.sum(a ** 2) * b * c
    return total


NUMBERED_LAYERS = [(RNG.standard_normal((3, 3)), RNG.standard_normal(3)) for _ in range(2)]


@pytest.mark.parametrize("f, params, rest", [
    (numbered_layers, NUMBERED_LAYERS, (X,)),
    (pairs_and_scales, [(RNG.standard_normal(2), RNG.standard_normal(2)) for _ in range(3)],
     (RNG.standard_normal(3),)),
    (zipped_in_enumerate, [RNG.standard_normal(2) for _ in range(3)],
     ([(1.5, 2.0), (0.5, -1.0), (2.0, 0.3)],)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_loops_unpack_nested_items(f, params, rest):
    check_tree_gradient(f, params, *rest)


def test_enumerate_start_counts_from_it():
    xs = [RNG.standard_normal(2) for _ in range(3)]
    ys = [(1.0, 1.0)] * 3
    gradient = sg.grad(zipped_in_enumerate)(xs, ys)
    for k, (x, g) in enumerate(zip(xs, gradient), start=2):
        np.testing.assert_allclose(g, 2 * k * x)


def zip_strict(a, b):
    total = 0.0
    for u, v in zip(a, b, strict=True):
        total = total + u * v
    return total


def test_zip_strict_is_refused_at_its_line():
    with pytest.raises(sg.UnsupportedSyntax, match=r"test_pytrees.py, line \d+: srcgrad cannot "
                                                   r"differentiate a for loop that unpacks"):
        sg.grad(zip_strict)(np.ones(2), np.ones(2))


# --- a dict's entries read by items(), values(), keys() and get() ---------------------------------

NAMED = {"W0": RNG.standard_normal((3, 2)), "b0": RNG.standard_normal(2),
          "W1": RNG.standard_normal(2)}


def weight_decay(p, x):
    h = np.tanh(x @ p["W0"] + p["b0"]) @ p["W1"]
    return np.sum(h ** 2) + 0.1 * sum(np.sum(v ** 2) for v in p.values())


def only_weights(p):
    return sum(np.sum(v ** 3) for name, v in p.items() if name.startswith("W"))


def by_sorted_keys(p):
    total = 0.0
    for k in sorted(p.keys()):
        total = total + np.sum(np.sin(p[k])) * len(k)
    return total


def named_layers(model, x):
    out = 0.0
    for name, (W, b) in model.items():
        out = out + np.sum(np.tanh(x[:, :2] @ W + b)) * len(name)
    return out


def with_defaults(p, x):
    return np.sum(p.get("W1", 0.0) ** 2) + np.sum(p.get("missing", 1.0) * x) + \
        np.sum(p.get("b0") * x[0, :2])


@pytest.mark.parametrize("f, params, rest", [
    (weight_decay, NAMED, (X,)), (only_weights, NAMED, ()), (by_sorted_keys, NAMED, ()),
    (named_layers, {"a": (RNG.standard_normal((2, 2)), RNG.standard_normal(2)),
                    "bb": (RNG.standard_normal((2, 2)), RNG.standard_normal(2))}, (X,)),
    (with_defaults, NAMED, (X,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_dict_entries_by_their_methods(f, params, rest):
    check_tree_gradient(f, params, *rest)


def test_items_only_weights_closed_form():
    gradient = sg.grad(only_weights)(NAMED)
    np.testing.assert_allclose(gradient["W0"], 3 * NAMED["W0"] ** 2)
    np.testing.assert_allclose(gradient["b0"], 0.0)


def test_second_order_through_a_loop_over_items():
    from checks import check_grads
    check_grads(lambda x: weight_decay(NAMED, x), X, wrt=(0,), order=2, eager=True)


def loops_over_the_dict_itself(p):
    return sum(np.sum(p[k] ** 2) for k in p)


def follows_a_permutation(x, perm):
    total = 0.0
    for i in perm:  # perm is a list of ints: its items index it, and carry no derivative
        total = total + x[perm[i]] * (i + 1)
    return total


def test_a_loop_over_the_dict_itself_reads_its_entries():
    # for k in d whose body reads d[k], d differentiated: d must be a dict (a list of
    # differentiated values cannot be indexed by its own items)
    gradient = sg.grad(loops_over_the_dict_itself)(NAMED)
    for key, value in NAMED.items():
        np.testing.assert_allclose(gradient[key], 2 * value)
    check_tree_gradient(loops_over_the_dict_itself, NAMED)
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(sg.grad(follows_a_permutation)(x, [2, 0, 1]), [2.0, 3.0, 1.0])
