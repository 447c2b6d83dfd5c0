"""Read a function's source into a gast tree and resolve the global names it uses to objects."""
import builtins
import contextlib
import inspect
import linecache
import os
import site
import sys
import sysconfig
import textwrap
from dataclasses import dataclass

import gast

from ..errors import SourceError, UnsupportedSyntax
from .build import clone
from .emit import user_location


@dataclass
class ParsedFunction:
    """A user function as the transformer sees it."""

    function: object
    tree: gast.FunctionDef  # line numbers are the file's own
    filename: str
    source_lines: list  # the file's lines, for comments that quote the user's code
    namespace: dict  # every global, closure and builtin name the body may use -> its object

    @property
    def name(self):
        return self.tree.name

    def line_text(self, lineno):
        """The user's source line, stripped, for comments in generated code."""
        if lineno and 0 < lineno <= len(self.source_lines):
            return self.source_lines[lineno - 1].strip()
        return ""

    def unsupported(self, node, construct, advice=""):
        return UnsupportedSyntax(construct, *self.location(node), advice)

    def location(self, node):
        """The user's file and line of ``node``: for code srcgrad generated (a derivative taken
        again), the line of the user's function it came from."""
        return user_location(self.filename, getattr(node, "lineno", None))


_PARSED = {}  # functions srcgrad made itself (lifted nested defs) -> their ParsedFunction
# While not None: every function parsed is appended (the disk cache checks their sources again).
READ: "list | None" = None


def register_parsed(function, parsed):
    """Give a function that has no source of its own (a lifted nested def) its parsed form."""
    _PARSED[function] = parsed


def parse_function(function, source=None):
    """Parse ``function`` into a :class:`ParsedFunction`, or say why its source is unreachable.

    ``source``, when given, is the text of the function's ``def`` (for functions made by
    ``exec`` or typed at a plain REPL, whose source Python does not keep).
    """
    # No inspect.unwrap: a decorator's wrapper (functools.wraps) is what the user calls, and
    # its own code, which calls the function it wraps, is what gets differentiated.
    if READ is not None:
        READ.append(function)
    if function in _PARSED:
        parsed = _PARSED[function]
        return ParsedFunction(function, clone(parsed.tree), parsed.filename,
                              parsed.source_lines, parsed.namespace)
    if not inspect.isfunction(function):
        raise SourceError(f"srcgrad can only transform Python functions, not {function!r}")
    given = source is not None
    if given:
        filename = f"<source given for {function.__qualname__}>"
        lines, first_line = textwrap.dedent(source).splitlines(True), 1
        linecache.cache[filename] = (len(source), None, lines, filename)
    else:
        code = function.__code__  # the code object: inspect would unwrap the function
        filename = inspect.getsourcefile(code) or code.co_filename
        try:
            lines, first_line = _source_lines(code)
        except (OSError, TypeError) as error:
            raise SourceError(
                f"srcgrad cannot read the source of {function.__qualname__} (defined in "
                f"{filename}): {error}. Define the function in a .py file or a notebook cell, "
                f"or pass its text: srcgrad.grad({function.__name__}, source=...)"
            ) from None
    try:
        module, indent = _parsed(lines)
    except SyntaxError as error:
        module = None
        if not given and function.__name__ != "<lambda>":
            # The lines its instructions come from may stop short of the block's end (a
            # trailing `pass` compiles to nothing): read the block as inspect finds it.
            lines, first_line = inspect.getsourcelines(function.__code__)
            with contextlib.suppress(SyntaxError):
                module, indent = _parsed(lines)
        whole = linecache.getlines(filename)
        if module is None and (function.__name__ != "<lambda>" or not whole):
            raise SourceError(f"{filename}: cannot parse the source of "
                              f"{function.__qualname__}: {error}") from None
        if module is None:
            # A lambda on a line that continues a statement (an argument of a call spread
            # over several lines): find it in the whole file instead.
            try:
                module, indent, first_line = gast.parse("".join(whole)), 0, 1
            except SyntaxError:
                raise SourceError(f"{filename}: cannot parse the source of "
                                  f"{function.__qualname__}: {error}") from None
    tree = module.body[0]
    if function.__name__ == "<lambda>":
        tree = _lambda_as_def(module, function, first_line, indent, filename)
    elif not isinstance(tree, gast.FunctionDef):
        raise UnsupportedSyntax(f"{type(tree).__name__} (lambda or async function)", filename,
                                first_line, "write the function with a plain def statement")
    gast.increment_lineno(tree, first_line - 1)
    tree.decorator_list = []
    return ParsedFunction(function, tree, filename, linecache.getlines(filename) or lines,
                          resolve_namespace(function))


def _parsed(lines):
    """(gast module, columns of indent taken off) of a function's source lines."""
    source = textwrap.dedent("".join(lines))
    return gast.parse(source), _removed_indent("".join(lines), source)


