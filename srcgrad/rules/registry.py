"""The table of derivative rules: each primitive's vector-Jacobian product, written once.

A rule is an ordinary Python function ``rule(g, ans, *params)``: ``g`` is the adjoint of the
primitive's result, ``ans`` the result itself, then the primitive's own parameters. Parameters
without a default are the differentiable ones; the rule returns one adjoint per differentiable
parameter (a single expression when there is one, else a tuple, ``None`` for an argument that has
no derivative). Options such as ``axis`` are parameters with defaults and get no adjoint.

The eager Tensor calls the rule as a function. The transformer reads its source once and inlines
the body into generated code with names substituted, so both engines share one definition.
"""
import inspect
import textwrap
from dataclasses import dataclass, field

import gast

VJP_RULES = {}
NON_DIFFERENTIABLE = set()


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
    def namespace(self):
        """The globals the rule body refers to (``np``, ``unbroadcast``, ...)."""
        return self.function.__globals__


def _make_rule(function, accumulates):
    signature = inspect.signature(function)
    names = list(signature.parameters)
    leading = ("dx", "g", "ans") if accumulates else ("g", "ans")
    if tuple(names[: len(leading)]) != leading:
        raise TypeError(f"rule {function.__name__} must start with parameters {leading}")
    params = tuple(names[len(leading):])
    defaults = {
        name: p.default for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    differentiable = tuple(p for p in params if p not in defaults)
    return Rule(function, params, differentiable, defaults, accumulates)


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


def non_differentiable(*functions):
    """Declare functions whose results carry no derivative (comparisons, argmax, shapes...)."""
    NON_DIFFERENTIABLE.update(functions)


def rule_for(primitive):
    """The rule of a primitive, or None."""
    try:
        return VJP_RULES.get(primitive)
    except TypeError:  # unhashable callables have no rule
        return None


def is_non_differentiable(function):
    try:
        return function in NON_DIFFERENTIABLE
    except TypeError:
        return False
