"""benchmarks/gpu.py without a GPU: its dry run checks every workload's gradient (srcgrad's on
NumPy and on the CPU stand-in for CuPy, PyTorch's where installed) against the hand-written
one, and without CuPy the GPU run says it skipped instead of failing."""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("gpu_benchmark", ROOT / "benchmarks" / "gpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_dry_run_finds_every_gradient_equal_to_the_hand_written_one(capsys, tmp_path):
    gpu = _benchmark()
    assert gpu.main(["--dry-run", "--scale", "0.002", "--json", str(tmp_path / "r.json")]) == 0
    printed = capsys.readouterr().out
    assert "all gradients agree" in printed
    for workload in gpu.WORKLOADS:
        assert workload.title in printed
    assert "srcgrad on the stand-in" in printed


def test_without_cupy_the_gpu_run_skips(capsys, monkeypatch):
    gpu = _benchmark()
    monkeypatch.setattr(gpu, "optional", lambda name: None)
    assert gpu.main(["--only", "rnn"]) == 0
    assert "skipped" in capsys.readouterr().err
    assert gpu.main(["--only", "rnn", "--require-gpu"]) == 1


def test_a_wrong_gradient_is_not_timed(capsys, monkeypatch):
    gpu = _benchmark()
    workload = next(w for w in gpu.WORKLOADS if w.key == "least_squares")
    monkeypatch.setattr(workload, "hand", lambda xp, w, X, y: 2.0 * w)
    assert gpu.main(["--dry-run", "--scale", "0.002", "--only", "least_squares"]) == 1
    assert "differs from the hand-written one" in capsys.readouterr().out
