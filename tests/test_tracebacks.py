"""Errors point at the user: messages name the user's file and line and the right API, srcgrad's
own frames are hidden, and a failure of the user's own code inside a derivative names their line.

Each scenario runs as a script in a fresh interpreter, so what is checked is what a user sees
from Python's default exception hook (which, before 3.13, cannot show generated lines).
"""
import os
import pathlib
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import srcgrad as sg

ROOT = pathlib.Path(__file__).resolve().parents[1]
HIDES_EVERY_FRAME = sys.version_info >= (3, 11)  # 3.10 keeps the one frame that re-raises


def run_script(tmp_path, text, name="script.py", env=None):
    """Run ``text`` as a script with srcgrad importable; returns (script path, stderr lines)."""
    script = tmp_path / name
    script.write_text(textwrap.dedent(text))
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    environment.pop("SRCGRAD_TRACEBACK", None) if not env else None
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=environment, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    return str(script), run.stderr.splitlines()


def without_carets(lines):
    """Traceback lines less the ``^^^^`` and ``~~~^^`` markers that 3.11+ add under a call."""
    return [line for line in lines if set(line.strip()) - {"^", "~"}]


SHAPE_BUG = """\
    import numpy as np
    import srcgrad as sg


    def loss(w, x):
        h = x @ w
        bad = h + np.ones(5)
        return np.sum(bad ** 2)


    sg.grad(loss)(np.ones(3), np.ones((4, 3)))
"""


def test_a_failure_in_the_users_code_names_their_file_line_and_source(tmp_path):
    script, lines = run_script(tmp_path, SHAPE_BUG)
    note = ["srcgrad: raised in the generated derivative, at this line of yours:",
            f'  File "{script}", line 7, in loss',
            "    bad = h + np.ones(5)"]
    message = "ValueError: operands could not be broadcast together with shapes (4,) (5,) "
    assert lines[-4:] == [message] + note
    # the user's call, then the generated line where the failing operation ran; srcgrad's own
    # frames are dropped (3.10 keeps the one that re-raises)
    frames = [line for line in lines if line.startswith("  File")]
    own = [f'  File "{ROOT / "srcgrad" / "api.py"}"'] if not HIDES_EVERY_FRAME else []
    assert [f.split(",")[0] for f in frames] == \
        [f'  File "{script}"'] + own + ['  File "<srcgrad grad of loss #1>"', f'  File "{script}"']
    assert '  File "<srcgrad grad of loss #1>", line 3, in loss_grad' in lines


def test_the_note_is_attached_in_process_too():
    def loss(w, x):
        h = x @ w
        return np.sum((h + np.ones(5)) ** 2)
    with pytest.raises(ValueError) as caught:
        sg.grad(loss)(np.ones(3), np.ones((4, 3)))
    first_line = loss.__code__.co_firstlineno
    assert caught.value.__notes__ == [
        "srcgrad: raised in the generated derivative, at this line of yours:\n"
        f'  File "{__file__}", line {first_line + 2}, in loss\n'
        "    return np.sum((h + np.ones(5)) ** 2)"]


HELPER_BUG = """\
    import numpy as np
    import srcgrad as sg


    def helper(v):
        return v[np.array([0, 7])]


    def loss(x):
        y = np.sin(x)
        return np.sum(helper(y))


    sg.grad(loss)(np.ones(3))
"""


def test_a_failure_inside_a_called_helper_names_the_helpers_line(tmp_path):
    script, lines = run_script(tmp_path, HELPER_BUG)
    assert lines[-4:] == [
        "IndexError: index 7 is out of bounds for axis 0 with size 3",
        "srcgrad: raised in the generated derivative, at this line of yours:",
        f'  File "{script}", line 6, in helper',
        "    return v[np.array([0, 7])]"]


NO_RULE = """\
    import numpy as np
    from scipy.special import jv
    import srcgrad as sg


    def loss(x):
        return np.sum(jv(1.0, x) * x)


    sg.grad(loss)(np.ones(3))
"""


def test_a_missing_rule_shows_the_message_right_after_the_users_call(tmp_path):
    pytest.importorskip("scipy")
    script, lines = run_script(tmp_path, NO_RULE)
    message = (f"srcgrad.errors.NoDerivativeRule: {script}, line 7: srcgrad cannot differentiate "
               f"a call to jv (scipy.special.jv), which has no derivative rule. Register its "
               f"derivatives, e.g. '@srcgrad.defvjp(scipy.special.jv)' over 'def jv_vjp(g, ans, "
               f"x): return g * <dans/dx>' for reverse mode and '@srcgrad.defjvp("
               f"scipy.special.jv)' over 'def jv_jvp(ans, x, *, dx): return dx * <dans/dx>' for "
               f"forward mode; or declare it without derivative with "
               f"srcgrad.non_differentiable(scipy.special.jv)")
    lines = without_carets(lines)
    user_call = [f'  File "{script}", line 10, in <module>', "    sg.grad(loss)(np.ones(3))"]
    if HIDES_EVERY_FRAME:
        assert lines == ["Traceback (most recent call last):"] + user_call + [message]
    else:
        assert lines[:3] == ["Traceback (most recent call last):"] + user_call
        assert len(lines) == 6 and "srcgrad/api.py" in lines[3] and lines[-1] == message


