"""Derivative rules of primitives, one module per family; importing this fills the tables."""
from . import (activations, adjoints, arithmetic, linalg, python_numbers, reductions,  # noqa
               shape, ufuncs)  # (registration)
from .registry import (JVP_RULES, NON_DIFFERENTIABLE, VJP_RULES, ForwardRule, Rule,
                       forward_rule_for, is_non_differentiable, jvp, non_differentiable, rule_for,
                       vjp, vjp_into)

__all__ = ["JVP_RULES", "NON_DIFFERENTIABLE", "VJP_RULES", "ForwardRule", "Rule",
           "forward_rule_for", "is_non_differentiable", "jvp", "non_differentiable", "rule_for",
           "vjp", "vjp_into"]
