"""Arithmetic computed into arrays nothing reads afterwards (reuse.py), and the dtypes it reads
(dtypes.py): where it applies, and that the derivatives stay right where it must not."""
import gast
import numpy as np
import pytest

import srcgrad as sg
from checks import check_grads
from srcgrad.transform.dtypes import infer_kinds

rng = np.random.default_rng(171)


def chain(x, w, b):
    return np.sum(np.tanh(x * w + b) ** 2 * np.exp(-x))


def test_the_chain_computes_into_its_dead_arrays():
    x = rng.normal(size=50)
    source = sg.source(sg.grad(chain), x, 0.7, 0.1)
    assert "exp_neg_x *= tanh_x_times_w_plus_b" in source
    assert "np.subtract(1.0, tanh_x_times_w_plus_b, out=tanh_x_times_w_plus_b)" in source
    check_grads(chain, x, 0.7, 0.1, wrt=(0, 1, 2), order=2)


def test_no_array_is_made_per_operation_at_large_sizes():
    import tracemalloc
    x = rng.normal(size=200_000)
    gradient = sg.grad(chain)
    gradient(x, 0.7, 0.1)
    tracemalloc.start()
    gradient(x, 0.7, 0.1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4.5 * x.nbytes  # was 6 arrays; now tanh, exp, the result and one temporary


def test_one_element_arrays_are_left_alone():
    source = sg.source(sg.grad(chain), rng.normal(size=1), 0.7, 0.1)
    assert "*=" not in source.replace("dx +=", "")


# --- dtypes -----------------------------------------------------------------------------------

def times_other(x, y):
    a = np.tanh(x)
    return np.sum(a * y * 2.0)


@pytest.mark.parametrize("x_dtype, y", [
    (np.float32, rng.normal(size=6)),                           # float32 temp times float64
    (np.float32, np.float64(1.5)),                              # ... a NumPy float64 scalar
    (np.float64, rng.normal(size=6).astype(np.float32)),         # float64 temp times float32
    (np.float64, rng.integers(-3, 3, size=6)),                   # ... an int array
    (np.float32, rng.integers(-3, 3, size=6).astype(np.int16)),  # float32 temp times int16
    (np.float64, rng.normal(size=6) + 1j * rng.normal(size=6)),  # ... a complex array
    (np.float32, 1.5),                                           # ... a Python float
])
def test_dtypes_decide_what_goes_in_place(x_dtype, y):
    x = rng.normal(size=6).astype(x_dtype)

    gradient = sg.grad(times_other)(x, y)
    # the generated code computes 2.0 * y first: float64 for an int16 y (as before reuse.py)
    written = (1.0 - np.tanh(x) ** 2) * (2.0 * y)
    assert gradient.dtype == written.dtype
    expected = (1 - np.tanh(x.astype(np.float64)) ** 2) * np.asarray(y) * 2.0
    np.testing.assert_allclose(gradient, expected, rtol=1e-5 if x_dtype == np.float32 else 1e-12)
    source = sg.source(sg.grad(times_other), x, y)
    downcast = written.dtype != x.dtype
    assert ("a *= 2.0 * y" in source) == (not downcast), source


def int_temporary(x, k):
    m = k * 3            # an int array
    return np.sum(m * x + np.exp(x) * m)


def test_an_int_temporary_does_not_hold_floats():
    x, k = rng.normal(size=5), rng.integers(1, 4, size=5)
    check_grads(int_temporary, x, k, wrt=0, order=2)
    assert "m *=" not in sg.source(sg.grad(int_temporary), x, k)


def exp_of_int_temporary(x, k):
    m = k * 3            # an int array: np.exp(m) is float64, which m cannot hold
    a = m + x
    em = np.exp(m)
    s = x - 1.0          # a float64 temporary: np.exp(s) can go into it
    b = s + 2.0
    es = np.exp(s)
    return np.sum(a * em + es * b)


def test_a_ufunc_goes_into_a_dead_argument_of_its_dtype_only():
    x, k = rng.normal(size=5), rng.integers(0, 2, size=5)
    source = sg.source(sg.grad(exp_of_int_temporary), x, k)
    assert "np.exp(s, out=s)" in source and "out=m" not in source
    check_grads(exp_of_int_temporary, x, k, wrt=0, order=2)


def test_float32_programs():
    x = rng.normal(size=7).astype(np.float32)
    w = np.float32(0.7)
    check_grads(chain, x, w, np.float32(0.1), wrt=(0, 1, 2), modes=("grad",), rtol=2e-2,
                atol=1e-3)
    gradient = sg.grad(chain)(x, w, np.float32(0.1))
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, sg.grad(chain)(x.astype(np.float64), 0.7, 0.1),
                               rtol=1e-4, atol=1e-6)


