"""The user's globals and closure variables, read by generated code when it runs, not when made.

Generated code runs in a namespace of its own. Before each call, the values of the user's names
it reads are copied in from where the user's function reads them (its module's globals, its
closure cells), so rebinding ``SCALE = 3.0`` between calls is seen as the plain function sees it.
Two things the code was generated from cannot change silently: a name that was a number when the
code was specialized (shapes.py counts global numbers as numbers), and a name bound to a
function, class or module (its derivative was generated for that object). A change of either
asks for the code to be generated again.
"""
import types

_NUMBER_TYPES = (int, float, bool)
_MISSING = object()


def _structural(value):
    """A value the generated code's shape depends on: a function, class or module."""
    return callable(value) or isinstance(value, types.ModuleType)


class LiveGlobals:
    """Reads the user's names a generated function uses into its namespace before each call."""

    __slots__ = ("scope", "entries", "inner", "lifted")

    def __init__(self, function, names, scope, lifted=()):
        self.scope = scope
        self.inner = getattr(function, "__srcgrad_live__", None)  # code generated from code
        cells = dict(zip(function.__code__.co_freevars, function.__closure__ or ()))
        module_globals = function.__globals__
        self.entries = []  # (name, where it lives, the value the code was generated for)
        for name in sorted(names):
            if name in cells:
                where = cells[name]
            elif name in module_globals:
                where = module_globals
            else:
                continue  # a builtin, or a helper srcgrad bound
            value = self._read(where, name)
            if value is not _MISSING:
                self.entries.append((name, where, value))
        # A nested def of the function, lifted (closures.py), runs in a namespace srcgrad made
        # from the function's globals when it was lifted; the globals it reads are copied in
        # there too, so that it and its derivative (which reads them from there) see rebinding.
        self.lifted = []  # (the lifted function's namespace, name, where, value)
        siblings = {getattr(f, "__name__", None) for f in lifted}
        for nested in lifted:
            for name in sorted(_global_names(nested.__code__) - siblings):
                where = cells.get(name, module_globals if name in module_globals else None)
                if where is None:
                    continue
                value = self._read(where, name)
                if value is not _MISSING:
                    self.lifted.append((nested.__globals__, name, where, value))

    @staticmethod
    def _read(where, name):
        if type(where) is dict:
            return where.get(name, _MISSING)
        try:
            return where.cell_contents
        except ValueError:  # an empty cell
            return _MISSING

    def refresh(self):
        """Copy the current values in; False when the code must be generated again."""
        if self.inner is not None and not self.inner.refresh():
            return False
        scope = self.scope
        for name, where, original in self.entries:
            current = where.get(name, _MISSING) if type(where) is dict else self._read(where, name)
            if current is original:
                if scope.get(name, _MISSING) is not current:
                    scope[name] = current
                continue
            if current is _MISSING or _structural(original) or _structural(current):
                return False
            if type(original) in _NUMBER_TYPES and type(current) not in _NUMBER_TYPES:
                return False  # specialized for a number
            scope[name] = current
        for namespace, name, where, original in self.lifted:
            current = where.get(name, _MISSING) if type(where) is dict else self._read(where, name)
            if current is not original and (
                    current is _MISSING or _structural(original) or _structural(current)):
                return False
            namespace[name] = current
        return True


def _global_names(code):
    """The global names a code object (and the code nested in it) may read."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names
