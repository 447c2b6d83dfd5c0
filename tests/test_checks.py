"""The checking helper catches a wrong derivative in each mode it checks (by a corrupted srcgrad)."""
import types

import numpy as np
import pytest

import checks
import srcgrad as sg
from checks import check_grads, derivative_findings


def smooth(x, y):
    return np.sum(np.tanh(x) ** 2) * y


def vector_valued(x, y):
    return np.sin(x) * y


X, Y = np.array([0.3, -0.7, 1.1]), 1.3


def corrupted(**replace):
    """A stand-in for ``srcgrad`` whose named functions are replaced."""
    fake = types.SimpleNamespace(**{name: getattr(sg, name) for name in dir(sg)
                                    if not name.startswith("_")})
    for name, value in replace.items():
        setattr(fake, name, value)
    return fake


def test_right_derivatives_pass_in_every_mode():
    check_grads(smooth, X, Y, order=2, eager=True)
    check_grads(vector_valued, X, Y, order=1, eager=True)
    check_grads(smooth, X, Y, wrt=0, modes=("grad",))


@pytest.mark.parametrize("mode, fake", [
    ("grad", dict(grad=lambda f, wrt=0: lambda *a: tuple(
        g * 1.001 for g in sg.grad(f, wrt=wrt)(*a)))),
    ("value_and_grad", dict(value_and_grad=lambda f, wrt=0: lambda *a: (
        a[1], sg.value_and_grad(f, wrt=wrt)(*a)[1]))),
    ("jvp", dict(jvp=lambda f, wrt=0: lambda *a: (
        lambda out: (out[0], out[1] * 1.001))(sg.jvp(f, wrt=wrt)(*a)))),
])
def test_a_wrong_mode_is_named(monkeypatch, mode, fake):
    monkeypatch.setattr(checks, "sg", corrupted(**fake))
    findings = derivative_findings(smooth, X, Y)
    assert [(f.mode, f.kind) for f in findings] == [(mode, "wrong")], findings
    with pytest.raises(AssertionError, match=mode):
        check_grads(smooth, X, Y)


def test_a_wrong_pullback_and_a_stateful_one_are_caught(monkeypatch):
    def vjp(f, wrt=0):
        def run(*args):
            out, pullback = sg.vjp(f, wrt=wrt)(*args)
            calls = []

            def second_call_differs(u):
                calls.append(u)
                return tuple(c * len(calls) for c in pullback(u))
            return out, second_call_differs
        return run
    monkeypatch.setattr(checks, "sg", corrupted(vjp=vjp))
    findings = derivative_findings(vector_valued, X, Y)
    assert [(f.mode, f.kind) for f in findings] == [("vjp", "wrong")]
    assert "called twice" in findings[0].message


def test_the_dot_product_test_catches_a_jvp_off_in_one_component(monkeypatch):
    # off only along x: the directional difference alone would catch it too, but the dot test
    # is what fails first
    def jvp(f, wrt=0):
        return lambda *a: (lambda out: (out[0], out[1] + 1e-3 * a[2]))(sg.jvp(f, wrt=wrt)(*a))
    monkeypatch.setattr(checks, "sg", corrupted(jvp=jvp))
    findings = derivative_findings(vector_valued, X, Y)
    assert [(f.mode, f.kind) for f in findings] == [("jvp", "wrong")]
    assert "dot-product" in findings[0].message


def test_a_derivative_that_writes_into_its_input_is_caught(monkeypatch):
    def grad(f, wrt=0):
        def run(*args):
            result = sg.grad(f, wrt=wrt)(*args)
            args[0][0] += 1.0
            return result
        return run
    monkeypatch.setattr(checks, "sg", corrupted(grad=grad))
    x = X.copy()
    findings = derivative_findings(smooth, x, Y)
    assert ("grad", "inplace") in [(f.mode, f.kind) for f in findings]


def test_a_wrong_hessian_and_a_wrong_hvp_are_caught(monkeypatch):
    monkeypatch.setattr(checks, "sg", corrupted(
        hessian=lambda f, wrt=0: lambda *a: sg.hessian(f, wrt=wrt)(*a) * 1.01))
    assert ("hessian", "wrong") in [(f.mode, f.kind) for f in
                                    derivative_findings(smooth, X, Y, order=2)]
    monkeypatch.setattr(checks, "sg", corrupted(
        hvp=lambda f, wrt=0: lambda *a: sg.hvp(f, wrt=wrt)(*a) * 1.01))
    assert ("hessian", "wrong") in [(f.mode, f.kind) for f in
                                    derivative_findings(smooth, X, Y, order=2)]


def refused_everywhere(x):
    try:  # srcgrad refuses try/except
        y = np.sum(x)
    except ValueError:
        y = 0.0
    return y


def test_exceptions_propagate_from_check_grads_and_are_findings_otherwise():
    findings = derivative_findings(refused_everywhere, X)
    assert findings and {f.kind for f in findings} <= {"refused", "crash"}
    with pytest.raises(Exception):
        check_grads(refused_everywhere, X)


def test_finite_differences_judge():
    f = lambda a: float(np.sum(a ** 3))  # noqa: E731
    assert checks.fd_verdict(f, [X], 0, 3 * X ** 2, 1e-5, 1e-7)[0] == "ok"
    assert checks.fd_verdict(f, [X], 0, 3 * X ** 2 * 1.001, 1e-5, 1e-7)[0] == "wrong"
