"""Code specialized to the arguments' shapes: the shapes inferred, and gradients that stay right
for every broadcasting pattern, reduction and matrix product (against central differences)."""
import gast
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import srcgrad as sg
from checks import check_grad
from srcgrad.api import MAX_SPECIALIZATIONS
from srcgrad.transform.shapes import UNKNOWN, broadcast, indexed_shape, infer_shapes

# --- the shape rules ---------------------------------------------------------------------------


def test_broadcast_follows_numpy():
    assert broadcast((3, 1), (4,)) == (3, 4)
    assert broadcast((), (2, 3)) == (2, 3)
    assert broadcast((2, 3), (3, 2)) == UNKNOWN  # NumPy raises: nothing is assumed
    assert broadcast((None,), (5,)) == (5,)
    assert broadcast((None,), (1,)) == (None,)
    assert broadcast(UNKNOWN, ()) == UNKNOWN


def index(source):
    return gast.parse(f"x[{source}]").body[0].value.slice


@pytest.mark.parametrize("source, expected", [
    ("0", (4, 5)), ("1:3", (2, 4, 5)), (":, 0", (3, 5)), ("..., 0", (3, 4)),
    ("None, 0", (1, 4, 5)), ("-2:", (2, 4, 5)), ("::2, :, 1:", (2, 4, 4)),
])
def test_basic_indexing_shapes(source, expected):
    scalars = lambda node: ()  # noqa: E731  (every name here is an integer)
    assert indexed_shape((3, 4, 5), index(source), scalars) == expected


def test_an_index_array_gives_an_axis_of_unknown_length():
    # A boolean mask picks as many elements as it has True values, so the length is not known.
    shape_of = {"i": (3,), "j": (3,)}
    assert indexed_shape((3, 4), index("i, j"), lambda n: shape_of[n.id]) == (None,)
    assert indexed_shape((3, 4), index("i"), lambda n: shape_of[n.id]) == (None, 4)


def resolve(node):
    """What a name or attribute in these small sources names: np, np.<function>, range."""
    if isinstance(node, gast.Name):
        return {"np": np, "range": range}.get(node.id)
    if isinstance(node, gast.Attribute):
        return getattr(resolve(node.value), node.attr, None)
    return None


def inferred(source, **params):
    tree = gast.parse(source).body[0]
    names = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)} - {"np", "range"}
    return infer_shapes(tree.body, params, resolve, names)


def test_inference_follows_loops_to_a_fixed_point():
    found = inferred("def f(x, W):\n"
                     "    h = x\n"
                     "    for t in range(3):\n"
                     "        h = np.tanh(h @ W)\n"
                     "    s = np.sum(h, axis=0, keepdims=True)\n"
                     "    return s", x=(5, 4), W=(4, 4))
    assert found["h"] == (5, 4) and found["s"] == (1, 4) and found["t"] == ()


def test_a_name_whose_shape_changes_in_a_loop_is_unknown():
    found = inferred("def f(x):\n"
                     "    y = x\n"
                     "    for t in range(3):\n"
                     "        y = np.sum(y, axis=0)\n"
                     "    return y", x=(2, 3, 4))
    assert found["y"] == UNKNOWN


# --- the code that runs -----------------------------------------------------------------------

def broadcasting(x, y):
    z = x * y + x / (1.5 + y * y) - y
    return np.sum(np.tanh(z) * z)


SHAPE_PAIRS = [((3, 4), (4,)), ((3, 1), (1, 4)), ((3, 4), ()), ((), (2, 3)), ((2, 1, 3), (4, 1)),
               ((3, 4), (3, 1)), ((4,), (3, 4))]


@pytest.mark.parametrize("x_shape, y_shape", SHAPE_PAIRS)
def test_every_broadcasting_pattern_sums_the_adjoint_back(x_shape, y_shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=x_shape) if x_shape else 0.7
    y = rng.normal(size=y_shape) if y_shape else -0.4
    check_grad(broadcasting, x, y)
    source = sg.source(sg.grad(broadcasting, wrt=(0, 1)), x, y)
    assert "unbroadcast" not in source  # every sum is worked out from the shapes


def reductions(x, w):
    a = np.sum(x * w, axis=0)
    b = np.max(x, axis=1, keepdims=True)
    c = np.mean(x - b, axis=(0, 1))
    return np.sum(a * a) + c * np.sum(w)


