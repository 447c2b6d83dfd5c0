"""Generated test programs as real modules: srcgrad reads a function's source with inspect,
which needs a file, so each program is written to one and imported from it."""
import importlib.util
import sys
from pathlib import Path


def import_source(source, directory, stem):
    """Write ``source`` to ``directory/stem.py``, import it as module ``stem``; returns
    (module, path)."""
    path = Path(directory) / f"{stem}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[stem] = module
    spec.loader.exec_module(module)
    return module, path
