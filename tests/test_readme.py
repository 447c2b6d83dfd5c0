"""The README is a runnable document: its code runs, its generated code is current, and its
test command is what CI runs.

How the README's code blocks are checked (a section added later is checked the same way):

- Every ```python block runs as written, on its own, in a fresh module written to a file (srcgrad
  reads the source of the functions it differentiates), so each block defines the data it uses.
- A block whose printed output is shown right after it, in a ```text block, must print exactly
  that text (numbers included).
- A marker in an HTML comment on the line right before a block (blank lines between allowed)
  changes what happens to it:
  ``<!-- output -->``: the block shows what srcgrad prints or generates; it is not run.
  ``<!-- excerpt -->``: a fragment (it needs context it does not show); it is not run.
  ``<!-- excerpt: PATH -->``: as above, and it must appear verbatim in the file PATH.
  ``<!-- requires: MODULE -->``: run only where MODULE can be imported (cupy: a GPU).
"""
import contextlib
import importlib.util
import io
import pathlib
import re

import numpy as np
import pytest

import srcgrad as sg

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()

_MARKER = re.compile(r"<!--\s*(output|excerpt|requires)(?::\s*(\S+))?\s*-->")


def readme_blocks(text=README):
    """(line, language, code, marker, argument, printed) for every fenced block of ``text``;
    ``printed`` is the text block that follows a python block, if one follows right after."""
    blocks = [(text.count("\n", 0, m.start(2)) + 1, m.group(2), m.group(3), m.group(1), m.end())
              for m in re.finditer(r"((?:<!--[^\n]*-->[ \t]*\n\s*)?)```(\w*)\n(.*?)```", text,
                                   re.S)]
    found = []
    for k, (line, language, code, comment, end) in enumerate(blocks):
        marker = _MARKER.search(comment) if comment else None
        if comment and not marker:  # a misspelt marker must not make a block run unnoticed
            found.append((line, language, code, "unknown", comment.strip(), None))
            continue
        printed = None
        if k + 1 < len(blocks) and blocks[k + 1][1] == "text" and \
                not text[end:text.index("```text", end)].strip():
            printed = blocks[k + 1][2]
        found.append((line, language, code, marker.group(1) if marker else None,
                      marker.group(2) if marker else None, printed))
    return found


PYTHON_BLOCKS = [b for b in readme_blocks() if b[1] == "python"]


@pytest.mark.parametrize("line, language, code, marker, argument, printed", PYTHON_BLOCKS,
                         ids=[f"line{b[0]}" for b in PYTHON_BLOCKS])
def test_readme_python_block(line, language, code, marker, argument, printed, tmp_path):
    if marker == "output" or (marker == "excerpt" and argument is None):
        return
    assert marker != "unknown", f"README line {line}: {argument} is not a marker"
    if marker == "excerpt":
        assert code in (ROOT / argument).read_text(), f"README line {line}: not in {argument}"
        return
    if marker == "requires":
        pytest.importorskip(argument)
    path = tmp_path / f"readme_line_{line}.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location(f"readme_line_{line}", path)
    module = importlib.util.module_from_spec(spec)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        spec.loader.exec_module(module)
    if printed is not None:
        assert out.getvalue() == printed, f"README line {line} prints something else"


def test_every_python_block_is_run_or_marked():
    unknown = [(b[0], b[4]) for b in PYTHON_BLOCKS if b[3] == "unknown"]
    assert not unknown, f"README blocks after a comment that is no marker: {unknown}"
    assert sum(b[3] is None for b in PYTHON_BLOCKS) >= 6  # most blocks run


def test_the_block_reader_sees_markers_and_printed_output():
    text = ("<!-- output -->\n```python\nx\n```\n\n```python\nprint(1)\n```\n```text\n1\n```\n"
            "<!-- excerpt: a.py -->\n\n```python\ny\n```\n<!-- exerpt -->\n```python\nz\n```\n")
    assert readme_blocks(text) == [
        (2, "python", "x\n", "output", None, None),
        (6, "python", "print(1)\n", None, None, "1\n"),
        (9, "text", "1\n", None, None, None),
        (14, "python", "y\n", "excerpt", "a.py", None),
        (18, "python", "z\n", "unknown", "<!-- exerpt -->", None)]


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
    w, x, y = module.example_data()
    assert shown == sg.source(sg.jvp(module.loss, wrt=0), w, x, y, np.ones(3))