@given(st.integers(1, 4), st.integers(1, 4))
@settings(max_examples=15, deadline=None)
def test_reductions_for_many_shapes(rows, columns):
    rng = np.random.default_rng(rows * 10 + columns)
    check_grad(reductions, rng.normal(size=(rows, columns)), rng.normal(size=columns))


def products(a, b, v):
    m = a @ b
    return np.sum(np.tanh(m)) + np.sum(v @ b) + np.sum(a @ v) + np.sum(v[:2] @ a[:, :2].T)


def test_matrix_products_of_matrices_and_vectors():
    rng = np.random.default_rng(1)
    a, b, v = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=4)
    check_grad(products, a, b, v)
    source = sg.source(sg.grad(products, wrt=(0, 1, 2)), a, b, v)
    assert "matmul_adjoint" not in source and ".T" in source and "np.outer" in source


def dot_of_vectors(a, x):
    return np.sum(a * x) * a


def test_the_adjoint_of_a_number_times_a_vector_is_a_dot_product():
    x = np.array([0.5, -1.0, 2.0])
    check_grad(dot_of_vectors, 1.3, x, wrt=0)
    assert "np.dot(" in sg.source(sg.grad(dot_of_vectors, wrt=0), 1.3, x)


def recurrence(a, x):
    for _ in range(5):
        x = a * x + np.sin(x)
    return x


def test_numbers_stay_numbers():
    da = sg.grad(recurrence)(0.5, 1.2)
    assert type(da) in (float, np.float64)  # not a 0-d array
    source = sg.source(sg.grad(recurrence), 0.5, 1.2)
    assert "da = 0.0" in source and "zeros_like" not in source and "unbroadcast" not in source


def mixed(x, y):
    return np.sum(x * y)


def test_each_shape_gets_code_of_its_own_up_to_a_limit():
    gradient = sg.grad(mixed)
    for n in range(1, MAX_SPECIALIZATIONS + 4):
        x, y = np.arange(n, dtype=float), np.ones(n)
        np.testing.assert_allclose(gradient(x, y), y)
    assert len({g.source for g in gradient._by_signature.values()}) <= MAX_SPECIALIZATIONS + 1
    np.testing.assert_allclose(gradient(np.ones((2, 3)), np.arange(3.0)),
                               np.broadcast_to(np.arange(3.0), (2, 3)))  # the general code


def test_source_without_arguments_shows_the_code_for_any_shapes():
    generic = sg.source(sg.grad(broadcasting))
    assert "unbroadcast" in generic
    assert sg.source(sg.grad(broadcasting), np.ones(3), np.ones(3)) != generic


def helper(v, s):
    return v * np.exp(-s)


def calls_a_helper(v, s):
    return np.sum(helper(v, s) ** 2)


def test_shapes_flow_through_calls_of_user_functions():
    v = np.array([1.0, -2.0, 0.5])
    check_grad(calls_a_helper, v, 0.3)
    source = sg.source(sg.grad(calls_a_helper, wrt=(0, 1)), v, 0.3)
    caller = source.split("\n\n\n")[0]
    assert "unbroadcast" not in caller
    assert "broadcast_like(dresult, result)" in source  # the helper's pullback shapes its seed


def mean_of_squares(u, v):
    w = u * v
    return np.mean(w * w)


def test_the_adjoint_of_a_sum_stays_a_number_where_arithmetic_stretches_it():
    rng = np.random.default_rng(2)
    u, v = rng.normal(size=(3, 4)), rng.normal(size=4)
    check_grad(mean_of_squares, u, v)
    source = sg.source(sg.grad(mean_of_squares, wrt=(0, 1)), u, v)
    assert "expand_reduced" not in source and "1.0 / 12" in source  # the seed folded


def squared_norm(v):
    return np.sum(v * v)


def loop_calling_a_number_helper(x):
    total = 0.0
    for i in range(3):
        total = total + squared_norm(x * i)
    return total


def test_a_helper_returning_a_number_has_a_known_shape():
    # the loop saves only the pullback per step: the number's shape () is known, not unknown
    x = np.ones(2)
    code = sg.source(sg.grad(loop_calling_a_number_helper), x)
    body = code.split("def squared_norm_vjp")[0]
    assert body.count("stack.append(") == 1
    np.testing.assert_allclose(sg.grad(loop_calling_a_number_helper)(x), 10.0 * x)
