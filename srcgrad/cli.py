"""The command line: ``python -m srcgrad show FILE.py:FUNC [--args ...] [--wrt 0,1] [--mode grad]``."""
from __future__ import annotations

import argparse
import pathlib
import sys
from typing import Any, Callable, Optional, Sequence, Tuple, Union

from .api import Derivative, source
from .errors import SrcgradError
from .export import module_source
from .script import evaluate_arguments, load_definitions
from .transform.pipeline import MODES


def load_function(spec: str) -> Tuple[Callable[..., Any], dict[str, Any]]:
    """The function named by ``path/to/file.py:function`` (undecorated if srcgrad wrapped it),
    and the namespace of its file, loaded without running the file's top-level work."""
    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise SystemExit(f"srcgrad: expected FILE.py:FUNCTION, got {spec!r}")
    file = pathlib.Path(path)
    if not file.is_file():
        raise SystemExit(f"srcgrad: no such file: {path}")
    module = load_definitions(file)
    if not hasattr(module, name):
        raise SystemExit(f"srcgrad: {path} defines no function {name!r}")
    function = getattr(module, name)
    function = function.function if isinstance(function, Derivative) else function
    return function, vars(module)


def parse_wrt(text: str) -> Union[int, str, Tuple[Union[int, str], ...]]:
    """``"0"`` -> 0, ``"0,w"`` -> (0, "w"): positions or parameter names."""
    items = tuple(int(t) if t.strip().lstrip("-").isdigit() else t.strip()
                  for t in text.split(","))
    return items[0] if len(items) == 1 else items


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m srcgrad``."""
    main_parser = argparse.ArgumentParser(
        prog="python -m srcgrad", description="Show the derivative code srcgrad generates.")
    commands = main_parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser(
        "show", help="print the generated derivative of a function",
        description="Print the derivative srcgrad generates for FUNCTION in FILE.py. The file's "
                    "top-level work does not run: only its imports, definitions and constants.")
    show.add_argument("target", help="FILE.py:FUNCTION")
    show.add_argument("--args", metavar="EXPRESSIONS",
                      help='example arguments, e.g. "np.ones(3), np.ones((4, 3))": show the code '
                           "specialized to their shapes (the code that runs for them); the file's "
                           "names and np are in scope. Forward mode takes the tangents after the "
                           "arguments")
    show.add_argument("--wrt", default="0", help="argument positions or names, e.g. 0,1")
    show.add_argument("--mode", default="grad", choices=MODES + ("forward",),
                      help="grad (default), value_and_grad, vjp, or forward (= jvp)")
    show.add_argument("--out", metavar="FILE.py", type=pathlib.Path,
                      help="write a standalone module (the code and the imports it needs) "
                           "instead of printing")
    return main_parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status."""
    options = parser().parse_args(argv)
    function, namespace = load_function(options.target)
    mode = "jvp" if options.mode == "forward" else options.mode
    try:
        args = evaluate_arguments(options.args, namespace) if options.args else ()
    except Exception as error:  # the user's expression: say which and why
        print(f"srcgrad: cannot evaluate --args {options.args!r}: "
              f"{type(error).__name__}: {error}", file=sys.stderr)
        return 2
    try:
        derivative = Derivative(function, parse_wrt(options.wrt), mode)
        if options.out is not None:
            options.out.write_text(module_source(derivative, *args))
            print(f"srcgrad: wrote {options.out}", file=sys.stderr)
        else:
            print(source(derivative, *args), end="")
    except SrcgradError as error:
        print(f"srcgrad: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # the derivative failed on the example arguments
        notes = "".join(f"\n{note}" for note in getattr(error, "__notes__", []))
        print(f"srcgrad: the derivative failed on --args {options.args!r}: "
              f"{type(error).__name__}: {error}{notes}", file=sys.stderr)
        return 1
    return 0
