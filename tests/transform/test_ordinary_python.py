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
