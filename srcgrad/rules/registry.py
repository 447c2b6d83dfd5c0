"""The table of derivative rules: each primitive's vector-Jacobian product and its
Jacobian-vector product, each written once.

Reverse rules (``@vjp``) are ordinary Python functions ``rule(g, ans, *params)``: ``g`` is the
adjoint of the primitive's result, ``ans`` the result itself, then the primitive's own parameters.
Parameters without a default are the differentiable ones; the rule returns one adjoint per
differentiable parameter (a single expression when there is one, else a tuple, ``None`` for an
argument that has no derivative). Options such as ``axis`` are parameters with defaults and get no
adjoint.

Forward rules (``@jvp``) are ``rule(ans, *params, *, d<p>, ...)``: ``ans`` and the primitive's
parameters exactly as the reverse rule names them (options keep their defaults), then one
keyword-only tangent ``d<p>`` for each parameter ``p`` that carries a derivative, in the order of
the parameters. The tangents a rule declares are its differentiable parameters: a parameter that
only describes a shape, an index or a condition (``shape``, ``index``, ``condition``) simply has
no tangent, and only a parameter without a default can have one. A tangent has the shape of its
parameter; for a sequence parameter (``arrays`` of np.concatenate) it is a list with one tangent
per element, zeros for inactive ones. The rule returns one term per tangent, in the order of the
tangents (a single expression when there is one, else a tuple): the contribution of that tangent
alone, already of the shape of ``ans`` (``broadcast_like`` stretches a term that broadcasting
would). The tangent of the result is the sum of the terms of the nonzero tangents, so a caller may
drop the others. For example::

    @jvp(operator.mul, np.multiply)
    def multiply_jvp(ans, x, y, *, dx, dy):
        return dx * y, x * dy

    @jvp(np.sum)
    def sum_jvp(ans, a, axis=None, keepdims=False, *, da):
        return np.sum(da, axis=axis, keepdims=keepdims)

The eager Tensor calls a rule as a function. The transformer reads its source once and inlines
the body into generated code with names substituted, so both engines share one definition; rule
bodies are therefore straight-line code: assignments, then one return.
"""
import inspect
import textwrap
from dataclasses import dataclass, field

import gast

from ..errors import qualified_name

VJP_RULES = {}
JVP_RULES = {}
NON_DIFFERENTIABLE = set()
# Primitives whose result is a list or tuple of arrays (np.linalg.eigh, np.split ...): the adjoint
# of such a result is a list with one adjoint per element, and so is the cotangent ``g`` their
# reverse rule receives.
SEQUENCE_RESULTS = set()
# Primitives that take their arrays as *args (np.einsum(s, a, b)): primitive -> (the function
# of one list that srcgrad differentiates instead, how many leading arguments stay apart).
PACKED_ARGUMENTS = {}
# Primitives whose result changes structure with an option (np.linalg.svd(a, compute_uv=False)
# returns one array instead of three, np.linalg.qr(a, mode="r") one instead of two): primitive
# -> the KeywordVariants that srcgrad differentiates instead when the option has their value.
KEYWORD_VARIANTS = {}


@dataclass
class Rule:
    """One primitive's derivative: the function and what the inliner needs to know about it."""

    function: object
    params: tuple  # the primitive's parameters, in order, as the rule names them
    differentiable: tuple  # the params that get an adjoint
    defaults: dict  # option name -> default value
    accumulates: bool = False  # True: rule(dx, g, ans, ...) adds into dx in place
    _tree: object = field(default=None, repr=False)

    @property
    def name(self):
        return self.function.__name__

    @property
    def tree(self):
        """The rule's ``def`` as a gast tree, parsed once."""
        if self._tree is None:
            source = textwrap.dedent(inspect.getsource(self.function))
            self._tree = gast.parse(source).body[0]
            self._tree.decorator_list = []
        return self._tree

    @property
    def no_adjoint(self):
        """Parameters for which the rule returns a literal None (shapes, indices, conditions)."""
        final = self.tree.body[-1]
        if self.accumulates or not isinstance(final, gast.Return):
            return frozenset()
        parts = final.value.elts if isinstance(final.value, gast.Tuple) and \
            len(self.differentiable) > 1 else [final.value]
        return frozenset(p for p, part in zip(self.differentiable, parts)
                         if isinstance(part, gast.Constant) and part.value is None)

    @property
    def namespace(self):
        """The globals the rule body refers to (``np``, ``unbroadcast``, ...)."""
        return self.function.__globals__


