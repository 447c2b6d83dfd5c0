"""The public entry points: grad, value_and_grad, vjp, and a look at the code they generate."""
import functools
import weakref

import numpy as np

from .errors import SrcgradError
from .inputs import check_differentiable, parameter_names, wrt_positions
from .transform.pipeline import forward_mode, reverse_mode
from .transform.shapes import argument_shape

_cache = weakref.WeakKeyDictionary()

# Different argument shapes get code of their own, up to this many per derivative; calls with
# yet other shapes run the code that takes any shapes.
MAX_SPECIALIZATIONS = 8


def _generated(function, wrt, mode, source=None, signature=None):
    """The generated derivative of ``function``, transformed once per (wrt, mode, signature).

    ``function`` may itself be a derivative: its generated code is then transformed again,
    which is how second and higher derivatives come about. ``signature`` (from
    :func:`argument_signature`) specializes the code to the shapes of those arguments.
    """
    if isinstance(function, Derivative):
        function = function.generated.function
    key = (tuple(wrt) if isinstance(wrt, (list, tuple)) else wrt, mode, source, signature)
    per_function = _cache.setdefault(function, {})
    if key in per_function and not per_function[key].refresh():
        per_function.clear()  # the user rebound a global the code was generated for
    if key not in per_function:
        if mode == "jvp":
            per_function[key] = forward_mode(function, wrt, source)
        else:
            per_function[key] = reverse_mode(function, wrt, mode, source, signature)
    return per_function[key]


def argument_signature(args, kwargs):
    """What generated code is specialized to: the shape of each argument (() for a number)."""
    positional = tuple(_shape_key(a) for a in args)
    if not kwargs:
        return positional, ()
    return positional, tuple(sorted((k, _shape_key(v)) for k, v in kwargs.items()))


def _shape_key(value):
    if type(value) is np.ndarray:  # the common case, quickly
        return value.shape
    return argument_shape(value)


class Derivative:
    """A derivative of a user function; generated on first use, then cached.

    Calling it runs the generated code, specialized to the shapes of the arguments (numbers
    stay numbers, and no adjoint is summed down where broadcasting did not stretch it).
    ``srcgrad.source(d)`` shows the code for any shapes, ``srcgrad.source(d, *args)`` the code
    that runs for these arguments.
    """

    def __init__(self, function, wrt, mode, source=None):
        if not callable(function):
            raise SrcgradError(f"srcgrad needs a function to differentiate, got {function!r}")
        # Only the name and docstring: a wrapped Derivative's own fields must not come along.
        functools.update_wrapper(self, function, updated=())
        self.function, self.wrt, self.mode, self.source = function, wrt, mode, source
        self._by_signature = {}  # argument signature -> the Generated code that runs for it
        self.last_run = None  # the Generated code of the latest call
        self._specializations = 0
        self._wrt_positions = self._parameter_names = None  # known at the first call

    @property
    def generated(self):
        """The generated code that takes arguments of any shape."""
        return _generated(self.function, self.wrt, self.mode, self.source)

    def generated_for(self, args, kwargs):
        """The generated code that runs for these arguments."""
        signature = argument_signature(args, kwargs)
        if signature in self._by_signature:
            return self._by_signature[signature]
        if self.mode == "jvp" or self._specializations >= MAX_SPECIALIZATIONS:
            generated = self.generated  # forward mode is not specialized (yet)
        else:
            generated = _generated(self.function, self.wrt, self.mode, self.source, signature)
            self._specializations += 1
        if len(self._by_signature) < 16 * MAX_SPECIALIZATIONS:
            self._by_signature[signature] = generated
        return generated

    def __call__(self, *args, **kwargs):
        if self._wrt_positions is None:
            names = parameter_names(self.function)
            self._parameter_names, self._wrt_positions = names, wrt_positions(self.wrt, names)
        check_differentiable(args, kwargs, self._wrt_positions, self._parameter_names,
                             self.__name__)
        generated = self._by_signature.get(argument_signature(args, kwargs))
        if generated is None:
            generated = self.generated_for(args, kwargs)
        elif not generated.refresh():  # a global it was generated for has changed
            self._by_signature.clear()
            self._specializations = 0
            generated = self.generated_for(args, kwargs)
        self.last_run = generated
        return generated.function(*args, **kwargs)

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
def jvp(function=None, primals=None, tangents=None, wrt=0, source=None):
    """Forward mode, two ways.

    ``srcgrad.jvp(f, primals, tangents)`` (JAX's form: tuples, one tangent per positional
    argument) returns ``(f(*primals), the derivative of f along tangents)``.
    ``srcgrad.jvp(f, wrt=0)`` (or ``@srcgrad.jvp``) returns the generated function: it takes the
    arguments, then one tangent per ``wrt`` argument, and returns ``(value, tangent)``.
    """
    if function is None:
        return lambda f: Derivative(f, wrt, "jvp", source)
    if primals is None:
        return Derivative(function, wrt, "jvp", source)
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise SrcgradError(f"jvp needs one tangent per primal: got {len(primals)} primals and "
                           f"{len(tangents)} tangents")
    check_differentiable(primals, {}, list(range(len(primals))), parameter_names(function),
                         getattr(function, "__name__", "the function"))
    generated = _generated(function, tuple(range(len(primals))), "jvp", source)
    names = generated.function.__srcgrad_tangents__
    return generated.function(*primals, **dict(zip(names, tangents)))


