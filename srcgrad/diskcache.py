"""Generated code kept on disk, so that a new process pays nothing for a function it has seen.

An entry is found by a key made of everything the generated code depends on: the function's
source text and where it is, ``wrt``, the mode and argument shapes, the kind of each global it
reads (a number, an array, a function of the user's and that function's source ...), the
derivative rules the user registered, and srcgrad's own code and NumPy's version. The entry
holds the generated source and, for each name the code uses, how to find the object again (a
name of the user's, an importable object, a literal, or the derivative of a callee); the
sources of the user's functions read while generating it are checked again when it is loaded.
Anything that cannot be described that way (a local function, code generated from generated
code, a segment of a loop over checkpoint_range) is simply not cached.

The cache lives in ``$SRCGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/srcgrad``, else
``~/.cache/srcgrad``; ``SRCGRAD_CACHE=0`` turns it off.
"""
import ast
import builtins
import hashlib
import importlib
import inspect
import json
import linecache
import os
import pathlib
import sys
import tempfile
import types
from typing import Any, Callable, Dict, List, Optional, Set

import numpy as np

from .rules.registry import JVP_RULES, VJP_RULES
from .transform import parse
from .transform.emit import GENERATED_FROM, GeneratedSource, compile_function
from .transform.live import LiveGlobals
from .transform.pipeline import Generated

FORMAT = 1
_SRCGRAD_DIGEST: Optional[str] = None


def enabled() -> bool:
    return os.environ.get("SRCGRAD_CACHE", "1").lower() not in ("0", "false", "no", "off")