def test_the_same_shapes_with_other_dtypes_get_code_of_their_own():
    gradient = sg.grad(times_other)
    x64, y64 = rng.normal(size=6), rng.normal(size=6)
    first = gradient(x64, y64)
    x32 = x64.astype(np.float32)
    second = gradient(x32, y64)  # a float32 temp times float64: not in place
    assert second.dtype == np.float64
    np.testing.assert_allclose(second, first, rtol=1e-6)


# --- arrays another name, a view, a list or the result holds ---------------------------------

def broadcast_up(x, y):
    a = np.tanh(x)          # (3,)
    return np.sum(a * y)    # (4, 3): a cannot hold it


def aliased(x):
    a = np.tanh(x)
    b = a
    c = a * 2.0
    return np.sum(b * c)


def viewed(x):
    a = np.tanh(x)
    y = a[:5]
    c = a * 2.0
    return np.sum(c) + np.sum(y * y)


def listed(x):
    a = np.tanh(x)
    kept = [a]
    c = a * 2.0
    return np.sum(c * kept[0])


def returned_twice(x):
    a = np.sin(x)
    return np.sum(a * a * 3.0)


def loop_carried(x):
    a = np.sin(x)
    s = 0.0
    for i in range(3):
        b = a * 2.0          # a is read again by the next step
        s = s + np.sum(b * b)
    return s


def loop_local(x):
    s = 0.0
    h = x
    for i in range(4):
        a = np.tanh(h)
        h = a * 0.5 + x      # a is not read after this: its array holds h
        s = s + np.sum(h * h)
    return s


def while_loop(x):
    s = 0.0
    h = x * 1.0
    while s < 10.0:
        a = np.cos(h)
        h = h - a * 0.1
        s = s + np.sum(h * h) + 1.0
    return s


@pytest.mark.parametrize("function, args", [
    (broadcast_up, (rng.normal(size=3), rng.normal(size=(4, 3)))),
    (aliased, (rng.normal(size=6),)),
    (viewed, (rng.normal(size=8),)),
    (listed, (rng.normal(size=6),)),
    (returned_twice, (rng.normal(size=6),)),
    (loop_carried, (rng.normal(size=6),)),
    (loop_local, (rng.normal(size=6),)),
    (while_loop, (rng.normal(size=6),)),
    (chain, (rng.normal(size=6), 0.7, 0.1)),
])
def test_derivatives_stay_right(function, args):
    check_grads(function, *args, order=2, eager=True)


def test_a_vjp_that_returns_the_reused_array():
    def f(x):
        a = np.tanh(x)
        return a * 3.0 - x
    x = rng.normal(size=5)
    value, pullback = sg.vjp(f)(x)
    u = rng.normal(size=5)
    first = pullback(u)
    np.testing.assert_allclose(first, u * 3.0 * (1 - np.tanh(x) ** 2) - u)
    np.testing.assert_allclose(pullback(u), first)
    np.testing.assert_allclose(value, np.tanh(x) * 3.0 - x)


def test_the_adjoint_accumulates_in_place_in_the_ode():
    import sys
    sys.path.insert(0, "benchmarks")
    import workloads as w
    args = w.lotka_volterra_args(rng, 20, 10)
    source = sg.source(sg.grad(w.lotka_volterra, wrt=(0, 1, 2, 3)), *args)
    assert "dv_2 -= ddv * gamma" in source and "= dv_2 - " not in source
    check_grads(w.lotka_volterra, *args, wrt=(0, 1, 2, 3), modes=("grad",))


