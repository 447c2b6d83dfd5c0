"""The public entry points: grad, value_and_grad, vjp, and a look at the code they generate."""
from __future__ import annotations

import functools
import inspect
import weakref
from typing import (Any, Callable, Dict, Optional, Sequence, Tuple, TypeVar, Union, cast,
                    overload)

import numpy as np

from . import diskcache, tracebacks
from .errors import SourceError, SrcgradError, qualified_name
from .callables import adapt
from .inputs import check_differentiable, parameter_names, wrt_positions
from .transform import parse
from .transform.parameters import tangent_parameters
from .transform.pipeline import Generated, forward_mode, reverse_mode
from .runtime import as_array_like, restructured, scalar_seed, zeros_for
from .rules import non_differentiable as _declare_non_differentiable
from .transform.dtypes import ARGUMENT_DTYPES
from .transform.shapes import FOREIGN_ARRAYS, Tree, argument_shape, has_foreign_arrays

#: Which arguments to differentiate with respect to: a position, a parameter name, or a tuple of
#: them (the derivative is then a tuple, in that order).
Wrt = Union[int, str, Sequence[Union[int, str]]]
Signature = Tuple[Tuple[Any, ...], Tuple[Tuple[str, Any], ...]]
_F = TypeVar("_F", bound=Callable[..., Any])

_cache: "weakref.WeakKeyDictionary[Any, dict[Any, Generated]]" = weakref.WeakKeyDictionary()

# Different argument shapes get code of their own, up to this many per derivative; calls with
# yet other shapes run the code that takes any shapes.
MAX_SPECIALIZATIONS = 8


def _generated(function: Callable[..., Any], wrt: Wrt, mode: str, source: Optional[str] = None,
               signature: Optional[Signature] = None, differentiable: bool = False
               ) -> Generated:
    """The generated derivative of ``function``, transformed once per (wrt, mode, signature).

    ``function`` may itself be a derivative: its generated code is then transformed again,
    which is how second and higher derivatives come about. ``signature`` (from
    :func:`argument_signature`) specializes the code to the shapes of those arguments.
    ``differentiable``: code meant to be differentiated again (calls of the user's functions
    without closures; see pipeline.reverse_mode).
    """
    if isinstance(function, Derivative):
        function = _compiled(function.differentiable_generated)
    origin = getattr(function, "__srcgrad_origin__", None)
    tangent_names = None
    if origin is not None and signature is not None:
        # Generated code differentiated again, for arguments of known shapes: transform the
        # code made for those shapes (which knows, say, which arguments are lists). Its
        # forward derivative keeps the tangent names callers know from the code for any shape.
        if mode == "jvp":
            tangent_names = tangent_parameters(function, wrt)
        function = _compiled(origin.differentiable_for(signature))
    key = (tuple(wrt) if isinstance(wrt, (list, tuple)) else wrt, mode, source, signature,
           differentiable)
    per_function = _cache.setdefault(function, {})
    if key in per_function and not per_function[key].refresh():
        per_function.clear()  # the user rebound a global the code was generated for
    if key not in per_function:
        cache_key = diskcache.key(function, source, wrt, mode, signature, differentiable,
                                  tangent_names)
        generated = diskcache.load(cache_key, function, derivative, Derivative) \
            if cache_key else None
        if generated is None:
            outer_read = parse.READ
            read: list[Any] = []  # the functions parsed while generating
            parse.READ = read
            try:
                generated = _generate(function, wrt, mode, source, signature, differentiable,
                                      tangent_names)
            finally:
                parse.READ = None if outer_read is None else outer_read + read
            if cache_key:
                diskcache.store(cache_key, generated, function, read, Derivative)
        tracebacks.register(generated.function, _source_file(function, source),
                            getattr(function, "__name__", "?"))
        per_function[key] = generated
    return per_function[key]


def _generate(function: Callable[..., Any], wrt: Wrt, mode: str, source: Optional[str],
              signature: Optional[Signature], differentiable: bool,
              tangent_names: Optional[list[str]]) -> Generated:
    """Run the transformer (see _generated)."""
    if mode != "jvp":
        return cast(Generated, reverse_mode(function, wrt, mode, source, signature,
                                            differentiable, link=derivative))
    generated = forward_mode(function, wrt, source, tangent_names, signature, link=derivative)
    if generated is None:  # a tangent's name is taken there: the code for any shape
        origin = getattr(function, "__srcgrad_origin__")
        return _generated(origin.differentiable_generated.function, wrt, mode, source)
    return cast(Generated, generated)


