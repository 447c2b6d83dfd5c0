"""The public entry points: grad, value_and_grad, vjp, and a look at the code they generate."""
import functools
import weakref

from .errors import SrcgradError
from .transform.pipeline import reverse_mode

_cache = weakref.WeakKeyDictionary()


def _generated(function, wrt, mode, source=None):
    """The generated derivative of ``function``, transformed once per (wrt, mode)."""
    key = (tuple(wrt) if isinstance(wrt, (list, tuple)) else wrt, mode, source)
    per_function = _cache.setdefault(function, {})
    if key not in per_function:
        per_function[key] = reverse_mode(function, wrt, mode, source)
    return per_function[key]


class Derivative:
    """A derivative of a user function; generated on first use, then cached.

    Calling it runs the generated code. ``srcgrad.source(d)`` shows that code.
    """

    def __init__(self, function, wrt, mode, source=None):
        if not callable(function):
            raise SrcgradError(f"srcgrad needs a function to differentiate, got {function!r}")
        self.function, self.wrt, self.mode, self.source = function, wrt, mode, source
        functools.update_wrapper(self, function)

    @property
    def generated(self):
        return _generated(self.function, self.wrt, self.mode, self.source)

    def __call__(self, *args, **kwargs):
        return self.generated.function(*args, **kwargs)

    def __repr__(self):
        return f"<srcgrad {self.mode} of {self.function.__qualname__} wrt {self.wrt!r}>"


def derivative(function, wrt, mode):
    """The one Derivative object for (function, wrt, mode), so generated code can share it."""
    key = (tuple(wrt) if isinstance(wrt, (list, tuple)) else wrt, mode)
    per_function = _derivatives.setdefault(function, {})
    if key not in per_function:
        per_function[key] = Derivative(function, wrt, mode)
    return per_function[key]


_derivatives = weakref.WeakKeyDictionary()


def _decorator(mode):
    def make(function=None, wrt=0, source=None):
        if function is None:
            return lambda f: Derivative(f, wrt, mode, source)
        return Derivative(function, wrt, mode, source)
    return make


grad = _decorator("grad")
grad.__doc__ = """The gradient of a scalar-valued function with respect to argument(s) ``wrt``.

``@srcgrad.grad`` or ``srcgrad.grad(f, wrt=(0, 1))``. With one position in ``wrt`` the result has
the shape of that argument; with a tuple, it is a tuple of gradients. ``source`` gives the text of
the function's def where Python kept none (``exec``, a plain REPL).
"""
value_and_grad = _decorator("value_and_grad")
value_and_grad.__doc__ = """Like :func:`grad`, but returns ``(value, gradient)`` from one pass."""
vjp = _decorator("vjp")
vjp.__doc__ = """Reverse mode for array-valued functions.

``srcgrad.vjp(f, wrt=0)(*args)`` returns ``(out, pullback)``; ``pullback(cotangent)`` is the
vector-Jacobian product: the gradient of ``sum(cotangent * f(*args))`` with respect to ``wrt``.
"""


def source(derivative):
    """The Python source srcgrad generated for ``derivative`` (made by grad, vjp, ...)."""
    if not isinstance(derivative, Derivative):
        raise SrcgradError("srcgrad.source takes a function made by srcgrad.grad, "
                           "value_and_grad or vjp; wrap yours first, e.g. "
                           "srcgrad.source(srcgrad.grad(f))")
    sources, seen, pending = [], set(), [derivative]
    while pending:  # the function, then each derivative of a user function it calls
        current = pending.pop(0)
        key = (current.function, current.wrt if not isinstance(current.wrt, list) else
               tuple(current.wrt), current.mode)
        if key in seen:
            continue
        seen.add(key)
        generated = current.generated
        sources.append(generated.source)
        pending.extend(generated.callees)
    return "\n\n".join(sources)


def show(derivative):
    """Print the generated source of ``derivative``."""
    print(source(derivative), end="")
