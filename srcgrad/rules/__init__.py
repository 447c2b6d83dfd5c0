"""Derivative rules of primitives, one module per family; importing this fills the tables."""
from . import (adjoints, arithmetic, arrays, elementwise, linalg, reductions, scans, shape,  # noqa: F401
               statistics, ufuncs)
from .registry import (JVP_RULES, NON_DIFFERENTIABLE, SEQUENCE_RESULTS, VJP_RULES, ForwardRule,
                       Rule, forward_rule_for, is_non_differentiable, jvp, non_differentiable,
                       returns_sequence, rule_for, sequence_result, vjp, vjp_into)

__all__ = ["JVP_RULES", "NON_DIFFERENTIABLE", "SEQUENCE_RESULTS", "VJP_RULES", "ForwardRule",
           "Rule", "forward_rule_for", "is_non_differentiable", "jvp", "non_differentiable",
           "returns_sequence", "rule_for", "sequence_result", "vjp", "vjp_into"]