def jacobian(function, wrt=0):
    """A function returning the Jacobian of ``function`` with respect to argument ``wrt``.

    The result has shape ``out.shape + x.shape``. Columns come from forward mode when the input
    is the smaller side, rows from reverse mode otherwise, so the cost follows min(n_in, n_out).
    """
    if not isinstance(wrt, int):
        raise SrcgradError("jacobian takes one argument position as wrt; call it once per argument")
    forward, backward = Derivative(function, wrt, "jvp"), Derivative(function, wrt, "vjp")

    def jacobian_of(*args):
        x = args[wrt]
        out, pullback = backward(*args)
        in_shape, out_shape = getattr(x, "shape", ()), getattr(out, "shape", ())
        n_in, n_out = int(np.prod(in_shape)), int(np.prod(out_shape))
        tangent_name = forward.generated.function.__srcgrad_tangents__[0]
        if n_in <= n_out:
            columns = []
            for i in range(n_in):
                direction = np.reshape(np.zeros_like(x), (-1,))
                direction[i] = 1.0
                direction = np.reshape(direction, in_shape)
                _, column = forward(*args, **{tangent_name: direction})
                columns.append(np.reshape(column * np.ones_like(out), (-1,)))
            return np.reshape(np.stack(columns, axis=-1), out_shape + in_shape)
        rows = []
        for j in range(n_out):
            cotangent = np.reshape(np.zeros_like(out), (-1,))
            cotangent[j] = 1.0
            rows.append(np.reshape(pullback(np.reshape(cotangent, out_shape)), (-1,)))
        return np.reshape(np.stack(rows), out_shape + in_shape)

    functools.update_wrapper(jacobian_of, function)
    return jacobian_of


def hessian(function, wrt=0):
    """A function returning the Hessian of scalar ``function`` with respect to argument ``wrt``.

    Forward mode over the generated gradient: one Jacobian-vector product of the gradient code
    per input element. The result has shape ``x.shape + x.shape``.
    """
    return jacobian(Derivative(function, wrt, "grad"), wrt)


def hvp(function, wrt=0):
    """A function ``(*args, v) -> H v``: the Hessian-vector product, without forming H."""
    if not isinstance(wrt, int):
        raise SrcgradError("hvp takes one argument position as wrt")
    forward = Derivative(Derivative(function, wrt, "grad"), wrt, "jvp")

    def hessian_vector_product(*args):
        *primals, vector = args
        tangent_name = forward.generated.function.__srcgrad_tangents__[0]
        return forward(*primals, **{tangent_name: vector})[1]

    functools.update_wrapper(hessian_vector_product, function)
    return hessian_vector_product


vjp = _decorator("vjp")
vjp.__doc__ = """Reverse mode for array-valued functions.

``srcgrad.vjp(f, wrt=0)(*args)`` returns ``(out, pullback)``; ``pullback(cotangent)`` is the
vector-Jacobian product: the gradient of ``sum(cotangent * f(*args))`` with respect to ``wrt``.
"""


def source(derivative, *args, **kwargs):
    """The Python source srcgrad generated for ``derivative`` (made by grad, vjp, ...).

    Without arguments: the code that takes arguments of any shape. With example arguments:
    ``derivative`` runs once on them, and this is the code that ran, specialized to their
    shapes (and for each of the user's functions it calls, the code that ran for that call).
    """
    if not isinstance(derivative, Derivative):
        raise SrcgradError("srcgrad.source takes a function made by srcgrad.grad, "
                           "value_and_grad or vjp; wrap yours first, e.g. "
                           "srcgrad.source(srcgrad.grad(f))")
    ran = bool(args or kwargs)
    if ran:
        derivative(*args, **kwargs)
    sources, seen, pending = [], set(), [derivative]
    while pending:  # the function, then each derivative of a user function it calls
        current = pending.pop(0)
        key = (current.function, current.wrt if not isinstance(current.wrt, list) else
               tuple(current.wrt), current.mode)
        if key in seen:
            continue
        seen.add(key)
        generated = current.last_run if ran and current.last_run else current.generated
        sources.append(generated.source)
        pending.extend(generated.callees)
    return "\n\n".join(sources)


def show(derivative, *args, **kwargs):
    """Print the generated source of ``derivative`` (see :func:`source` for the arguments)."""
    print(source(derivative, *args, **kwargs), end="")