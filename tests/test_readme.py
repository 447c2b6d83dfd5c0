"""The README shows what srcgrad really generates and runs what CI really runs."""
import importlib.util
import pathlib
import re

import srcgrad as sg

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_shows_the_current_generated_quickstart_gradient():
    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "examples" / "quickstart.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    section = README.split("## The generated code", 1)[1]
    shown = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert shown == sg.source(sg.grad(module.loss), *module.example_data())


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_readme_shows_the_current_control_flow_example():
    spec = importlib.util.spec_from_file_location("control_flow",
                                                  ROOT / "examples" / "control_flow.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    section = README.split("`sg.source(sg.grad(settle, wrt=(0, 1)), x, rate)`", 1)[1]
    shown = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert shown == sg.source(sg.grad(module.settle, wrt=(0, 1)), *module.example_data())


def test_readme_shows_the_current_forward_mode_source():
    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "examples" / "quickstart.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    section = README.split("## Forward mode, Jacobians, Hessians", 1)[1]
    shown = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert shown == sg.source(sg.jvp(module.loss, wrt=0))
