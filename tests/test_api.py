"""The public API: decorator forms, caching, the generated source, debuggability, the CLI."""
import importlib.util
import pathlib
import subprocess
import sys
import traceback

import numpy as np
import pytest

import srcgrad as sg
from checks import check_grad

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_quickstart():
    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "examples" / "quickstart.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@sg.grad
def decorated(x):
    return np.sum(np.sin(x) * x)


@sg.grad(wrt=(0, 1))
def decorated_pair(x, y):
    return np.sum(x * y ** 2)


def test_decorator_forms():
    x = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(decorated(x), np.cos(x) * x + np.sin(x))
    gx, gy = decorated_pair(x, x + 1)
    np.testing.assert_allclose(gx, (x + 1) ** 2)
    np.testing.assert_allclose(gy, 2 * x * (x + 1))


def test_transform_happens_once_per_function_and_wrt():
    def f(x):
        return np.sum(x * x)
    first, second = sg.grad(f), sg.grad(f)
    assert first.generated is second.generated
    assert sg.grad(f, wrt=0).generated is not sg.value_and_grad(f).generated


def names_that_collide(d, dx, stack, push, unbroadcast):
    pop = d * dx
    np_ = pop * stack + push * unbroadcast
    return np.sum(np_ * d)


def test_user_names_never_collide_with_generated_ones():
    rng = np.random.default_rng(0)
    check_grad(names_that_collide, *[rng.normal(size=3) for _ in range(5)])


def test_quickstart_source_reads_like_hand_written_code():
    quickstart = load_quickstart()
    source = sg.source(sg.grad(quickstart.loss), *quickstart.example_data())
    lines = source.splitlines()
    assert lines[0] == "def loss_grad(w, x, y):"
    assert "    h = np.tanh(x @ w)" in lines
    assert "    derr = np.zeros_like(err)" in lines
    assert "    for i in reversed(range(err.shape[0])):" in lines
    assert "        if err[i] > 0:" in lines  # the branch is replayed, not saved
    assert "stack" not in source  # the loop overwrites only numbers the adjoint never reads
    assert "unbroadcast" not in source  # the shapes say that broadcasting did nothing
    assert "    return x.T @ (derr * (1.0 - h * h))" == lines[-1]
    assert any(line.strip().startswith("# line ") and "total = total + err[i] ** 2" in line
               for line in lines)
    assert "pass" not in source and "tmp" not in source


def straight_line(x, w):
    h = np.tanh(x @ w)
    h = h * h
    return np.sum(h)


def test_straight_line_code_saves_nothing():
    source = sg.source(sg.grad(straight_line, wrt=1))
    assert "stack" not in source and "pop" not in source
    assert "h_2 = h * h" in source


def test_generated_code_shows_in_tracebacks():
    def misshaped(x):
        y = x[np.array([0, 5])]
        return np.sum(y)
    with pytest.raises(IndexError) as caught:
        sg.grad(misshaped)(np.ones(2))
    frames = traceback.extract_tb(caught.value.__traceback__)
    generated = [f for f in frames if f.filename.startswith("<srcgrad grad of misshaped")]
    assert generated and generated[-1].line == "y = x[np.array([0, 5])]"


