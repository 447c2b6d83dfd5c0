"""The language fence: every gast node type is handled or refused at the user's file and line."""
import importlib.util
import inspect
import sys
import textwrap

import gast
import numpy as np
import pytest

import srcgrad as sg
from srcgrad.errors import SrcgradError, UnsupportedSyntax
from srcgrad.transform import fence

# Node classes that are not syntax of a function body: abstract bases, module wrappers, and
# Python 2 or pre-3.8 nodes the parser no longer makes.
NOT_IN_A_FUNCTION = {"AST", "mod", "stmt", "expr", "expr_context", "boolop", "operator",
                     "unaryop", "cmpop", "excepthandler", "pattern", "type_ignore",
                     "type_param", "slice", "Module", "Interactive", "Expression",
                     "FunctionType", "Suite", "TypeIgnore", "AugLoad", "AugStore", "Exec",
                     "Print", "Repr"}


def node_classes():
    return sorted((name, cls) for name, cls in vars(gast).items()
                  if inspect.isclass(cls) and issubclass(cls, gast.AST)
                  and name not in NOT_IN_A_FUNCTION)


@pytest.mark.parametrize("name, cls", node_classes(), ids=[n for n, _ in node_classes()])
def test_every_node_type_is_handled_or_refused(name, cls):
    assert (cls in fence.HANDLED) != (cls in fence.REFUSED), \
        f"{name} must be in exactly one of fence.HANDLED and fence.REFUSED"


# One function per refused construct: (source, the text of the line the error must name).
REFUSED_SNIPPETS = {
    "try": ("def f(x):\n    try:\n        y = x * 2.0\n    except ValueError:\n"
            "        y = x\n    return y\n", "try:"),
    "with": ("def f(x):\n    with open('data.txt') as fh:\n        y = np.log(x)\n"
             "    return y\n", "with open"),
    "async def": ("def f(x):\n    async def g():\n        return 1\n    return x\n",
                  "async def g"),
    "await": ("async def f(x):\n    return x\n", None),
    "yield": ("def f(x):\n    y = x * 2.0\n    yield y\n", "yield y"),
    "yield from": ("def f(x):\n    yield from [x]\n", "yield from"),
    "class": ("def f(x):\n    class A:\n        pass\n    return x\n", "class A"),
    "global": ("def f(x):\n    global G\n    return x\n", "global G"),
    "nonlocal": ("def f(x):\n    c = 0.0\n    def add():\n        nonlocal c\n"
                 "        c = c + x\n    add()\n    return c\n", "nonlocal c"),
    "del": ("def f(x):\n    y = x * 2.0\n    del y\n    return x\n", "del y"),
    "set comprehension": ("def f(x):\n    s = {v for v in [1.0, 2.0]}\n    return x\n",
                          "s = {v"),
    "dict comprehension": ("def f(x):\n    d = {k: x for k in 'ab'}\n    return x\n",
                           "d = {k"),
    "match": ("def f(x):\n    match 1:\n        case 1:\n            y = x\n        case _:\n"
              "            y = x\n    return y\n", "match 1:"),
    "out=": ("def f(x):\n    y = np.zeros_like(x)\n    np.multiply(x, x, out=y)\n"
             "    return np.sum(y)\n", "out=y"),
    "starred assignment": ("def f(x):\n    a, *rest = x\n    return a\n", "a, *rest"),
}


def load(tmp_path, source, name="f"):
    """Write ``source`` to a real file (srcgrad reads source) and import its function."""
    path = tmp_path / f"user_{abs(hash(source))}.py"
    path.write_text("import numpy as np\n\n" + source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return getattr(module, name), path


@pytest.mark.parametrize("construct", sorted(REFUSED_SNIPPETS))
def test_refused_constructs_name_file_and_line(tmp_path, construct):
    source, line_text = REFUSED_SNIPPETS[construct]
    function, path = load(tmp_path, source)
    for make in (lambda f: sg.grad(f), lambda f: sg.jvp(f, wrt=0)):
        with pytest.raises(SrcgradError) as caught:
            derivative = make(function)
            derivative(np.array([1.0, 2.0]), *([np.ones(2)] if derivative.mode == "jvp" else []))
        message = str(caught.value)
        assert str(path) in message or "can only transform" in message
        if line_text is not None:
            lines = path.read_text().splitlines()
            expected = next(i + 1 for i, text in enumerate(lines) if line_text in text)
            assert f"line {expected}:" in message, message


def test_a_node_type_nobody_listed_is_refused(tmp_path, monkeypatch):
    function, path = load(tmp_path, "def f(x):\n    y = x * 2.0\n    return y\n")
    monkeypatch.setattr(fence, "HANDLED", fence.HANDLED - {gast.BinOp})
    with pytest.raises(UnsupportedSyntax, match=r"line 4: srcgrad cannot differentiate the "
                                                r"construct BinOp"):
        sg.grad(function)(1.5)


# -- constructs the fence lets through are right in every mode ----------------------------------
def walrus_in_if(x):
    if (s := np.sum(x)) > 0:
        return s * s
    return s


def walrus_in_while(x):
    k = 0
    while (y := x * 0.5) > 0.1 and k < 10:
        x = y
        k = k + 1
    return x


def walrus_read_after(x):
    z = (t := x * 2.0) + t * t
    return z


def raise_and_assert(x):
    assert x > -100.0, "too small"
    if x > 1e6:
        raise ValueError(f"x is too large: {x}")
    return x * x * 3.0


def numeric_derivative(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return (f(float(x) + eps) - f(float(x) - eps)) / (2 * eps)
    out = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = eps
        out.flat[k] = (f(x + e) - f(x - e)) / (2 * eps)
    return out


@pytest.mark.parametrize("function, x", [
    (walrus_in_if, np.array([0.5, 1.0, 2.0])), (walrus_in_if, np.array([-0.5, -1.0, 0.2])),
    (walrus_in_while, 3.0), (walrus_read_after, 1.3), (raise_and_assert, 0.7)])
def test_handled_constructs_in_every_mode(function, x):
    expected = numeric_derivative(function, x)
    np.testing.assert_allclose(sg.grad(function)(x), expected, rtol=1e-6, atol=1e-8)
    value, gradient = sg.value_and_grad(function)(x)
    np.testing.assert_allclose(value, function(x), rtol=1e-12)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)
    direction = np.ones_like(x)
    _, tangent = sg.jvp(function, (x,), (direction,))
    np.testing.assert_allclose(tangent, np.sum(expected * direction), rtol=1e-6, atol=1e-8)


def test_raise_under_if_raises_the_users_error():
    with pytest.raises(ValueError, match="x is too large"):
        sg.grad(raise_and_assert)(2e6)
    with pytest.raises(AssertionError, match="too small"):
        sg.grad(raise_and_assert)(-200.0)


def walrus_under_or(x):
    flag = x > 0 or (t := x * 2.0) > 1
    return x


def test_walrus_that_may_be_skipped_is_refused():
    with pytest.raises(UnsupportedSyntax, match=r"line \d+: .*\(:=\) that and/or may skip"):
        sg.grad(walrus_under_or)(1.0)


def test_the_fence_runs_in_the_generated_code_too(tmp_path):
    source = textwrap.dedent("""\
        def f(x):
            y = x * x
            return y
        """)
    function, _ = load(tmp_path, source)
    assert sg.grad(sg.grad(function))(1.5) == pytest.approx(2.0)