def _compiled(generated: Generated) -> Any:
    """The compiled function of generated code (typed loosely: it carries srcgrad's attributes)."""
    return generated.function


def _source_file(function: Callable[..., Any], source: Optional[str] = None) -> str:
    """The file a function's source comes from, as the transformer names it in messages."""
    if source is not None:
        return f"<source given for {function.__qualname__}>"
    code = getattr(function, "__code__", None)  # not unwrapped: the wrapper is what runs
    try:
        return inspect.getsourcefile(code) or code.co_filename  # type: ignore[arg-type,union-attr]
    except (TypeError, AttributeError):
        return getattr(code, "co_filename", "<unknown>")


def _definition(function: Callable[..., Any], source: Optional[str] = None) -> Optional[Tuple[str, int]]:
    """The file and ``def`` line of a user function, for errors that concern it as a whole."""
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    return _source_file(function, source), 1 if source is not None else code.co_firstlineno


def argument_signature(args: Sequence[Any], kwargs: dict[str, Any]) -> Signature:
    """What generated code is specialized to: the shape of each argument (() for a number), and
    the dtype of each array or NumPy scalar and type of each Python number (ARGUMENT_DTYPES,
    which the in-place passes read: transform/reuse.py)."""
    positional = tuple(_shape_key(a) for a in args)
    keywords = tuple(sorted((k, _shape_key(v)) for k, v in kwargs.items()))
    keywords += ((ARGUMENT_DTYPES, (tuple(_dtype_key(a) for a in args),
                                    tuple(sorted((k, _dtype_key(v))
                                                 for k, v in kwargs.items())))),)
    if any(type(a) is not np.ndarray and has_foreign_arrays(a)
           for a in (*args, *kwargs.values())):
        keywords += (FOREIGN_ARRAYS,)  # code of its own, without NumPy's array methods
    return positional, keywords


def _quick_key(args: Sequence[Any]) -> Any:
    """The type, and for an array the shape and dtype, of each argument where every one is a
    NumPy array or a Python number (else None): finer than the signature, and it decides the
    checks of check_differentiable, so a call with the key of an earlier one skips both."""
    if len(args) == 1:  # the common case, without the list
        value = args[0]
        kind = type(value)
        if kind is np.ndarray:
            return ((value.shape, value.dtype),)
        return (kind,) if kind is float or kind is int or kind is bool else None
    key: list[Any] = []
    for value in args:
        kind = type(value)
        if kind is np.ndarray:
            key.append((value.shape, value.dtype))
        elif kind is float or kind is int or kind is bool:
            key.append(kind)
        else:
            return None
    return tuple(key)


def _dtype_key(value: Any) -> Optional[str]:
    kind = type(value)
    if kind is np.ndarray or isinstance(value, np.generic):
        return cast(str, value.dtype.str)
    if kind is float or kind is int or kind is bool or kind is complex:
        return kind.__name__
    return None


