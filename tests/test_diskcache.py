"""The disk cache of generated code: a second process finds it and runs no transformation; any
change the code depends on (the function, a callee, a global's kind, a rule) misses it."""
import json
import os
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[1]

PROGRAM = textwrap.dedent('''
    import sys
    import numpy as np
    import srcgrad as sg
    from srcgrad.transform import pipeline

    SCALE = 2.0

    def helper(v):
        return np.tanh(v) * v

    def loss(w, x):
        total = 0.0
        for i in range(3):
            total = total + np.sum(helper(x @ w) ** 2) * SCALE
        return total

    if sys.argv[1] == "must-hit":  # any transformation now is a failure of the cache
        def refuse(*args, **kwargs):
            raise AssertionError("transformed although cached")
        pipeline.reverse_mode = refuse
        sg.api.reverse_mode = refuse
        sg.api.forward_mode = refuse
    w, x = np.ones((3, 2)) * 0.1, np.arange(12.0).reshape(4, 3) / 10
    gradient = sg.grad(loss)(w, x)
    value, tangent = sg.jvp(loss, (w, x), (np.ones_like(w), np.zeros_like(x)))
    print(repr(gradient.tolist()), repr(float(tangent)))
    print(sg.source(sg.grad(loss), w, x).count("def "))
''')


def _run(folder, program, mode, cache="1"):
    env = dict(os.environ, SRCGRAD_CACHE=cache, SRCGRAD_CACHE_DIR=str(folder / "cache"),
               PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(program), mode], capture_output=True, text=True,
                          env=env, cwd=folder, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _write(folder, text):
    program = folder / "program.py"
    program.write_text(text)
    return program


def test_a_second_process_finds_the_generated_code(tmp_path):
    program = _write(tmp_path, PROGRAM)
    first = _run(tmp_path, program, "fill")
    entries = list((tmp_path / "cache").glob("*.json"))
    assert len(entries) >= 4  # loss and helper, each in reverse and forward mode
    assert _run(tmp_path, program, "must-hit") == first
    entry = json.loads(entries[0].read_text())
    assert {"source", "namespace", "sources_read"} <= set(entry)


def test_any_change_the_code_depends_on_misses_the_cache(tmp_path):
    program = _write(tmp_path, PROGRAM)
    _run(tmp_path, program, "fill")
    for changed in (PROGRAM.replace("* SCALE", "* SCALE * 1.5"),          # the function
                    PROGRAM.replace("np.tanh(v) * v", "np.tanh(v) * v * v"),  # a callee
                    PROGRAM.replace("SCALE = 2.0", "SCALE = np.array(2.0)")):  # a global's kind
        program = _write(tmp_path, changed)
        try:
            _run(tmp_path, program, "must-hit")
        except AssertionError as error:  # generated again, as it must be
            assert "transformed although cached" in str(error)
        else:
            raise AssertionError("a changed program was served from the cache")
        assert _run(tmp_path, program, "fill") == _run(tmp_path, program, "fill", cache="0")


def test_the_cache_can_be_turned_off(tmp_path):
    program = _write(tmp_path, PROGRAM)
    _run(tmp_path, program, "fill", cache="0")
    assert not (tmp_path / "cache").exists()
