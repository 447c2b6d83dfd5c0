"""The examples run and reach what they claim (each asserts its own result)."""
import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["quickstart", "control_flow", "newton"])
def test_example_runs(name, capsys):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
    assert capsys.readouterr().out


def test_mlp_digits_trains_a_dict_of_parameters_with_has_aux():
    pytest.importorskip("sklearn")
    spec = importlib.util.spec_from_file_location("mlp_digits", ROOT / "examples" / "mlp_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    params, accuracy, _ = module.train(steps=150)
    assert set(params) == {"W0", "b0", "W1", "b1"}
    assert accuracy > 0.85  # ten classes: chance is 0.1