def directory() -> pathlib.Path:
    if os.environ.get("SRCGRAD_CACHE_DIR"):
        return pathlib.Path(os.environ["SRCGRAD_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "srcgrad"


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()


def _srcgrad_digest() -> str:
    """A digest of srcgrad's own source files: a change to any rule or pass is a new cache."""
    global _SRCGRAD_DIGEST
    if _SRCGRAD_DIGEST is None:
        root = pathlib.Path(__file__).resolve().parent
        digest = hashlib.sha256()
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
        _SRCGRAD_DIGEST = digest.hexdigest()
    return _SRCGRAD_DIGEST


def _source_digest(function: Any) -> Optional[str]:
    try:
        return hashlib.sha256("".join(inspect.getsourcelines(function)[0]).encode()).hexdigest()
    except (OSError, TypeError):
        return None


def _user_rules() -> List[Any]:
    """The rules registered outside srcgrad (sg.defvjp, sg.defjvp): they are inlined."""
    found = []
    for kind, table in (("vjp", VJP_RULES), ("jvp", JVP_RULES)):
        for primitive, rule in table.items():
            module = getattr(rule.function, "__module__", "") or ""
            if not module.startswith("srcgrad"):
                found.append((kind, _qualified(primitive), _source_digest(rule.function)))
    return sorted(found, key=repr)


def _qualified(obj: Any) -> str:
    return f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', repr(obj))}"


def _kind(value: Any) -> Any:
    """What of a global the generated code can depend on."""
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if inspect.isfunction(value):
        return ("function", _qualified(value), _source_digest(value))
    if isinstance(value, type):
        return ("class", _qualified(value))
    if callable(value):
        return ("callable", type(value).__name__, _qualified(value))
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value.ndim)
    return ("value", type(value).__module__, type(value).__qualname__)


def _names_read(code: types.CodeType) -> Set[str]:
    names = set(code.co_names) | set(code.co_freevars)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_read(constant)
    return names


def key(function: Any, source: Optional[str], wrt: Any, mode: str, signature: Any,
        differentiable: bool, tangent_names: Any) -> Optional[str]:
    """The key of the code generated for these, or None where srcgrad does not cache it."""
    if not enabled() or source is not None or not inspect.isfunction(function) or \
            getattr(function, "__srcgrad_origin__", None) is not None or \
            getattr(function, "__srcgrad_segment__", False) or \
            function.__code__.co_filename.startswith("<"):
        return None
    text = _source_digest(function)
    if text is None:
        return None
    namespace = parse.resolve_namespace(function)
    globals_kinds = sorted((name, _kind(namespace[name]))
                           for name in _names_read(function.__code__) if name in namespace)
    return _digest(FORMAT, _srcgrad_digest(), np.__version__, sys.version_info[:2], text,
                   function.__code__.co_filename, function.__qualname__,
                   function.__code__.co_firstlineno, wrt, mode, signature, differentiable,
                   tangent_names, globals_kinds, _user_rules())


# -- describing the objects generated code uses, and finding them again ----------------------

def _importable(value: Any) -> Optional[List[Any]]:
    if isinstance(value, types.ModuleType):
        return ["module", value.__name__]
    if isinstance(value, np.ufunc):
        name = str(getattr(value, "__name__", ""))
        return ["import", "numpy", name] if getattr(np, name, None) is value else None
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and "<" not in qualname:
        try:
            if _import(module, qualname) is value:
                return ["import", module, qualname]
        except Exception:  # noqa: BLE001  (whatever importing does: then it is not described)
            return None
    return None


def _import(module: str, qualname: str) -> Any:
    found: Any = importlib.import_module(module) if module not in sys.modules else \
        sys.modules[module]
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _literal(value: Any) -> bool:
    if isinstance(value, (tuple, list)):
        return all(_literal(v) for v in value)
    return type(value) in (int, float, bool, str, type(None))


def _describe(name: str, value: Any, user_names: Dict[str, Any],
              derivative_type: Any) -> Optional[List[Any]]:
    if name in user_names and user_names[name] is value:
        return ["user", name]
    if isinstance(value, derivative_type):
        if value.source is not None:
            return None
        callee = _callee(value.function, user_names)
        if callee is None:
            return None
        wrt = list(value.wrt) if isinstance(value.wrt, (tuple, list)) else value.wrt
        return ["link", callee, wrt, isinstance(value.wrt, tuple), value.mode]
    if _literal(value):
        return ["const", repr(value)]
    if getattr(builtins, name, None) is value:
        return ["import", "builtins", name]
    return _importable(value)


def _callee(function: Any, user_names: Dict[str, Any]) -> Optional[List[Any]]:
    for name, value in user_names.items():
        if value is function:
            return ["user", name]
    return _importable(function)


def _find(description: List[Any], user_names: Dict[str, Any], link: Callable[..., Any]) -> Any:
    kind = description[0]
    if kind == "user":
        return user_names[description[1]]
    if kind == "const":
        return ast.literal_eval(description[1])
    if kind == "module":
        return importlib.import_module(description[1])
    if kind == "import":
        return _import(description[1], description[2])
    callee = _find(description[1], user_names, link)  # "link"
    wrt = tuple(description[2]) if description[3] else description[2]
    return link(callee, wrt, description[4])


# -- the user's sources read while generating ---------------------------------------------------

def _lines_digest(filename: str, first: int, count: int) -> str:
    linecache.checkcache(filename)
    lines = linecache.getlines(filename)[first - 1:first - 1 + count]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def sources_read(functions: List[Any]) -> Optional[List[Any]]:
    """Where the user functions parsed while generating are, with a digest of their lines."""
    found = []
    for function in functions:
        code = getattr(function, "__code__", None)
        if code is None or code.co_filename.startswith("<"):
            continue
        try:
            lines, first = inspect.getsourcelines(code)
        except (OSError, TypeError):
            return None
        found.append([code.co_filename, first, len(lines),
                      hashlib.sha256("".join(lines).encode()).hexdigest()])
    return found


# -- load and store ---------------------------------------------------------------------------------

def load(cache_key: str, function: Any, link: Callable[..., Any],
         derivative_type: Any) -> Optional[Generated]:
    """The Generated code stored under ``cache_key``, compiled again; None when there is none
    or it no longer fits."""
    path = directory() / f"{cache_key}.json"
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    try:
        if entry.get("format") != FORMAT or any(
                _lines_digest(filename, first, count) != digest
                for filename, first, count, digest in entry["sources_read"]):
            return None
        user_names = parse.resolve_namespace(function)
        namespace = {name: _find(description, user_names, link)
                     for name, description in entry["namespace"].items()}
    except Exception:  # noqa: BLE001  (a stale or foreign entry: generate again)
        return None
    source = GeneratedSource(entry["source"])
    source.line_origins = {int(k): tuple(v) for k, v in entry["line_origins"].items()}
    compiled = compile_function(source, entry["name"], namespace, entry["label"])
    compiled.__srcgrad_live__ = LiveGlobals(function, entry["globals_used"], compiled.__globals__)
    GENERATED_FROM[compiled.__code__.co_filename] = entry["user_file"]
    if entry["tangents"] is not None:
        compiled.__srcgrad_tangents__ = tuple(entry["tangents"])
    callees = [namespace[name] for name in entry["callees"]]
    return Generated(compiled, source, entry["name"], callees, entry["containers"])


def store(cache_key: str, generated: Generated, function: Any, functions_read: List[Any],
          derivative_type: Any) -> None:
    """Write ``generated`` under ``cache_key`` if everything it uses can be found again."""
    compiled: Any = generated.function
    user_names = parse.resolve_namespace(function)
    namespace = {}
    for name, value in compiled.__globals__.items():
        if name in ("__builtins__", generated.name):
            continue
        description = _describe(name, value, user_names, derivative_type)
        if description is None:
            return  # not describable: not cached
        namespace[name] = description
    callee_names = []
    for callee in generated.callees:
        names = [n for n, v in compiled.__globals__.items() if v is callee]
        if not names:
            return
        callee_names.append(names[0])
    read = sources_read(functions_read)
    if read is None:
        return
    live = compiled.__srcgrad_live__
    tangents = getattr(compiled, "__srcgrad_tangents__", None)
    entry = {
        "format": FORMAT, "source": str(generated.source), "name": generated.name,
        "label": compiled.__code__.co_filename[len("<srcgrad "):].rsplit(" #", 1)[0],
        "line_origins": {str(k): list(v) for k, v in
                         getattr(generated.source, "line_origins", {}).items()},
        "namespace": namespace, "callees": callee_names, "containers": generated.containers,
        "globals_used": [name for name, _, _ in live.entries],
        "tangents": list(tangents) if tangents is not None else None,
        "user_file": GENERATED_FROM.get(compiled.__code__.co_filename, ""),
        "sources_read": read,
    }
    folder = directory()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump(entry, out)
        os.replace(temporary, folder / f"{cache_key}.json")
    except OSError:
        pass  # a cache that cannot be written is no cache, not an error