def _shape_key(value: Any) -> Any:
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

    def __init__(self, function: Callable[..., Any], wrt: Wrt, mode: str,
                 source: Optional[str] = None) -> None:
        if not callable(function):
            raise SrcgradError(f"srcgrad needs a function to differentiate, got {function!r}")
        _refuse_jacobian_of_jacobian(function)
        try:  # methods, partials, lambdas, callable objects, primitives with a rule
            adapted = adapt(function, wrt, source)
        except SourceError:
            _check_transformable(function, mode)
            raise
        # Only the name and docstring: a wrapped Derivative's own fields must not come along.
        functools.update_wrapper(self, function, updated=())
        if not hasattr(self, "__name__"):
            self.__name__ = getattr(adapted.function, "__name__", "function")
        self.function, self.wrt, self.mode = adapted.function, adapted.wrt, mode
        self.source = adapted.source
        self._bound_args, self._bound_kwargs = adapted.bound_args, adapted.bound_kwargs
        # Calls that __call__ may serve from _by_quick_key at once: nothing bound first, and no
        # seed before the primals (an adjoint's)
        self._quick_calls = not (self._bound_args or self._bound_kwargs) and mode != "adjoint"
        self._by_signature: dict[Signature, Generated] = {}  # signature -> the code that runs
        self._by_quick_key: dict[Any, Generated] = {}  # see _quick_key
        self.last_run: Optional[Generated] = None  # the Generated code of the latest call
        self._specializations = 0
        # Known at the first call: the parameter names and the positions of the wrt arguments.
        self._wrt_positions: Optional[list[Union[int, str]]] = None
        self._parameter_names: list[str] = []
        # Gradients of containers come back in their arguments' structure (a named tuple as
        # itself) for the user; generated code that calls this derivative wants its own form
        # (lists it adds into), so derivative() turns this off.
        self.restructures = True

    def unbound(self) -> Tuple["Derivative", Tuple[Any, ...], dict[str, Any]]:
        """This derivative as one of the plain function, which takes the arguments bound to a
        method or a partial first, and those arguments: (derivative, args, kwargs)."""
        if not (self._bound_args or self._bound_kwargs):
            return self, (), {}
        plain = Derivative(self.function, self.wrt, self.mode, self.source)
        plain.restructures = self.restructures
        return plain, self._bound_args, dict(self._bound_kwargs)

    @property
    def generated(self) -> Generated:
        """The generated code that takes arguments of any shape."""
        return _generated(self.function, self.wrt, self.mode, self.source)

    @property
    def differentiable_generated(self) -> Generated:
        """The generated code for any shapes, in the form that is differentiated again."""
        if self.mode in ("jvp", "adjoint"):  # no closures in either
            generated = self.generated
        else:
            generated = _generated(self.function, self.wrt, self.mode, self.source,
                                   differentiable=True)
        _compiled(generated).__srcgrad_origin__ = self
        return generated

    def differentiable_for(self, signature: Signature) -> Generated:
        """The code that is differentiated again, specialized to a call of that code with
        arguments of these shapes (an adjoint's take its output's adjoint first)."""
        positional, keywords = signature
        if self.mode == "adjoint":
            positional = positional[1:]
        generated = _generated(self.function, self.wrt, self.mode, self.source,
                               (positional, keywords), differentiable=self.mode != "jvp")
        _compiled(generated).__srcgrad_origin__ = self
        return generated

    def generated_for(self, args: Sequence[Any], kwargs: dict[str, Any]) -> Generated:
        """The generated code that runs for these arguments."""
        signature = argument_signature(args, kwargs)
        if signature in self._by_signature:
            return self._by_signature[signature]
        # Code for any shapes cannot know which arguments are lists (whose adjoints are lists):
        # those always get code of their own.
        sequences = any(isinstance(s, Tree) for s in signature[0]) or \
            any(isinstance(s, Tree) for _, s in signature[1])
        if self._specializations >= MAX_SPECIALIZATIONS and not sequences:
            generated = self.generated
        else:
            generated = _generated(self.function, self.wrt, self.mode, self.source, signature)
            self._specializations += 1
        if len(self._by_signature) < 16 * MAX_SPECIALIZATIONS:
            self._by_signature[signature] = generated
        return generated

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            # The common call, in as few steps as possible (a tiny gradient costs a few
            # microseconds): positional arguments of the kinds of an earlier call, nothing bound.
            # (Containers have no quick key, so nothing found here restructures its result.)
            if not kwargs and self._quick_calls:
                generated = self._by_quick_key.get(_quick_key(args))
                if generated is not None and generated.refresh():
                    self.last_run = generated
                    return _compiled(generated)(*args)
            return self._call(args, kwargs)
        except SrcgradError as error:  # the message says where; srcgrad's frames would not
            if tracebacks.present(error, _definition(self.function, self.source)):
                raise
            raise error.with_traceback(None)
        except Exception as error:  # the user's own code failed: say which line of theirs
            tracebacks.note_user_line(error)
            tracebacks.hide_own_frames(error)
            raise

    def _call(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        if self._bound_args or self._bound_kwargs:  # self of a method, a partial's arguments
            args, kwargs = self._bound_args + args, {**self._bound_kwargs, **kwargs}
        # A helper's adjoint (called by generated code) takes the output's adjoint first.
        primals = args[1:] if self.mode == "adjoint" else args
        if self._wrt_positions is None:
            names = parameter_names(self.function)
            self._parameter_names, self._wrt_positions = names, wrt_positions(self.wrt, names)
        # Arguments of the types, shapes and dtypes of an earlier call passed its checks: their
        # code is found by one lookup.
        quick = None if kwargs else _quick_key(primals)
        generated = self._by_quick_key.get(quick)
        if generated is None or not generated.refresh():
            if not _is_segment(self.function):
                check_differentiable(primals, kwargs, self._wrt_positions,
                                     self._parameter_names,
                                     getattr(self.function, "__name__", "the function"))
            generated = self._by_signature.get(argument_signature(primals, kwargs))
            if generated is None:
                generated = self.generated_for(primals, kwargs)
            elif not generated.refresh():  # a global it was generated for has changed
                self._by_signature.clear()
                self._by_quick_key.clear()
                self._specializations = 0
                generated = self.generated_for(primals, kwargs)
            if quick is not None and len(self._by_quick_key) < 16 * MAX_SPECIALIZATIONS:
                self._by_quick_key[quick] = generated
        self.last_run = generated
        result = _compiled(generated)(*args, **kwargs)
        if self.mode != "jvp" and generated.containers and self.restructures:
            result = _in_argument_structure(result, self.mode, self.wrt, primals,
                                            self._wrt_positions or [])
        return result

    def __repr__(self) -> str:
        return f"<srcgrad {self.mode} of {self.function.__qualname__} wrt {self.wrt!r}>"


def derivative(function: Callable[..., Any], wrt: Wrt, mode: str) -> Derivative:
    """The one Derivative object for (function, wrt, mode), so generated code can share it."""
    key = (tuple(wrt) if isinstance(wrt, (list, tuple)) else wrt, mode)
    per_function = _derivatives.setdefault(function, {})
    if key not in per_function:
        per_function[key] = Derivative(function, wrt, mode)
        per_function[key].restructures = False
    return per_function[key]


_derivatives: "weakref.WeakKeyDictionary[Any, dict[Any, Derivative]]" = \
    weakref.WeakKeyDictionary()


def _in_argument_structure(result: Any, mode: str, wrt: Any, args: Sequence[Any],
                           positions: Sequence[Union[int, str]]) -> Any:
    """Gradients of containers (adjoints are lists and dicts) in their arguments' structure."""
    likes = [args[p] if isinstance(p, int) and p < len(args) else None for p in positions]

    def shaped(gradients: Any) -> Any:
        if not isinstance(wrt, (tuple, list)):
            return restructured(gradients, likes[0])
        return tuple(restructured(g, like) for g, like in zip(gradients, likes))

    if mode in ("grad", "adjoint"):
        return shaped(result)
    if mode == "value_and_grad":
        return result[0], shaped(result[1])
    value, pullback = result
    return value, lambda *cotangent: shaped(pullback(*cotangent))


def _check_transformable(function: Callable[..., Any], mode: str) -> None:
    """Refuse at once what cannot be transformed because it is not Python code (a ufunc, a
    builtin), with the API that gives such a function a derivative."""
    if isinstance(function, Derivative) or inspect.isfunction(inspect.unwrap(function)):
        return
    name = qualified_name(function)
    api = "defjvp" if mode == "jvp" else "defvjp"
    raise SourceError(f"srcgrad.{mode} transforms Python functions, and "
                      f"{name} is not one (it is a {type(function).__name__}). To give it a "
                      f"derivative, register a rule: @srcgrad.{api}({name})")


def _boundary(function: _F) -> _F:
    """Present srcgrad errors raised below ``function`` at the user's line (see tracebacks)."""
    @functools.wraps(function)
    def entry(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except SrcgradError as error:
            if tracebacks.present(error, tracebacks.caller_location(error.__traceback__)):
                raise
            raise error.with_traceback(None)
        except Exception as error:
            tracebacks.note_user_line(error)
            tracebacks.hide_own_frames(error)
            raise
    return entry  # type: ignore[return-value]


@overload
def grad(function: Callable[..., Any], wrt: Wrt = 0, source: Optional[str] = None, *,
         has_aux: bool = False, argnums: Optional[Wrt] = None) -> Derivative:
    ...


@overload
def grad(function: None = None, wrt: Wrt = 0,
         source: Optional[str] = None, *,
         has_aux: bool = False, argnums: Optional[Wrt] = None
         ) -> Callable[[Callable[..., Any]], Derivative]:
    ...


@_boundary
def grad(function: Optional[Callable[..., Any]] = None, wrt: Wrt = 0,
         source: Optional[str] = None, *,
         has_aux: bool = False, argnums: Optional[Wrt] = None
         ) -> Union[Derivative, Callable[[Callable[..., Any]], Derivative]]:
    """The gradient of a scalar-valued function with respect to argument(s) ``wrt``.

    Use it as ``@srcgrad.grad``, ``@srcgrad.grad(wrt=(0, 1))`` or ``srcgrad.grad(f, wrt=1)``.

    Args:
        function: a Python function returning a scalar (a float, or an array of shape ``()``).
        wrt: the argument to differentiate with respect to: a position or a parameter name.
            With a tuple of them the derivative returns a tuple of gradients, in that order.
        source: the text of the function's ``def``, for functions whose source Python did not
            keep (made by ``exec``, typed at a plain REPL).
        has_aux: the function returns ``(value, aux)``: the gradient is of ``value``, and the
            derivative returns ``(gradient, aux)`` (JAX's ``has_aux``).
        argnums: another name for ``wrt`` (JAX's and ``torch.func``'s).

    Returns:
        A :class:`Derivative`: call it with the function's arguments to get the gradient, shaped
        like the argument ``wrt`` names. The code is generated on the first call.

    Raises:
        NonScalarOutput: the function returns an array that is not a scalar (use :func:`vjp`).
        UnsupportedSyntax: the function uses a construct srcgrad refuses (named, with its line).
        NoDerivativeRule: the function calls something that has no derivative rule.
    """
    return _make("grad", function, wrt, source, has_aux, argnums)


@overload
def value_and_grad(function: Callable[..., Any], wrt: Wrt = 0,
                   source: Optional[str] = None, *,
                   has_aux: bool = False, argnums: Optional[Wrt] = None) -> Derivative:
    ...


@overload
def value_and_grad(function: None = None, wrt: Wrt = 0, source: Optional[str] = None, *,
                   has_aux: bool = False, argnums: Optional[Wrt] = None
                   ) -> Callable[[Callable[..., Any]], Derivative]:
    ...


@_boundary
def value_and_grad(function: Optional[Callable[..., Any]] = None, wrt: Wrt = 0,
                   source: Optional[str] = None, *,
                   has_aux: bool = False, argnums: Optional[Wrt] = None
                   ) -> Union[Derivative, Callable[[Callable[..., Any]], Derivative]]:
    """Like :func:`grad`, but the derivative returns ``(value, gradient)`` from one pass.

    Args:
        function: a Python function returning a scalar.
        wrt: a position or parameter name, or a tuple of them (see :func:`grad`).
        source: the text of the function's ``def`` where Python kept none.
        has_aux: the function returns ``(value, aux)``; the derivative returns
            ``((value, aux), gradient)``.
        argnums: another name for ``wrt``.

    Returns:
        A :class:`Derivative` returning ``(function(*args), gradient)``.
    """
    return _make("value_and_grad", function, wrt, source, has_aux, argnums)


@overload
def vjp(function: Callable[..., Any], wrt: Wrt = 0, source: Optional[str] = None, *,
        has_aux: bool = False, argnums: Optional[Wrt] = None) -> Derivative:
    ...


@overload
def vjp(function: None = None, wrt: Wrt = 0,
        source: Optional[str] = None, *,
        has_aux: bool = False, argnums: Optional[Wrt] = None
        ) -> Callable[[Callable[..., Any]], Derivative]:
    ...


@_boundary
def vjp(function: Optional[Callable[..., Any]] = None, wrt: Wrt = 0,
        source: Optional[str] = None, *,
        has_aux: bool = False, argnums: Optional[Wrt] = None
        ) -> Union[Derivative, Callable[[Callable[..., Any]], Derivative]]:
    """Reverse mode for array-valued functions: values and vector-Jacobian products.

    ``srcgrad.vjp(f, wrt=0)(*args)`` returns ``(out, pullback)``; ``pullback(cotangent)`` is the
    gradient of ``sum(cotangent * f(*args))`` with respect to ``wrt``, and may be called many
    times. This is the transform; to register the derivative rule of a function of your own, use
    :func:`srcgrad.defvjp`.

    Args:
        function: a Python function returning an array (or a number).
        wrt: a position or parameter name, or a tuple of them (the pullback then returns a tuple).
        source: the text of the function's ``def`` where Python kept none.
        has_aux: the function returns ``(out, aux)``; the derivative returns
            ``(out, pullback, aux)``.
        argnums: another name for ``wrt``.

    Returns:
        A :class:`Derivative` returning ``(out, pullback)``.
    """
    return _make("vjp", function, wrt, source, has_aux, argnums)


def _make(mode: str, function: Optional[Callable[..., Any]], wrt: Wrt, source: Optional[str],
          has_aux: bool = False, argnums: Optional[Wrt] = None
          ) -> Union[Derivative, Callable[[Callable[..., Any]], Derivative]]:
    if argnums is not None:  # JAX's and torch.func's name for wrt
        wrt = argnums
    _check_wrt(mode, wrt)
    kind = AuxDerivative if has_aux else Derivative
    if function is None:
        return lambda f: kind(f, wrt, mode, source)
    return kind(function, wrt, mode, source)


def _check_wrt(mode: str, wrt: Any) -> None:
    """``wrt`` names arguments; an array or a number there is an argument passed too early
    (JAX's ``jax.vjp(f, x)`` is ``sg.vjp(f)(x)`` here)."""
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    if all(isinstance(item, (int, str)) and not isinstance(item, bool) for item in items):
        return
    raise SrcgradError(
        f"the second argument of srcgrad.{mode} is wrt (argument positions or names), not "
        f"{type(wrt).__name__} {wrt!r:.40}; pass the arguments to the derivative: "
        f"srcgrad.{mode}(f)(x) (JAX's jax.{mode}(f, x) is srcgrad.{mode}(f)(x) here)")


class AuxDerivative(Derivative):
    """The derivative of a function that returns ``(value, aux)`` (``has_aux=True``, as in JAX):
    the derivative is of ``value``; ``aux`` (anything: accuracy, predictions) comes back beside
    it. ``grad`` returns ``(gradient, aux)``, ``value_and_grad`` ``((value, aux), gradient)``,
    ``vjp`` ``(value, pullback, aux)``. One pass: the pullback of the pair is seeded with zeros
    for ``aux``."""

    def __init__(self, function: Callable[..., Any], wrt: Wrt, mode: str,
                 source: Optional[str] = None) -> None:
        super().__init__(function, wrt, mode, source)
        self._pair = Derivative(function, wrt, "vjp", source)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        returned, pullback = self._pair(*args, **kwargs)
        name = getattr(self.function, "__name__", "the function")
        if not (isinstance(returned, tuple) and len(returned) == 2):
            raise SrcgradError(f"has_aux=True needs {name} to return a pair (value, aux); it "
                               f"returned a {type(returned).__name__}")
        value, aux = returned
        aux_zeros = zeros_for(aux)
        if self.mode == "vjp":
            return value, lambda cotangent: pullback((cotangent, aux_zeros)), aux
        seed = scalar_seed(value, name) * 0.0 + 1.0  # refuses a value that is not a scalar
        gradient = pullback((seed, aux_zeros))
        if self.mode == "grad":
            return gradient, aux
        return (value, aux), gradient


@_boundary
def jvp(function: Optional[Callable[..., Any]] = None, primals: Optional[Sequence[Any]] = None,
        tangents: Optional[Sequence[Any]] = None, wrt: Wrt = 0,
        source: Optional[str] = None) -> Any:
    """Forward mode, two ways.

    ``srcgrad.jvp(f, primals, tangents)`` (JAX's form: tuples, one tangent per positional
    argument) returns ``(f(*primals), the derivative of f along tangents)``.
    ``srcgrad.jvp(f, wrt=0)`` (or ``@srcgrad.jvp``) returns the generated function: it takes the
    arguments, then one tangent per ``wrt`` argument, and returns ``(value, tangent)``.
    This is the transform; the forward rule of a function of your own is registered with
    :func:`srcgrad.defjvp`.

    Args:
        function: a Python function.
        primals: the arguments to evaluate ``function`` at (JAX's form).
        tangents: one tangent per primal, each shaped like it (JAX's form).
        wrt: with no primals: the argument(s) whose tangents the generated function takes.
        source: the text of the function's ``def`` where Python kept none.

    Returns:
        ``(value, tangent)`` given primals and tangents; otherwise a :class:`Derivative`.
    """
    if function is None:
        return lambda f: Derivative(f, wrt, "jvp", source)
    if primals is None:
        return Derivative(function, wrt, "jvp", source)
    primals, tangents = tuple(primals), tuple(tangents or ())
    if len(primals) != len(tangents):
        raise SrcgradError(f"jvp needs one tangent per primal: got {len(primals)} primals and "
                           f"{len(tangents)} tangents")
    derivative = Derivative(function, tuple(range(len(primals))), "jvp", source)
    names = _compiled(derivative.generated).__srcgrad_tangents__
    return derivative(*primals, **dict(zip(names, tangents)))


def _is_segment(function: Any) -> bool:
    """A segment of a loop over checkpoint_range (transform/segments.py), or a derivative of
    one: its state may hold a Python int the loop counts with, whose derivative is never read."""
    for _ in range(4):
        if getattr(function, "__srcgrad_segment__", False):
            return True
        function = getattr(function, "__srcgrad_origin__", None) or \
            getattr(function, "function", None)
    return False


@_boundary
def jacobian(function: Callable[..., Any], wrt: int = 0,
             mode: Optional[str] = None) -> Callable[..., Any]:
    """A function returning the Jacobian of ``function`` with respect to argument ``wrt``.

    The result has shape ``out.shape + x.shape``. Columns come from forward mode when the input
    is the smaller side, rows from reverse mode otherwise, so the cost follows min(n_in, n_out);
    ``mode="forward"`` or ``"reverse"`` chooses (:func:`jacfwd` and :func:`jacrev`).
    """
    if mode not in (None, "forward", "reverse"):
        raise SrcgradError(f"jacobian's mode is 'forward', 'reverse' or None, not {mode!r}")
    if not isinstance(wrt, int):
        raise SrcgradError("jacobian takes one argument position as wrt; call it once per argument")
    _refuse_jacobian_of_jacobian(function)
    forward, backward = Derivative(function, wrt, "jvp"), Derivative(function, wrt, "vjp")

    @_boundary
    def jacobian_of(*args: Any) -> Any:
        x = args[wrt]
        out, pullback = backward(*args)
        in_shape, out_shape = getattr(x, "shape", ()), getattr(out, "shape", ())
        n_in, n_out = int(np.prod(in_shape)), int(np.prod(out_shape))
        tangent_name = _compiled(forward.generated).__srcgrad_tangents__[0]
        # Arrays are made by the library of x or out (np.zeros_like(0.0) would be a NumPy array,
        # which a CuPy array refuses to meet); a number's derivative by a number is a number.
        like = x if _is_array(x) else out if _is_array(out) else None
        if mode == "forward" or (mode is None and n_in <= n_out):
            columns = []
            for i in range(n_in):
                _, column = forward(*args, **{tangent_name: _unit(x, i)})
                if like is None and not _is_array(column):
                    return column
                columns.append(np.reshape(column * _ones_like(out), (-1,)))
            return np.reshape(np.stack(columns, axis=-1), out_shape + in_shape)
        rows = []
        for j in range(n_out):
            row = pullback(_unit(out, j))
            if like is None and not _is_array(row):
                return row
            rows.append(np.reshape(row if _is_array(row) else as_array_like(row, like), (-1,)))
        return np.reshape(np.stack(rows), out_shape + in_shape)

    functools.update_wrapper(jacobian_of, function)
    jacobian_of.__srcgrad_jacobian__ = True  # type: ignore[attr-defined]
    return jacobian_of


def _refuse_jacobian_of_jacobian(function: Callable[..., Any]) -> None:
    """A Jacobian or Hessian is computed by a Python loop over unit directions, which srcgrad
    does not differentiate again: refuse at the user's line, with what does work."""
    if getattr(function, "__srcgrad_jacobian__", False):
        raise SrcgradError(
            "srcgrad cannot differentiate the result of srcgrad.jacobian or srcgrad.hessian "
            "again (it loops over unit directions in Python): for third derivatives nest the "
            "generated derivatives instead, e.g. srcgrad.grad(srcgrad.grad(srcgrad.grad(f))) "
            "for a function of a number")


def _is_array(value: Any) -> bool:
    """An array (of any library), as opposed to a Python number or a NumPy scalar."""
    return hasattr(value, "shape") and not isinstance(value, np.generic)


def _unit(value: Any, i: int) -> Any:
    """The i-th unit direction shaped like ``value``, made by value's own library; 1.0 for a
    number."""
    if not _is_array(value):
        return 1.0
    direction = np.reshape(np.zeros_like(value), (-1,))
    direction[i] = 1.0
    return np.reshape(direction, value.shape)


def _ones_like(value: Any) -> Any:
    return np.ones_like(value) if _is_array(value) else 1.0


def jacfwd(function: Callable[..., Any], wrt: int = 0) -> Callable[..., Any]:
    """The Jacobian by forward mode, one column per input element (JAX's ``jacfwd``)."""
    return jacobian(function, wrt, mode="forward")


def jacrev(function: Callable[..., Any], wrt: int = 0) -> Callable[..., Any]:
    """The Jacobian by reverse mode, one row per output element (JAX's ``jacrev``)."""
    return jacobian(function, wrt, mode="reverse")


def stop_gradient(x: Any) -> Any:
    """``x`` itself, through which no derivative flows (JAX's ``stop_gradient``; for a Tensor
    of the eager engine, use ``x.detach()``)."""
    return x


@_boundary
def hessian(function: Callable[..., Any], wrt: int = 0) -> Callable[..., Any]:
    """A function returning the Hessian of scalar ``function`` with respect to argument ``wrt``.

    Forward mode over the generated gradient: one Jacobian-vector product of the gradient code
    per input element. The result has shape ``x.shape + x.shape``.
    """
    return jacobian(Derivative(function, wrt, "grad"), wrt)


@_boundary
def hvp(function: Callable[..., Any], wrt: int = 0) -> Callable[..., Any]:
    """A function ``(*args, v) -> H v``: the Hessian-vector product, without forming H."""
    if not isinstance(wrt, int):
        raise SrcgradError("hvp takes one argument position as wrt")
    forward = Derivative(Derivative(function, wrt, "grad"), wrt, "jvp")

    @_boundary
    def hessian_vector_product(*args: Any) -> Any:
        *primals, vector = args
        tangent_name = _compiled(forward.generated).__srcgrad_tangents__[0]
        return forward(*primals, **{tangent_name: vector})[1]

    functools.update_wrapper(hessian_vector_product, function)
    return hessian_vector_product


@_boundary
def source(derivative: Derivative, *args: Any, **kwargs: Any) -> str:
    """The Python source srcgrad generated for ``derivative`` (made by grad, vjp, ...).

    Without arguments: the code that takes arguments of any shape. With example arguments:
    ``derivative`` runs once on them, and this is the code that ran, specialized to their
    shapes (and for each of the user's functions it calls, the code that ran for that call).
    """
    if not isinstance(derivative, Derivative):
        raise SrcgradError("srcgrad.source takes a function made by srcgrad.grad, "
                           "value_and_grad or vjp; wrap yours first, e.g. "
                           "srcgrad.source(srcgrad.grad(f))")
    return "\n\n".join(g.source for g in generated_code(derivative, *args, **kwargs))


def generated_code(derivative: Derivative, *args: Any, **kwargs: Any) -> list[Generated]:
    """The generated code :func:`source` shows: ``derivative``'s own, then that of each
    derivative of a user function it calls, in the order they are first called."""
    ran = bool(args or kwargs)
    if ran:
        derivative(*args, **kwargs)
    parts: list[Generated] = []
    seen: set[Any] = set()
    pending: list[Derivative] = [derivative]
    while pending:  # the function, then each derivative of a user function it calls
        current = pending.pop(0)
        key = (current.function, current.wrt if not isinstance(current.wrt, list) else
               tuple(current.wrt), current.mode)
        if key in seen:
            continue
        seen.add(key)
        generated = current.last_run if ran and current.last_run else current.generated
        parts.append(generated)
        pending.extend(generated.callees)
    return parts


@_boundary
def show(derivative: Derivative, *args: Any, **kwargs: Any) -> None:
    """Print the generated source of ``derivative`` (see :func:`source` for the arguments)."""
    print(source(derivative, *args, **kwargs), end="")

def defvjp(*primitives: Callable[..., Any]) -> Callable[[_F], _F]:
    """Register the decorated function as the reverse-mode rule of each of ``primitives``.

    The rule is ``rule(g, ans, *params)``: ``g`` is the adjoint of the primitive's result, ``ans``
    the result, then the primitive's parameters as it names them. It returns one adjoint per
    parameter without a default (a tuple when there are several, ``None`` for one that has no
    derivative); parameters with defaults (``axis``) are options. The transformer inlines the
    rule's body into generated code; the eager Tensor calls it. Example::

        @srcgrad.defvjp(softplus)
        def softplus_vjp(g, ans, x):
            return g / (1.0 + np.exp(-x))
    """
    from .rules import vjp as register
    return cast(Callable[[_F], _F], register(*primitives))


def defjvp(*primitives: Callable[..., Any]) -> Callable[[_F], _F]:
    """Register the decorated function as the forward-mode rule of each of ``primitives``.

    The rule is ``rule(ans, *params, *, dx, ...)``: the result and the primitive's parameters,
    then one keyword-only tangent ``d<p>`` per differentiable parameter ``p``. It returns one
    term per tangent, each of the shape of ``ans``. Example::

        @srcgrad.defjvp(softplus)
        def softplus_jvp(ans, x, *, dx):
            return dx / (1.0 + np.exp(-x))
    """
    from .rules import jvp as register
    return cast(Callable[[_F], _F], register(*primitives))


def non_differentiable(*functions: Callable[..., Any]) -> None:
    """Declare functions whose results carry no derivative (a random draw, a count, an index).

    A call to one of them contributes nothing to a derivative instead of raising
    :class:`~srcgrad.errors.NoDerivativeRule`. Example: ``srcgrad.non_differentiable(np.round)``.
    """
    from .rules import non_differentiable as declare
    declare(*functions)


_declare_non_differentiable(stop_gradient)
