"""``python -m srcgrad show``: definitions only, example arguments, standalone modules."""
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np

import srcgrad as sg
from srcgrad.script import load_definitions

ROOT = pathlib.Path(__file__).resolve().parents[1]

TRAINING_SCRIPT = """\
    import numpy as np
    import srcgrad as sg

    STEPS = 40
    DT = 0.05
    SCALE = 2 * np.pi
    WEIGHTS = np.ones(3)  # made by a call: left out


    def simulate(params, theta0):
        g_over_l, damping = params[0], params[1]
        theta, omega = theta0, 0.0 * theta0
        for _ in range(STEPS):
            alpha = -g_over_l * np.sin(theta) - damping * omega
            omega = omega + DT * alpha
            theta = theta + DT * omega
        return theta


    def loss(params, theta0, target):
        return np.mean((simulate(params, theta0) - target) ** 2)


    open("trained.txt", "w").write("the top level ran")
    for step in range(3):
        print("training step", step)
    raise SystemExit("the top level ran")
"""

ARGS = "np.array([9.8, 0.1]), np.linspace(0.1, 1.0, 8), np.zeros(8)"


def example_args():
    return np.array([9.8, 0.1]), np.linspace(0.1, 1.0, 8), np.zeros(8)


def write(tmp_path, text, name="train.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def srcgrad_cli(*arguments, cwd):
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "srcgrad", *arguments], cwd=cwd,
                          capture_output=True, text=True, env=environment)


def test_show_runs_no_top_level_work_of_the_script(tmp_path):
    script = write(tmp_path, TRAINING_SCRIPT)
    run = srcgrad_cli("show", f"{script}:loss", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("def loss_grad(params, theta0, target):\n")
    assert "training step" not in run.stdout + run.stderr
    assert not (tmp_path / "trained.txt").exists()


def test_only_imports_definitions_and_call_free_constants_are_loaded(tmp_path):
    module = load_definitions(write(tmp_path, TRAINING_SCRIPT, "train_defs.py"))
    assert (module.STEPS, module.DT, module.SCALE) == (40, 0.05, 2 * np.pi)
    assert not hasattr(module, "WEIGHTS") and not hasattr(module, "step")
    assert module.simulate.__code__.co_filename == str(tmp_path / "train_defs.py")
    assert module.loss.__code__.co_firstlineno == 20  # the file's own line numbers


def test_args_show_the_code_specialized_to_their_shapes(tmp_path):
    script = write(tmp_path, TRAINING_SCRIPT, "train_args.py")
    generic = srcgrad_cli("show", f"{script}:loss", cwd=tmp_path).stdout
    run = srcgrad_cli("show", f"{script}:loss", "--args", ARGS, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    module = load_definitions(script)
    assert run.stdout == sg.source(sg.grad(module.loss), *example_args())
    assert run.stdout != sg.source(sg.grad(module.loss))
    assert generic == sg.source(sg.grad(module.loss))
    assert run.stdout.count("unbroadcast") < generic.count("unbroadcast")


def test_out_writes_a_module_that_runs_as_is(tmp_path):
    script = write(tmp_path, TRAINING_SCRIPT, "train_out.py")
    out = tmp_path / "elsewhere" / "loss_grad.py"
    out.parent.mkdir()
    run = srcgrad_cli("show", f"{script}:loss", "--args", ARGS, "--out", str(out), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    assert "import numpy as np\n" in text
    assert "from srcgrad.runtime import " in text and "\nDT = 0.05\nSTEPS = 40\n" in text
    # a fresh interpreter, away from the script: nothing is transformed, the copy just runs
    check = ("import linecache, numpy as np, sys, loss_grad\n"
             f"print(repr(loss_grad.loss_grad({ARGS}).tolist()))\n"
             "print(any(name.startswith('<srcgrad') for name in linecache.cache),\n"
             "      'train_out' in sys.modules)\n")
    ran = subprocess.run([sys.executable, "-c", check], cwd=out.parent, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    values, flags = ran.stdout.splitlines()
    expected = sg.grad(load_definitions(script).loss)(*example_args())
    np.testing.assert_allclose(eval(values), expected, rtol=1e-12)
    assert flags == "False False"


RULE_SCRIPT = """\
    import numpy as np
    import srcgrad as sg


    def softplus(x):
        return np.log1p(np.exp(x))


    @sg.defvjp(softplus)
    def softplus_vjp(g, ans, x):
        return g / (1.0 + np.exp(-x))


    sg.non_differentiable(np.random.default_rng)


    def loss(x):
        return np.sum(softplus(x))


    print("the top level ran")
"""


def test_registrations_in_the_script_are_kept(tmp_path):
    script = write(tmp_path, RULE_SCRIPT, "rules_script.py")
    run = srcgrad_cli("show", f"{script}:loss", "--args", "np.ones(3)", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "/ (1.0 + np.exp(-x))" in run.stdout  # the user's rule, inlined
    assert "the top level ran" not in run.stdout


def test_bad_arguments_are_reported(tmp_path):
    script = write(tmp_path, TRAINING_SCRIPT, "train_bad.py")
    run = srcgrad_cli("show", f"{script}:loss", "--args", "np.ones(3), undefined_name",
                      cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr == ("srcgrad: cannot evaluate --args 'np.ones(3), undefined_name': "
                          "NameError: name 'undefined_name' is not defined\n")


REFUSED_SCRIPT = """\
    import numpy as np


    def loss(x):
        try:
            y = np.exp(x)
        except OverflowError:
            y = x
        return np.sum(y)
"""


def test_a_refused_construct_is_reported_at_the_users_line(tmp_path):
    script = write(tmp_path, REFUSED_SCRIPT, "refused.py")
    run = srcgrad_cli("show", f"{script}:loss", cwd=tmp_path)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr == (f"srcgrad: {script}, line 5: srcgrad cannot differentiate try/except. "
                          f"Move error handling outside the differentiated function\n")


def test_a_derivative_that_fails_on_the_example_arguments_is_reported(tmp_path):
    script = write(tmp_path, TRAINING_SCRIPT, "train_fails.py")
    run = srcgrad_cli("show", f"{script}:loss", "--mode", "forward", "--args",
                      "np.array([9.8, 0.1]), np.linspace(0.1, 1.0, 8), np.zeros((40, 8))",
                      cwd=tmp_path)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr == (
        "srcgrad: the derivative failed on --args 'np.array([9.8, 0.1]), np.linspace(0.1, 1.0, "
        "8), np.zeros((40, 8))': TypeError: loss_jvp() missing 1 required positional argument: "
        "'dparams'\n")
    run = srcgrad_cli("show", f"{script}:loss", "--mode", "forward", "--args",
                      "np.array([9.8, 0.1]), np.linspace(0.1, 1.0, 8), np.zeros((40, 8)), "
                      "np.array([1.0, 0.0])", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("def loss_jvp(params, theta0, target, dparams):\n")
