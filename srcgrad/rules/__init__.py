"""Derivative rules of primitives, one module per family; importing this fills the tables."""
from . import (activations, adjoints, arithmetic, arrays, elementwise, linalg,  # noqa: F401
               python_numbers, reductions, scans, shape, statistics, ufuncs)

try:  # SciPy is optional: its rules exist only where it imports
    import scipy  # noqa: F401
except ImportError:
    pass
else:
    from . import scipy_special  # noqa: F401
from .registry import (JVP_RULES, NON_DIFFERENTIABLE, SEQUENCE_RESULTS, VJP_RULES, ForwardRule,
                       Rule, forward_rule_for, is_non_differentiable, jvp, non_differentiable,
                       returns_sequence, rule_for, sequence_result, vjp, vjp_into)

__all__ = ["JVP_RULES", "NON_DIFFERENTIABLE", "SEQUENCE_RESULTS", "VJP_RULES", "ForwardRule",
           "Rule", "forward_rule_for", "is_non_differentiable", "jvp", "non_differentiable",
           "returns_sequence", "rule_for", "sequence_result", "vjp", "vjp_into"]
