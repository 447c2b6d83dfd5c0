"""examples/pendulum_fit.py: the fit recovers the parameters, and the pictures are written."""
import importlib.util
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_example():
    spec = importlib.util.spec_from_file_location("pendulum_fit",
                                                  ROOT / "examples" / "pendulum_fit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fit_recovers_the_pendulum_and_saves_its_pictures(tmp_path, capsys):
    example = load_example()
    params, history = example.main(["--out", str(tmp_path)])
    np.testing.assert_allclose(params, [9.81, 0.3], rtol=1e-4)
    assert len(history) == 300 and history[-1] < 1e-10 < 1e-2 < history[0]
    assert all(later <= earlier for earlier, later in zip(history, history[1:]))
    dot = (tmp_path / "pendulum_graph.dot").read_text()
    assert dot.startswith("digraph backward {") and dot.count("MulBackward0") == 4
    printed = capsys.readouterr().out
    assert printed.startswith("fitted g/l = 9.8100, damping = 0.3000 (true: 9.81, 0.3)\n")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in printed
    else:
        assert (tmp_path / "pendulum_loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_gradient_matches_central_differences():
    example = load_example()
    theta0 = np.linspace(0.2, 1.0, 8)
    target = example.simulate(example.TRUE_PARAMS, theta0)
    params = np.array([6.0, 0.8])
    import srcgrad as sg
    gradient = sg.grad(example.loss)(params, theta0, target)
    eps = 1e-6
    numeric = [(example.loss(params + eps * e, theta0, target) -
                example.loss(params - eps * e, theta0, target)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6)


def test_without_matplotlib_the_example_still_runs(tmp_path, monkeypatch, capsys):
    import builtins
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", refuse)
    example = load_example()
    example.save_pictures([1.0, 0.5], tmp_path)
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert not (tmp_path / "pendulum_loss.png").exists()
    assert (tmp_path / "pendulum_graph.dot").exists()
