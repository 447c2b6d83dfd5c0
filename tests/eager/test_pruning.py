"""The tape computes only the adjoints a node wants, with the rule's own (pruned) source."""
import operator

import numpy as np
import pytest

from srcgrad.eager import tensor
from srcgrad.eager.pruning import pruned
from srcgrad.rules import rule_for

rng = np.random.default_rng(3)
A, B, G = rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))


@pytest.mark.parametrize("primitive", [operator.matmul, operator.mul, operator.pow, np.maximum,
                                       operator.truediv])
def test_pruned_rule_gives_the_wanted_adjoint_only(primitive):
    rule = rule_for(primitive)
    x, y = np.abs(A) + 0.5, B
    ans = primitive(x, y)
    full = rule.function(G, ans, x, y)
    for k in range(2):
        part = pruned(rule, frozenset({k}))(G, ans, x, y)
        assert part[1 - k] is None
        np.testing.assert_allclose(part[k], full[k])
    assert pruned(rule, frozenset({0, 1})) is rule.function


def test_a_constant_operand_gets_no_adjoint_computed():
    # x @ w with only w requiring grad: matmul's node runs the rule without x's adjoint.
    x, w = tensor(A), tensor(B, requires_grad=True)
    node = (x @ w).grad_fn
    assert node.guard[3] is not rule_for(operator.matmul).function
    (x @ w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), A.T @ np.ones((3, 3)))
