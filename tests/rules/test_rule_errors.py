"""What a user meets where no rule applies: an error at their own line that says what to do,
never a zero derivative, never a line of srcgrad's or a library's own files."""
import builtins
import inspect
import os

import numpy as np
import pytest

import srcgrad as sg
from srcgrad.rules import NON_DIFFERENTIABLE, VJP_RULES, vjp

HERE = os.path.abspath(__file__)


def line_of(function, text):
    lines, start = inspect.getsourcelines(function)
    return start + next(i for i, line in enumerate(lines) if text in line)


def uses_zeta(x):
    return np.sum(zeta(2.0, x))


def uses_arange(x):
    return np.sum(np.arange(x[0], 5.0, 1.0))


def r_with_a_slice(x):
    return np.sum(np.r_[0:2, x])


def reverses_a_list(x):
    items = [x, 2.0 * x]
    total = 0.0
    for item in reversed(items):
        total = total + np.sum(item)
    return total


def weights_differentiated(x, w):
    return np.average(x, weights=w)


def weights_differentiated_positionally(x, w):
    return np.average(x, 0, w)


try:
    from scipy.special import zeta
except ImportError:  # the zeta test is skipped then
    zeta = None


def test_missing_rule_names_the_real_module_the_decorators_and_the_users_line():
    if zeta is None:
        pytest.skip("needs SciPy")
    with pytest.raises(sg.NoDerivativeRule) as caught:
        sg.grad(uses_zeta)(np.ones(3) + 1.0)
    message = str(caught.value)
    assert message.startswith(f"{HERE}, line {line_of(uses_zeta, 'zeta(2.0')}: ")
    assert "(scipy.special.zeta)" in message and "None." not in message
    assert "@srcgrad.defvjp(scipy.special.zeta)" in message
    assert "@srcgrad.defjvp(scipy.special.zeta)" in message
    assert "def zeta_vjp(g, ans, x)" in message and "def zeta_jvp(ans, x, *, dx)" in message


def test_the_eager_tape_names_the_real_module_and_the_users_line():
    if zeta is None:
        pytest.skip("needs SciPy")
    x = sg.tensor(np.ones(3) + 1.0, requires_grad=True)
    with pytest.raises(sg.eager.NoEagerRule) as caught:
        zeta(2.0, x)
    message = str(caught.value)
    assert message.startswith(f"{HERE}, line ")
    assert "srcgrad.defvjp(" in message and "site-packages" not in message
    assert os.path.dirname(os.path.abspath(sg.__file__)) not in message


def test_a_loop_over_a_reversed_list_is_differentiated():
    # It was refused ("a call to reversed"); it runs over items[::-1], which indexing
    # differentiates (test_trust.py::test_loops_over_reversed_sequences checks second order).
    np.testing.assert_allclose(sg.grad(reverses_a_list)(np.ones(3)), np.full(3, 3.0))


@pytest.mark.parametrize("function, text, words", [
    (uses_arange, "np.arange(", "np.arange (numpy.arange), which has no derivative rule"),
    (r_with_a_slice, "np.r_[", "np.r_[...] with slices"),
    (weights_differentiated, "np.average(", "with respect to its argument 'weights'"),
    (weights_differentiated_positionally, "np.average(", "with respect to its argument 'weights'"),
])
def test_no_zeros_where_a_derivative_exists(function, text, words):
    args = (np.ones(3) + 1.0,) if function.__code__.co_argcount == 1 else (np.ones(3),
                                                                            np.ones(3))
    with pytest.raises(sg.UnsupportedSyntax) as caught:
        sg.grad(function, wrt=tuple(range(len(args))))(*args)
    message = str(caught.value)
    assert message.startswith(f"{HERE}, line {line_of(function, text)}: "), message
    assert words in message, message
    assert os.path.dirname(os.path.abspath(sg.__file__)) not in message


def test_an_option_given_a_tensor_that_requires_grad_is_refused_on_the_tape():
    x = sg.tensor(np.ones(3), requires_grad=True)
    w = sg.tensor(np.arange(1.0, 4.0), requires_grad=True)
    with pytest.raises(sg.eager.NoEagerRule, match="treats its argument 'weights' as a constant"):
        np.average(x, 0, w)


def test_functions_with_a_derivative_are_not_declared_without_one():
    # Each of these has a nonzero derivative with respect to a float argument: a rule, or an
    # error, never zeros.
    for function in (np.linspace, np.full, np.full_like, np.arange, builtins.reversed, np.unique,
                     np.histogram, np.bincount, np.interp, np.cumsum, np.sort, np.unique):
        assert function not in NON_DIFFERENTIABLE, function


def test_a_rule_with_an_optional_differentiated_parameter():
    def scaled(x, scale=1.0):
        return x * scale

    @vjp(scaled)
    def scaled_vjp(g, ans, x, scale=sg.rules.registry.differentiable(1.0)):
        return g * scale, g * x

    try:
        rule = VJP_RULES[scaled]
        assert rule.differentiable == ("x", "scale") and rule.defaults == {"scale": 1.0}
    finally:
        del VJP_RULES[scaled]