def read_in_both_operands(x, y):
    t0 = np.tanh(x) + 0.0 * x
    t1 = ((-x * (3.0 - 2.0)) - (x - -y)) + 0.0 * x
    t2 = (y * ((3 + t0) - 1.5)) + 0.0 * x
    t3 = (((3.0) ** 2 * (3 - t1)) + y) + 0.0 * x
    t4 = (((t2 + t3)) ** 2 / np.sin((t3 * t1))) + 0.0 * x
    t5 = (t0 + ((1.5 * t0) + (t2 - t3))) + 0.0 * x  # t0 read on both sides of the first +
    return np.sum(t3) + np.sum(t4) + np.sum(t5)


def test_an_array_keeps_its_value_until_each_read_of_the_statement():
    """(found by the random programs below) ``t0 += ...`` after ``t0 *= 1.5`` computed the
    right side into ``t0`` while the left side still needed it."""
    x = np.array([-0.49299386, -0.48957384, 0.80568564], dtype=np.float32)
    y = np.array([-1, 2, -2])
    value, gradient = sg.value_and_grad(read_in_both_operands)(x, y)
    assert value == read_in_both_operands(x, y)
    check_grads(read_in_both_operands, x.astype(np.float64), y, wrt=0)


# --- the dtype inference itself ---------------------------------------------------------------

def _kinds(source, parameters):
    function_def = gast.parse(source).body[0]
    return infer_kinds(function_def, parameters, lambda call: None)[0]


def test_kinds_follow_numpys_promotion():
    kinds = _kinds("def f(x, y, k):\n a = x * 2.0\n b = a * y\n c = x * k\n d = k // 2\n"
                   " e = k / 2\n g = a\n g = b\n return a\n",
                   {"x": np.dtype(np.float32), "y": np.dtype(np.float64), "k": int})
    assert kinds["a"] == np.float32 and isinstance(kinds["a"], np.dtype)
    assert kinds["b"] == np.float64
    assert kinds["c"] == np.float32      # a Python int is weak
    assert kinds["d"] is int and kinds["e"] is float
    assert kinds["g"] is None            # bound to float32 and float64 values


def test_kinds_of_pops_and_loops():
    kinds = _kinds("def f(x, n):\n s = []\n for i in n:\n  s.append(x * 2.0)\n  t = i\n"
                   " y = s.pop()\n z = x\n for j in n:\n  z = z * 1j\n return y\n",
                   {"x": np.dtype(np.float64)})
    assert kinds["y"] == np.float64
    assert kinds["t"] is None and kinds["z"] is None  # a loop target; float64 and complex


# --- random elementwise programs: the pass changes no value, no dtype -------------------------

_UNARY = ["np.tanh({})", "np.sin({})", "np.cos({})", "np.exp(-({}) * ({}))", "-{}", "({}) ** 2"]
_BINARY = ["+", "-", "*", "/"]


def _random_program(generator):
    names = ["x", "y"]
    lines = []

    def operand():
        choice = generator.integers(0, 5)
        if choice == 0:
            return repr(float(generator.choice([0.5, 2.0, 1.5, 3.0])))
        if choice == 1:
            return str(int(generator.choice([2, 3])))
        if choice == 2:  # the latest names often: one array read twice in a statement
            return str(generator.choice(names[-2:]))
        return str(generator.choice(names))

    def expression(depth):
        if depth == 0 or generator.random() < 0.3:
            return operand()
        if generator.random() < 0.3:
            form = str(generator.choice(_UNARY))
            inner = expression(depth - 1)
            return form.format(*([inner] * form.count("{}")))
        return f"({expression(depth - 1)} {generator.choice(_BINARY)} {expression(depth - 1)})"

    for index in range(int(generator.integers(2, 7))):
        name = f"t{index}"
        kind = generator.random()
        if kind < 0.1 and index:
            lines.append(f"    {name} = {generator.choice(names[2:] or ['x'])}")  # a second name
        elif kind < 0.2:
            lines.append(f"    {name} = {expression(2)}")
            lines.append(f"    kept.append({name})")
        elif kind < 0.3:
            lines.append(f"    {name} = {expression(1)} * x")
            lines.append(f"    for i in range(2):")
            lines.append(f"        {name} = {name} * 0.5 + np.tanh({generator.choice(names)})")
        elif kind < 0.35:
            lines.append(f"    {name} = {expression(2)} + x")
            lines.append(f"    view = {name}[:1]")
            lines.append(f"    s = s + np.sum(view)")
        else:
            lines.append(f"    {name} = {expression(3)} + 0.0 * x")
        names.append(name)
    total = " + ".join(f"np.sum({n})" for n in names[-3:])
    body = "\n".join(lines)
    return (f"def f(x, y):\n    kept = []\n    s = 0.0\n{body}\n"
            f"    return s + {total} + sum(np.sum(k) for k in kept)\n")