class DifferentiableDefault:
    """The default of a parameter that still carries a derivative when it is given
    (``loc=differentiable(0.0)`` in the rule of scipy.stats.norm.logpdf)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"differentiable({self.value!r})"


def differentiable(value):
    """Mark a rule parameter's default: the parameter may be left out, and when it is given it
    is differentiated like a parameter without a default."""
    return DifferentiableDefault(value)


def _defaults(parameters):
    """(defaults with markers unwrapped, names of the differentiable parameters with a default)."""
    defaults, marked = {}, set()
    for p in parameters:
        if p.default is inspect.Parameter.empty:
            continue
        if isinstance(p.default, DifferentiableDefault):
            defaults[p.name] = p.default.value
            marked.add(p.name)
        else:
            defaults[p.name] = p.default
    return defaults, marked


def _make_rule(function, accumulates):
    signature = inspect.signature(function)
    names = list(signature.parameters)
    leading = ("dx", "g", "ans") if accumulates else ("g", "ans")
    if tuple(names[: len(leading)]) != leading:
        raise TypeError(f"rule {function.__name__} must start with parameters {leading}")
    params = tuple(names[len(leading):])
    defaults, marked = _defaults(signature.parameters.values())
    differentiable = tuple(p for p in params if p not in defaults or p in marked)
    return Rule(function, params, differentiable, defaults, accumulates)


class ForwardRule(Rule):
    """A primitive's Jacobian-vector product; ``differentiable`` are the params with a tangent."""

    @property
    def tangents(self):
        """The rule's keyword-only tangent parameters, one per differentiable param, in order."""
        return tuple("d" + p for p in self.differentiable)


def _make_forward_rule(function):
    name = function.__name__
    parameters = list(inspect.signature(function).parameters.values())
    kinds = inspect.Parameter
    if not parameters or parameters[0].name != "ans" or parameters[0].default is not kinds.empty:
        raise TypeError(f"forward rule {name} must start with the parameter 'ans'")
    params = [p for p in parameters[1:] if p.kind is kinds.POSITIONAL_OR_KEYWORD]
    tangents = [p for p in parameters[1:] if p.kind is kinds.KEYWORD_ONLY]
    if len(params) + len(tangents) != len(parameters) - 1:
        raise TypeError(f"forward rule {name} takes no *args, **kwargs or positional-only "
                        f"parameters")
    defaults, marked = _defaults(params)
    by_tangent = {"d" + p.name: p.name for p in params}
    differentiable = []
    for tangent in tangents:
        param = by_tangent.get(tangent.name)
        if param is None:
            raise TypeError(f"forward rule {name}: keyword-only parameter {tangent.name!r} is not "
                            f"'d' + one of the primitive's parameters {tuple(by_tangent.values())}")
        if param in defaults and param not in marked:
            raise TypeError(f"forward rule {name}: {param!r} has a default, so it is an option "
                            f"and gets no tangent (unless the default is differentiable(...))")
        if tangent.default is not kinds.empty:
            raise TypeError(f"forward rule {name}: tangent {tangent.name!r} takes no default")
        differentiable.append(param)
    if not differentiable:
        raise TypeError(f"forward rule {name} declares no keyword-only tangent parameter "
                        f"(such as '*, d{params[0].name if params else 'x'}')")
    order = [p.name for p in params]
    if differentiable != sorted(differentiable, key=order.index):
        raise TypeError(f"forward rule {name}: tangents must follow the order of the parameters")
    return ForwardRule(function, tuple(order), tuple(differentiable), defaults)


def jvp(*primitives):
    """Register the decorated function as the forward-mode rule of each primitive."""
    def register(function):
        rule = _make_forward_rule(function)
        for primitive in primitives:
            JVP_RULES[primitive] = rule
        return function
    return register


def vjp(*primitives):
    """Register the decorated function as the reverse-mode rule of each primitive."""
    def register(function):
        rule = _make_rule(function, accumulates=False)
        for primitive in primitives:
            VJP_RULES[primitive] = rule
        return function
    return register


def vjp_into(*primitives):
    """Register a rule that adds its adjoint into ``dx`` in place (used for indexing reads)."""
    def register(function):
        rule = _make_rule(function, accumulates=True)
        for primitive in primitives:
            VJP_RULES[primitive] = rule
        return function
    return register


def sequence_result(*primitives):
    """Declare primitives whose result is a list or tuple of arrays."""
    SEQUENCE_RESULTS.update(primitives)


def packed_form(function, args):
    """``(einsum_of, (s, [a, b]))`` for ``np.einsum`` and ``(s, a, b)``; None for others."""
    try:
        packed = PACKED_ARGUMENTS.get(function)
    except TypeError:
        return None
    if packed is None:
        return None
    target, leading = packed
    return target, tuple(args[:leading]) + (list(args[leading:]),)