def test_srcgrad_traceback_full_keeps_the_internal_frames(tmp_path):
    pytest.importorskip("scipy")
    _, lines = run_script(tmp_path, NO_RULE, env={"SRCGRAD_TRACEBACK": "full"})
    assert any("srcgrad/transform/normalize.py" in line for line in lines)


NON_SCALAR = """\
    import numpy as np
    import srcgrad as sg


    def double(x):
        y = x * 2.0
        return y


    sg.grad(double)(np.ones(2))
"""


def test_a_non_scalar_output_names_the_return_line_and_vjp(tmp_path):
    script, lines = run_script(tmp_path, NON_SCALAR)
    assert without_carets(lines)[-1] == (
        f"srcgrad.errors.NonScalarOutput: {script}, line 7: grad needs double to return a "
        f"scalar, but it returned an array of shape (2,); use srcgrad.vjp for array-valued "
        f"functions, or reduce the output (for example with np.sum) before returning it")


def test_a_wrong_wrt_names_the_functions_def_line():
    def f(x, y):
        return np.sum(x * y)
    with pytest.raises(sg.SrcgradError) as caught:
        sg.grad(f, wrt="z")(np.ones(2), np.ones(2))
    assert str(caught.value) == (
        f"{__file__}, line {f.__code__.co_firstlineno}: wrt='z' does not name a parameter of "
        f"f(x, y); give positions or parameter names")
    assert caught.value.filename == __file__
    assert caught.value.lineno == f.__code__.co_firstlineno


def test_misusing_the_api_names_the_callers_line():
    with pytest.raises(sg.SrcgradError) as caught:
        sg.source(np.sin)
    call_line = sys._getframe().f_lineno - 1
    assert str(caught.value).startswith(f"{__file__}, line {call_line}: srcgrad.source takes")


def test_the_vjp_transform_of_a_ufunc_points_to_defvjp():
    out, pullback = sg.vjp(np.exp)(0.5)  # a primitive with a rule is differentiated by it
    assert pullback(1.0) == pytest.approx(np.exp(0.5))
    with pytest.raises(sg.SourceError) as caught:
        sg.vjp(np.spacing)
    assert str(caught.value).endswith(
        ": srcgrad.vjp transforms Python functions, and numpy.spacing is not one (it is a ufunc). "
        "To give it a derivative, register a rule: @srcgrad.defvjp(numpy.spacing)")
    special = pytest.importorskip("scipy.special")
    with pytest.raises(sg.SourceError) as caught:
        sg.vjp(special.jv)
    assert str(caught.value).endswith(
        ": srcgrad.vjp transforms Python functions, and scipy.special.jv is not one (it is a "
        "ufunc). To give it a derivative, register a rule: @srcgrad.defvjp(scipy.special.jv)")
    with pytest.raises(sg.SourceError) as caught:
        sg.jvp(special.jv, wrt=0)
    assert "register a rule: @srcgrad.defjvp(scipy.special.jv)" in str(caught.value)


def cube(x):
    return x ** 3


@sg.defvjp(cube)
def cube_vjp(g, ans, x):
    return g * 3 * x ** 2


def uses_cube(x):
    return np.sum(cube(x))


def test_forward_mode_without_a_forward_rule_points_to_defjvp():
    with pytest.raises(sg.UnsupportedSyntax) as caught:
        sg.jvp(uses_cube, wrt=0)(np.ones(2), np.ones(2))
    message = str(caught.value)
    assert message.startswith(f"{__file__}, line {uses_cube.__code__.co_firstlineno + 1}: ")
    assert message.endswith("It has no forward rule; register one with "
                            f"@srcgrad.defjvp({__name__}.cube)")


def summed(x, axis=None):
    return np.sum(x, axis=axis)


@sg.defvjp(summed)
def summed_vjp(g, ans, x, axis=None):
    if axis is not None:
        expanded = np.expand_dims(g, axis)
    else:
        expanded = g
    return np.broadcast_to(expanded, x.shape)


