"""examples/linear_regression.py runs and converges with both engines."""
import pathlib
import runpy

import pytest

import srcgrad

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "linear_regression.py"


@pytest.mark.skipif(not hasattr(srcgrad, "tensor"),
                    reason="srcgrad/__init__.py does not export the eager names yet")
def test_linear_regression_example_converges(capsys):
    results = runpy.run_path(str(EXAMPLE))["main"]()
    for w, b, _ in results.values():
        assert abs(w - 2.0) < 0.05 and abs(b - 3.0) < 0.1
    assert "w = 1.98" in capsys.readouterr().out