@dataclass(frozen=True)
class KeywordVariant:
    """``primitive(..., option=value)`` differentiated as ``target(...)``, a function of the
    primitive's other arguments with a rule of its own."""

    option: str  # the primitive's parameter that selects the variant
    position: object  # its index when it is passed by position; None for a keyword-only one
    default: object  # its value when the call leaves it out
    matches: object  # the option's value -> does this variant apply?
    target: object
    names: tuple  # the primitive's positional parameters, in order (before any *args)
    keeps_option: bool  # does target take the option too (by keyword)?


def keyword_variant(primitive, option, value):
    """Differentiate ``primitive(..., option=value)`` as the decorated function, which gets the
    call's other arguments: those before the option's position by position, the rest by
    keyword (so it names its parameters as the primitive does), and the option itself by
    keyword only if it has a parameter of that name. ``value``
    may be a predicate of the option's value (``lambda axis: ...``). The option must be written
    as a literal in transformed code; the eager Tensor sees its value."""
    signature = inspect.signature(primitive)
    parameters = list(signature.parameters.values())
    kinds = inspect.Parameter
    names = []
    for p in parameters:
        if p.kind not in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    position = names.index(option) if option in names else None
    default = signature.parameters[option].default
    matches = value if callable(value) else (lambda given, value=value: given == value)

    def register(function):
        keeps = option in inspect.signature(function).parameters
        KEYWORD_VARIANTS.setdefault(primitive, []).append(
            KeywordVariant(option, position, default, matches, function, tuple(names), keeps))
        return function
    return register


def variant_for(primitive, option_value):
    """The KeywordVariant of ``primitive`` that applies when ``option_value(variant)`` gives the
    call's value of the variant's option, or None. ``option_value`` returns ``NotImplemented``
    when it cannot tell (an option not written as a literal)."""
    try:
        variants = KEYWORD_VARIANTS.get(primitive)
    except TypeError:
        return None
    for variant in variants or ():
        given = option_value(variant)
        if given is NotImplemented:
            continue
        try:
            if variant.matches(given):
                return variant
        except Exception:  # an option of a kind the predicate does not read
            continue
    return None


def has_variants(primitive):
    """Does ``primitive`` have keyword variants?"""
    try:
        return primitive in KEYWORD_VARIANTS
    except TypeError:
        return False


def variant_call(primitive, args, kwargs):
    """``(target, args, kwargs)`` for ``primitive(*args, **kwargs)`` when a keyword variant
    applies (the arguments after the option's position passed by keyword), else None."""
    def given(variant):
        if variant.option in kwargs:
            return kwargs[variant.option]
        if variant.position is not None and len(args) > variant.position:
            return args[variant.position]
        return variant.default

    variant = variant_for(primitive, given)
    if variant is None:
        return None
    value = given(variant)
    kwargs = {k: v for k, v in kwargs.items() if k != variant.option}
    if variant.position is not None and len(args) > variant.position:
        kwargs.update(zip(variant.names[variant.position + 1:], args[variant.position + 1:]))
        args = args[:variant.position]
    if variant.keeps_option:
        kwargs[variant.option] = value
    return variant.target, tuple(args), kwargs


def returns_sequence(function):
    """Does ``function`` return a list or tuple of arrays, each with an adjoint of its own?"""
    try:
        return function in SEQUENCE_RESULTS
    except TypeError:
        return False


def non_differentiable(*functions):
    """Declare functions whose results carry no derivative (comparisons, argmax, shapes...)."""
    NON_DIFFERENTIABLE.update(functions)


def present(module, *names):
    """The functions of ``module`` among ``names`` that this NumPy has (the array API's
    np.linalg.matmul, np.linalg.outer ... came with NumPy 2.0)."""
    return tuple(getattr(module, name) for name in names if hasattr(module, name))


def rule_for(primitive):
    """The rule of a primitive, or None."""
    try:
        return VJP_RULES.get(primitive)
    except TypeError:  # unhashable callables have no rule
        return None


def forward_rule_for(primitive):
    """The forward-mode rule of a primitive, or None."""
    try:
        return JVP_RULES.get(primitive)
    except TypeError:  # unhashable callables have no rule
        return None


def is_non_differentiable(function):
    try:
        return function in NON_DIFFERENTIABLE
    except TypeError:
        return False


def missing_rule_advice(function):
    """How to give ``function`` derivative rules: the decorators, with a two-line example."""
    name = qualified_name(function)
    short = name.split(".")[-1]
    return (f"register its derivatives, e.g. '@srcgrad.defvjp({name})' over "
            f"'def {short}_vjp(g, ans, x): return g * <dans/dx>' for reverse mode and "
            f"'@srcgrad.defjvp({name})' over 'def {short}_jvp(ans, x, *, dx): return dx * "
            f"<dans/dx>' for forward mode; or declare it without derivative with "
            f"srcgrad.non_differentiable({name})")