_Y = [lambda g, n: g.normal(size=n), lambda g, n: g.normal(size=n).astype(np.float32),
      lambda g, n: g.integers(-2, 3, size=n), lambda g, n: float(g.normal()),
      lambda g, n: np.float32(g.normal()), lambda g, n: int(g.integers(1, 3)),
      lambda g, n: g.normal(size=(1,))]


def test_random_programs_give_the_values_they_gave_without_the_pass(monkeypatch):
    """Every rewrite of reuse.py keeps each value bit for bit and each dtype: the gradient of a
    random program (float32 or float64 x; y a float64, float32 or int array, a Python or NumPy
    number, or a one-element array that broadcasts) equals the one made without the pass.
    ``SRCGRAD_REUSE_PROGRAMS=2000`` runs more."""
    import srcgrad.transform.pipeline as pipeline
    import os
    count = int(os.environ.get("SRCGRAD_REUSE_PROGRAMS", "60"))
    generator = np.random.default_rng(int(os.environ.get("SRCGRAD_REUSE_SEED", "1717")))
    checked = changed = 0
    for _ in range(count):
        text = _random_program(generator)
        n = int(generator.integers(2, 6))
        x = generator.normal(size=n)
        if generator.random() < 0.4:
            x = x.astype(np.float32)
        y = _Y[int(generator.integers(0, len(_Y)))](generator, n)
        results = {}
        x_before, y_before = np.copy(x), np.copy(y)
        for on in (True, False):
            namespace = {"np": np}
            exec(text, namespace)
            function = namespace["f"]
            if not on:
                monkeypatch.setattr(pipeline, "compute_in_place", lambda *args: None)
            try:
                with np.errstate(all="ignore"):
                    gradient = sg.grad(function, source=text)(x, y)
                    value = sg.value_and_grad(function, source=text)(x, y)
                    code = sg.source(sg.grad(function, source=text), x, y)
                results[on] = (gradient, value, code)
            except (ZeroDivisionError, ValueError) as error:
                # 1.5 / (3.0 - 3) of Python's numbers; a write into expand_reduced's read-only
                # view, which code before reuse.py makes too (dt2 = dt5, dt2 += ...)
                results[on] = type(error)
            finally:
                monkeypatch.undo()
        if isinstance(results[True], type) or isinstance(results[False], type):
            assert results[True] == results[False], text  # the same failure either way
            continue
        (g_on, v_on, code_on), (g_off, v_off, code_off) = results[True], results[False]
        np.testing.assert_array_equal(x, x_before, err_msg="x changed\n" + text + code_on)
        np.testing.assert_array_equal(y, y_before, err_msg="y changed\n" + text + code_on)
        assert g_on.dtype == g_off.dtype, text + code_on
        np.testing.assert_array_equal(g_on, g_off, err_msg=text + code_on)
        np.testing.assert_array_equal(v_on[1], v_off[1], err_msg=text + code_on)
        assert v_on[0] == v_off[0] or np.isnan(v_on[0]) and np.isnan(v_off[0]), \
            f"{text}\nx={x!r}\ny={y!r}\non={v_on[0]!r} off={v_off[0]!r} " \
            f"plain={namespace['f'](x, y)!r}"
        checked += 1
        changed += code_on != code_off
    assert changed > count // 8, (checked, changed)  # the pass met a fair share of them
