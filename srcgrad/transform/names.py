"""Collision-free names for generated variables, derived from the user's names."""
import keyword
import re


class NameAllocator:
    """Hands out identifiers that clash with no name the function or its globals use."""

    def __init__(self, taken=()):
        self.taken = set(taken)

    def reserve(self, name):
        self.taken.add(name)

    def fresh(self, hint):
        """``hint`` if free, else ``hint_2``, ``hint_3``, ..."""
        base = "_" if hint == "_" else re.sub(r"\W", "_", hint).strip("_") or "tmp"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = "v_" + base
        candidate, counter = base, 1
        while candidate in self.taken:
            counter += 1
            candidate = f"{base}_{counter}"
        self.taken.add(candidate)
        return candidate


class GlobalBinder:
    """The global names generated code uses, each bound to one object without clashes.

    User names keep their meaning; a helper that a rule calls (``np``, ``unbroadcast``) keeps its
    own name unless the user's function already uses that name for something else.
    """

    def __init__(self, names, user_namespace, user_globals_used):
        self.names = names
        self.user_namespace = user_namespace
        self.bound = {n: user_namespace[n] for n in user_globals_used if n in user_namespace}
        for name in self.bound:
            names.reserve(name)

    def bind(self, name, obj):
        """The name under which generated code can refer to ``obj``."""
        if self.bound.get(name, _MISSING) is obj:
            return name
        for existing, value in self.bound.items():
            if value is obj and not isinstance(obj, (int, float, bool, str, type(None))):
                return existing
        final = name if name not in self.names.taken else self.names.fresh("sg_" + name)
        self.names.reserve(final)
        self.bound[final] = obj
        return final


_MISSING = object()
