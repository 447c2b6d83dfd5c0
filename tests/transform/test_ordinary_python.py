"""Ordinary Python in a loss: math on numbers, float(), max/min, imports, print and logging,
annotations naming the user's classes: right in every mode, checked against finite differences."""
import logging
import math
from dataclasses import dataclass

import numpy as np
import pytest

import srcgrad as sg
from checks import check_grads

log = logging.getLogger("srcgrad-test-loss")


@dataclass
class Config:
    scale: float = 2.0


def math_on_numbers(x):
    s = float(np.sum(x * x))
    return math.exp(-s) + math.sin(s) * math.sqrt(s) + math.log1p(s) + math.atan2(s, 2.0)


def more_math(a, b):
    return math.hypot(a, b) + math.pow(a, 1.5) * math.tanh(b) + math.erf(a - b) + \
        math.fabs(b) + math.cosh(a) / math.log(b + 3.0)


def builtin_max_min(a, b):
    return max(a * a, b) + min(a, 2.0 * b)


def imports_inside(x):
    import math as m
    from numpy import tanh
    return np.sum(tanh(x)) * m.exp(0.5)


def reports_values(x, cfg: Config):
    y = np.sin(x) * cfg.scale
    print("y is", y)
    log.debug("loss input %s", y)
    return np.sum(y * y)


@pytest.mark.parametrize("function, args", [
    (math_on_numbers, (np.array([0.3, -0.4, 0.5]),)),
    (more_math, (0.7, 1.3)),
    (builtin_max_min, (0.9, 0.5)),
    (builtin_max_min, (0.3, 0.5)),
    (imports_inside, (np.array([0.1, -0.7]),)),
])
def test_python_functions_of_numbers_in_every_mode(function, args):
    check_grads(function, *args, order=2)


def test_print_and_logging_run_and_annotations_are_not_evaluated(capsys):
    x = np.array([0.2, 0.4])
    gradient = sg.grad(reports_values)(x, Config())
    expected = 2 * 2.0 * np.sin(x) * 2.0 * np.cos(x)
    np.testing.assert_allclose(gradient, expected, rtol=1e-12)
    assert "y is" in capsys.readouterr().out
    value, tangent = sg.jvp(reports_values, wrt=0)(x, Config(), np.ones(2))
    np.testing.assert_allclose(tangent, np.sum(expected), rtol=1e-12)


def scaled_sum(x, *offsets, **options):
    return x * options.get("scale", 1.0) + sum(offsets)


def loss_with_packed_parameters(x, w, *rest, **options):
    power = options.get("power", 2)
    return np.sum(scaled_sum(x * w, *rest, scale=2.0) ** power) + rest[0] * np.sum(x)


def loss_passing_packed_constants(x, w):
    offsets = (0.5, -1.0)
    options = {"scale": 3.0}
    return np.sum(scaled_sum(x * w, *offsets, **options) ** 2)


def test_star_args_and_keywords_in_definitions_and_calls_in_every_mode():
    def with_constants_packed(x, w):
        return loss_with_packed_parameters(x, w, 0.25, 2.0, power=3)
    x = np.array([0.3, -1.2, 0.8])
    check_grads(with_constants_packed, x, 1.5, order=2)
    check_grads(loss_passing_packed_constants, x, 0.7, order=2)


def test_star_args_closed_form():
    x = np.array([0.3, -1.2, 0.8])
    # d/dx sum((3 x w + 0.5 - 1)^2) = 6 w (3 x w - 0.5)
    gx, gw = sg.grad(loss_passing_packed_constants, wrt=(0, 1))(x, 0.7)
    np.testing.assert_allclose(gx, 6 * 0.7 * (3 * x * 0.7 - 0.5), rtol=1e-12)
    np.testing.assert_allclose(gw, np.sum(6 * x * (3 * x * 0.7 - 0.5)), rtol=1e-12)
    g = sg.grad(loss_with_packed_parameters)(x, 1.5, 0.25, 2.0, power=3)
    np.testing.assert_allclose(g, 3 * (3.0 * x + 2.25) ** 2 * 3.0 + 0.25, rtol=1e-12)


def test_differentiated_value_into_star_args_is_refused_at_the_call():
    def into_star(x, w):
        return np.sum(scaled_sum(x, w))

    def into_keywords(x, w):
        return np.sum(scaled_sum(x, scale=w))
    x = np.array([1.0, 2.0])
    for function, packed in ((into_star, "*offsets"), (into_keywords, "**options")):
        with pytest.raises(sg.SrcgradError) as raised:
            sg.grad(function, wrt=1)(x, 3.0)
        message = str(raised.value)
        assert f"a differentiated value goes into {packed} of scaled_sum" in message
        assert "give scaled_sum a named parameter" in message
        assert __file__ in message


def test_wrt_naming_star_args_says_they_are_constants():
    with pytest.raises(sg.SrcgradError, match=r"\*rest and \*\*options are read as constants"):
        sg.grad(loss_with_packed_parameters, wrt=2)(np.ones(2), 1.0, 0.5)
