"""The documentation site is whole: built from the README, every example and the docstrings."""
import importlib.util
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_guide_is_the_readme_with_links_into_the_site():
    hooks = load_hooks()
    page = hooks.on_page_markdown((ROOT / "docs" / "index.md").read_text(), None, None, None)
    readme = (ROOT / "README.md").read_text()
    assert page.strip() == readme.replace("](docs/", "](").strip()
    assert "![Training loss of the pendulum fit" in page and "](images/pendulum_loss.png)" in page


def test_every_example_is_on_the_examples_page():
    page = (ROOT / "docs" / "examples.md").read_text()
    included = set(re.findall(r"<!-- include: examples/(\w+\.py) -->", page))
    assert included == {p.name for p in (ROOT / "examples").glob("*.py")}
    hooks = load_hooks()
    rendered = hooks.on_page_markdown(page, None, None, None)
    assert "```python\n\"\"\"Fit a damped pendulum's parameters" in rendered


def test_the_pictures_the_readme_shows_exist():
    readme = (ROOT / "README.md").read_text()
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert pictures == ["docs/images/pendulum_loss.png", "docs/images/pendulum_graph.png"]
    for picture in pictures:
        assert (ROOT / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "The gradient of a scalar-valued function" in api
    assert "Register the decorated function as the reverse-mode rule" in api