def column_sums(x):
    return np.sum(summed(x * x, axis=0))


def test_a_rule_that_tests_an_option_against_none_compiles_without_warnings():
    x = np.arange(6.0).reshape(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        source = sg.source(sg.grad(column_sums))
        gradient = sg.grad(column_sums)(x)  # the code specialized to x's shape
    np.testing.assert_allclose(gradient, 2 * x)
    # the rule's test, `0 is not None` once axis=0 is substituted, is decided in the text
    assert "is not None" not in source and "else" not in source
    assert "    expanded = np.expand_dims(dsummed_x_times_x, 0)\n" in source


def test_errors_of_api_calls_name_the_callers_line():
    def f(x):
        return np.sum(x * x)
    with pytest.raises(sg.SrcgradError) as caught:
        sg.jvp(f, (np.ones(2),), ())
    call_line = sys._getframe().f_lineno - 1
    assert str(caught.value) == (f"{__file__}, line {call_line}: jvp needs one tangent per "
                                 f"primal: got 1 primals and 0 tangents")
    with pytest.raises(sg.SrcgradError) as caught:
        sg.jacobian(f, wrt=(0, 1))
    call_line = sys._getframe().f_lineno - 1
    assert str(caught.value) == (f"{__file__}, line {call_line}: jacobian takes one argument "
                                 f"position as wrt; call it once per argument")
    assert len(caught.traceback) == (1 if HIDES_EVERY_FRAME else 2)  # srcgrad's frames hidden


def test_a_bug_in_srcgrad_itself_keeps_its_whole_traceback(monkeypatch):
    import traceback

    import srcgrad.api

    def broken_transform(*args, **kwargs):
        raise RuntimeError("a bug in the transformer")
    monkeypatch.setattr(srcgrad.api, "reverse_mode", broken_transform)

    def f(x):
        return np.sum(x)
    with pytest.raises(RuntimeError) as caught:
        sg.grad(f)(np.ones(2))
    names = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert names[-3:] == ["_generated", "_generate", "broken_transform"]
    assert not hasattr(caught.value, "__notes__")


def test_functions_are_named_as_a_user_imports_them():
    import math

    from srcgrad.errors import qualified_name
    assert qualified_name(np.exp) == "numpy.exp"  # a ufunc: no __module__ of its own
    assert qualified_name(np.linalg.det) == "numpy.linalg.det"
    assert qualified_name(math.erf) == "math.erf"
    assert qualified_name(cube) == f"{__name__}.cube"
    special = pytest.importorskip("scipy.special")
    assert qualified_name(special.erf) == "scipy.special.erf"


@pytest.mark.parametrize("source, folded", [
    ("if 0 is not None:\n    a = 1\nelse:\n    a = 2\nb = a", "a = 1\nb = a"),
    ("if None is not None:\n    a = 1\nb = 2", "b = 2"),
    ("for i in g:\n    if (0, 1) is None:\n        a = 1", "for i in g:\n    pass"),
    ("if g is None:\n    a = 1", "if g is None:\n    a = 1"),  # not known before it runs
    ("if 1 is 1:\n    a = 1", "if 1 is 1:\n    a = 1"),  # identity of numbers: left alone
])
def test_tests_of_literals_against_none_are_decided_in_the_text(source, folded):
    import ast

    from srcgrad.transform.emit import fold_none_tests
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        tree = ast.parse(source)
    assert ast.unparse(fold_none_tests(tree)) == folded


def test_a_failure_in_srcgrads_own_helper_names_the_users_line(tmp_path, monkeypatch):
    """A helper of srcgrad's (runtime.py) is walked like the user's code when a derivative goes
    through it (second order); if that fails, the error names the user's line that led there,
    never srcgrad's file. Stand-in: a helper module in a folder taken as srcgrad's own."""
    import importlib
    import sys
    import srcgrad.tracebacks as tracebacks_module
    (tmp_path / "own_helper_module.py").write_text(
        "import numpy as np\n\n\ndef helper(x):\n    try:\n        return np.sin(x)\n"
        "    except ValueError:\n        return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(tracebacks_module, "_PACKAGE", str(tmp_path) + os.sep)
    module = importlib.import_module("own_helper_module")
    try:
        def user_function(x):
            y = module.helper(x) * 2.0
            return np.sum(y)
        line = user_function.__code__.co_firstlineno + 1
        with pytest.raises(sg.SrcgradError) as caught:
            sg.grad(user_function)(np.ones(3))
        message = str(caught.value)
        assert message.startswith(f"{__file__}, line {line}: "), message
        assert "try/except" in message and "own_helper_module.py" in message
    finally:
        sys.modules.pop("own_helper_module", None)