def test_cli_prints_the_generated_source():
    quickstart = load_quickstart()
    run = subprocess.run([sys.executable, "-m", "srcgrad", "show", "examples/quickstart.py:loss"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout == sg.source(sg.grad(quickstart.loss))
    run = subprocess.run([sys.executable, "-m", "srcgrad", "show", "examples/quickstart.py:loss",
                          "--wrt", "0,2", "--mode", "vjp"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.startswith("def loss_vjp(w, x, y):")
    assert "return (dw, dy)" in run.stdout


def test_cli_reports_bad_targets():
    run = subprocess.run([sys.executable, "-m", "srcgrad", "show", "nowhere.py:f"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode != 0 and "no such file: nowhere.py" in run.stderr
    run = subprocess.run([sys.executable, "-m", "srcgrad", "show", "examples/quickstart.py:nope"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode != 0 and "defines no function 'nope'" in run.stderr


def softplus(x):
    return np.log1p(np.exp(x))


@sg.defvjp(softplus)
def softplus_rule(g, ans, x):
    return g / (1.0 + np.exp(-x))


sg.non_differentiable(np.random.default_rng)


def uses_user_rule(x):
    return np.sum(softplus(x) * x)


def test_user_registered_rule_is_inlined():
    x = np.linspace(-2, 2, 5)
    check_grad(uses_user_rule, x)
    source = sg.source(sg.grad(uses_user_rule))
    assert "g / (1.0 + np.exp(-x))" not in source
    assert "unbroadcast(dsoftplus_x_times_x * x, softplus_x) / (1.0 + np.exp(-x))" in source


def test_cli_shows_forward_mode():
    quickstart = load_quickstart()
    run = subprocess.run([sys.executable, "-m", "srcgrad", "show", "examples/quickstart.py:loss",
                          "--mode", "forward"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert run.stdout == sg.source(sg.jvp(quickstart.loss, wrt=0))
    assert run.stdout.startswith("def loss_jvp(w, x, y, dw):")


@pytest.mark.parametrize("function, summary", [
    (sg.grad, "The gradient of a scalar-valued function with respect to argument(s) ``wrt``."),
    (sg.value_and_grad, "Like :func:`grad`, but the derivative returns ``(value, gradient)`` "
                        "from one pass."),
    (sg.vjp, "Reverse mode for array-valued functions: values and vector-Jacobian products."),
])
def test_help_shows_the_parameters_and_the_docstring(function, summary):
    import pydoc
    text = pydoc.render_doc(function, renderer=pydoc.plaintext)
    name = function.__name__
    assert f"function {name} in module srcgrad.api" in text
    assert (f"{name}(function: 'Optional[Callable[..., Any]]' = None, wrt: 'Wrt' = 0, "
            f"source: 'Optional[str]' = None, *, has_aux: 'bool' = False, argnums: "
            f"'Optional[Wrt]' = None) -> 'Union[Derivative, Callable[[Callable[..., "
            f"Any]], Derivative]]'\n    {summary}\n") in text


def test_every_public_function_is_documented_and_annotated():
    import inspect
    for name in sg.__all__:
        value = getattr(sg, name)
        if name == "__version__" or inspect.ismodule(value):
            continue
        assert inspect.getdoc(value), f"srcgrad.{name} has no docstring"
        if inspect.isfunction(value) and value.__module__ == "srcgrad.api":
            signature = inspect.signature(value)
            assert signature.return_annotation is not inspect.Signature.empty, name
            assert all(p.annotation is not inspect.Parameter.empty
                       for p in signature.parameters.values()), name


def test_the_version_is_the_packages():
    import importlib.metadata
    import re
    assert re.fullmatch(r"\d+\.\d+\.\d+", sg.__version__)
    try:
        installed = importlib.metadata.version("srcgrad")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return
    assert installed == sg.__version__


def test_the_package_is_marked_as_typed():
    assert (ROOT / "srcgrad" / "py.typed").is_file()
    assert 'srcgrad = ["py.typed"]' in (ROOT / "pyproject.toml").read_text()


def test_help_of_the_rule_registrations_names_them():
    import pydoc
    for function, summary in [(sg.defvjp, "Register the decorated function as the reverse-mode"),
                              (sg.defjvp, "Register the decorated function as the forward-mode")]:
        text = pydoc.render_doc(function, renderer=pydoc.plaintext)
        name = function.__name__
        assert (f"{name}(*primitives: 'Callable[..., Any]') -> 'Callable[[_F], _F]'\n"
                f"    {summary}") in text


def test_jax_style_primals_in_place_of_wrt_are_refused_with_the_srcgrad_spelling():
    # sg.vjp(f)(x) is jax.vjp(f, x); the second argument of sg.vjp is wrt
    def g(x):
        return np.sin(x) * x
    x = np.array([0.5, 1.0])
    for make, name in ((sg.vjp, "vjp"), (sg.grad, "grad"), (sg.value_and_grad, "value_and_grad")):
        with pytest.raises(sg.SrcgradError) as raised:
            make(g, x)
        message = str(raised.value)
        assert f"the second argument of srcgrad.{name} is wrt" in message
        assert f"srcgrad.{name}(f)(x)" in message
        assert __file__ in message
    out, pullback = sg.vjp(g)(x)
    np.testing.assert_allclose(pullback(np.ones(2)), np.cos(x) * x + np.sin(x))


def _cubic_sum(x):
    return np.sum(np.sin(x) * x[0])


def test_a_jacobian_or_hessian_differentiated_again_is_refused_at_the_users_line():
    """Third derivatives through sg.jacobian: the Jacobian's loop over unit directions is not
    differentiated again; the refusal names the user's line and what to write instead."""
    import inspect
    line = inspect.currentframe().f_lineno + 2
    with pytest.raises(sg.SrcgradError) as caught:
        sg.jacobian(sg.hessian(_cubic_sum))(np.array([0.3, 0.7]))
    message = str(caught.value)
    assert message.startswith(f"{__file__}, line {line}: ")
    assert "srcgrad.grad(srcgrad.grad(srcgrad.grad(f)))" in message
    assert "srcgrad/api.py" not in message
    with pytest.raises(sg.SrcgradError, match="result of srcgrad.jacobian or srcgrad.hessian"):
        sg.grad(sg.hessian(_cubic_sum))(np.array([0.3, 0.7]))


def test_third_derivative_of_a_function_of_a_number_by_nested_grad():
    third = sg.grad(sg.grad(sg.grad(lambda t: np.sin(t) * t ** 2)))(0.4)
    expected = -np.cos(0.4) * 0.16 - 6 * np.sin(0.4) * 0.4 + 6 * np.cos(0.4)
    assert np.isclose(third, expected)
