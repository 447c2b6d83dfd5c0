"""MkDocs hook: pages are drawn from the repository's own files, so the site cannot drift.

A line ``<!-- include: PATH -->`` in a page is replaced by the file at PATH (relative to the
repository root): a Markdown file as it is, with its links to ``docs/`` made relative to the
site; any other file as a code block. The README is the guide page this way.
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
_INCLUDE = re.compile(r"^<!-- include: (\S+) -->$", re.MULTILINE)


def _included(match):
    path = ROOT / match.group(1)
    text = path.read_text()
    if path.suffix == ".md":
        return text.replace("](docs/", "](")
    language = "python" if path.suffix == ".py" else ""
    return f"```{language}\n{text}```"


def on_page_markdown(markdown, page, config, files):
    return _INCLUDE.sub(_included, markdown)
