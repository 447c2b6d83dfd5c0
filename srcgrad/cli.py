"""The command line: ``python -m srcgrad show FILE.py:FUNC [--wrt 0,1] [--mode grad]``."""
import argparse
import importlib.util
import pathlib
import sys

from .api import Derivative, source
from .errors import SrcgradError
from .transform.pipeline import MODES


def load_function(spec):
    """The function named by ``path/to/file.py:function`` (undecorated if srcgrad wrapped it)."""
    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise SystemExit(f"srcgrad: expected FILE.py:FUNCTION, got {spec!r}")
    file = pathlib.Path(path)
    if not file.is_file():
        raise SystemExit(f"srcgrad: no such file: {path}")
    sys.path.insert(0, str(file.parent.resolve()))
    module_spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[file.stem] = module
    module_spec.loader.exec_module(module)
    if not hasattr(module, name):
        raise SystemExit(f"srcgrad: {path} defines no function {name!r}")
    function = getattr(module, name)
    return function.function if isinstance(function, Derivative) else function


def parse_wrt(text):
    items = tuple(int(t) if t.strip().lstrip("-").isdigit() else t.strip()
                  for t in text.split(","))
    return items[0] if len(items) == 1 else items


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m srcgrad",
                                     description="Show the derivative code srcgrad generates.")
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print the generated derivative of a function")
    show.add_argument("target", help="FILE.py:FUNCTION")
    show.add_argument("--wrt", default="0", help="argument positions or names, e.g. 0,1")
    show.add_argument("--mode", default="grad", choices=MODES + ("forward",),
                      help="grad (default), value_and_grad, vjp, or forward (= jvp)")
    options = parser.parse_args(argv)
    function = load_function(options.target)
    try:
        mode = "jvp" if options.mode == "forward" else options.mode
        print(source(Derivative(function, parse_wrt(options.wrt), mode)), end="")
    except SrcgradError as error:
        print(f"srcgrad: {error}", file=sys.stderr)
        return 1
    return 0