def _source_lines(code):
    """The lines of the ``def`` that made ``code``, and the number of its first line: from the
    line of the decorator or ``def`` to the last line any of its instructions (or those of the
    functions, lambdas and comprehensions inside it) comes from, which is cheaper than
    inspect's tokenizing of the file; inspect where that cannot be worked out."""
    if not hasattr(code, "co_positions") or code.co_name == "<lambda>":  # (3.11 and newer)
        return inspect.getsourcelines(code)
    lines, first_line = inspect.findsource(code)[0], code.co_firstlineno
    last, pending = first_line, [code]
    while pending:
        current = pending.pop()
        last = max([last] + [end for _, end, _, _ in current.co_positions() if end is not None])
        pending.extend(c for c in current.co_consts if inspect.iscode(c))
    block = lines[first_line - 1:last]
    if not block or not block[0].lstrip().startswith(("def ", "@", "async def ")):
        return inspect.getsourcelines(code)
    return block, first_line


def _removed_indent(original, dedented):
    """How many columns textwrap.dedent took off each line."""
    first = next((line for line in original.splitlines() if line.strip()), "")
    first_dedented = next((line for line in dedented.splitlines() if line.strip()), "")
    return len(first) - len(first_dedented)


def _lambda_as_def(module, function, first_line, indent, filename):
    """The ``lambda`` that made ``function``, found among those of its source line(s) by where
    its code starts, as ``def <name>(<params>): return <body>``."""
    code = function.__code__
    starts = [(line - first_line + 1, column - indent) for line, _, column, _ in
              code.co_positions() if line is not None and column is not None and
              (line, column) != (code.co_firstlineno, 0)]
    params = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    found = []
    for node in gast.walk(module):
        if not isinstance(node, gast.Lambda):
            continue
        names = [a.id for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        body = node.body
        span = ((body.lineno, body.col_offset), (body.end_lineno, body.end_col_offset))
        if names == params and any(span[0] <= start <= span[1] for start in starts):
            found.append(node)
    if len(found) != 1:
        raise SourceError(f"{filename}, line {first_line}: srcgrad cannot tell which lambda on "
                          f"this line is {function.__qualname__}; define it with def")
    node = found[0]
    name = "lambda_function"
    for statement in module.body:  # f = lambda x: ...  ->  def f(x): ...
        if isinstance(statement, gast.Assign) and statement.value is node and \
                isinstance(statement.targets[0], gast.Name):
            name = statement.targets[0].id
    tree = gast.FunctionDef(name=name, args=node.args,
                            body=[gast.copy_location(gast.Return(value=node.body), node.body)],
                            decorator_list=[], returns=None, type_comment=None, type_params=[])
    return gast.copy_location(tree, node)


def _library_folders():
    paths = sysconfig.get_paths()
    folders = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    folders |= set(site.getsitepackages()) | {site.getusersitepackages()}
    return tuple(os.path.realpath(folder) + os.sep for folder in folders if folder)


_LIBRARY_FOLDERS = _library_folders()
_LIBRARY_MODULES = ("numpy", "scipy", "srcgrad")


def is_user_function(function):
    """Is ``function`` the user's own Python code, which srcgrad may read and differentiate?

    Code of installed packages and of the standard library is never walked: a function there
    either has a derivative rule or is an error at the user's call.
    """
    if not inspect.isfunction(function) or function in _PARSED:
        return function in _PARSED
    module = getattr(function, "__module__", None) or ""
    if module == "srcgrad.runtime":
        return True  # the helpers generated code calls, differentiated again for higher order
    module = module.split(".")[0]
    if module in _LIBRARY_MODULES or module in sys.stdlib_module_names:
        return False
    filename = os.path.realpath(function.__code__.co_filename)
    return not filename.startswith(_LIBRARY_FOLDERS)


def resolve_namespace(function):
    """Globals, closure variables and builtins visible in ``function``, as objects."""
    namespace = dict(vars(builtins))
    namespace.update(function.__globals__)
    closure = inspect.getclosurevars(function)
    namespace.update(closure.nonlocals)
    return namespace




class DynamicCallee:
    """Stands for the function a call reaches through an object (``self.helper``, ``layer``):
    the generated code asks for its derivative when it runs (srcgrad.dynamic)."""

    def __init__(self, source):
        self.source = source
        self.__name__ = source.rpartition(".")[2] if source.replace(".", "").replace(
            "_", "").isalnum() else "callee"


def dotted_name(expr):
    """``np.linalg.norm`` for that attribute chain, the name for a name; else a placeholder."""
    if isinstance(expr, gast.Name):
        return expr.id
    if isinstance(expr, gast.Attribute):
        return f"{dotted_name(expr.value)}.{expr.attr}"
    return "<expression>"
