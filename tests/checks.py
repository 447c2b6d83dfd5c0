"""The one checking helper: srcgrad's derivatives, in every mode, against finite differences.

:func:`check_grads` (like autograd's and JAX's ``check_grads``) checks one function at one point:

* ``"grad"``: ``sg.grad`` (scalar outputs) against central differences, element by element;
* ``"value_and_grad"``: its value equals the plain function's value, its gradient ``sg.grad``'s;
* ``"vjp"``: ``sg.vjp``'s pullback of a random cotangent ``u`` against central differences of
  ``<u, f(x)>``; the pullback called a second time gives the same result;
* ``"jvp"``: ``sg.jvp``'s value equals the plain value; the tangent along a random direction ``v``
  passes the dot-product test ``<vjp(u), v> == <u, jvp(v)>`` and agrees with ONE directional
  central difference ``(f(x + h v) - f(x - h v)) / 2h``;
* ``order=2`` adds ``"hessian"``: ``sg.hessian`` against central differences of the (checked)
  gradient, ``sg.hvp`` against ``H v``, and ``grad(grad(f))`` for float arguments;
* ``eager=True`` adds ``"eager"``: the function run on ``sg.Tensor`` leaves, ``backward()``.

After every derivative call the inputs are compared with copies taken before: no derivative may
change its caller's arrays in place.

:func:`derivative_findings` does the same work and returns what it found, one :class:`Finding` per
problem (``kind``: "wrong", "inplace", "crash", "refused", "unclear"), so that a fuzzer can count
outcomes per mode; with ``catch=True`` exceptions become findings instead of propagating.
:func:`check_grads` raises ``AssertionError`` listing every finding.

``check_grad`` (reverse mode only) stays for the tests written before the helper existed.
"""
import traceback
from dataclasses import dataclass

import numpy as np

import srcgrad as sg

FIRST_ORDER = ("grad", "value_and_grad", "vjp", "jvp")
ALL_MODES = FIRST_ORDER + ("hessian", "eager")


# ------------------------------------------------------------------------------------------------
# Finite differences


def _as_float(a):
    return np.array(a, dtype=np.float64) if np.ndim(a) else float(a)


def _shifted(args, position, k, step):
    shifted = list(args)
    x = _as_float(args[position])
    if np.ndim(x):
        x.flat[k] += step
    else:
        x += step
    shifted[position] = x
    return shifted


def _fresh(args):
    """Copies of ``args``, so that a function that writes into its inputs hurts no one."""
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def numeric_gradient(f, args, position, eps=1e-6):
    """Central differences of scalar ``f(*args)`` with respect to ``args[position]``."""
    x = args[position]
    size = np.size(x)
    out = np.zeros(size)
    with np.errstate(all="ignore"):
        for k in range(size):
            out[k] = (np.float64(f(*_fresh(_shifted(args, position, k, eps))))
                      - np.float64(f(*_fresh(_shifted(args, position, k, -eps))))) / (2 * eps)
    return out.reshape(np.shape(x)) if np.ndim(x) else float(out[0])


def five_point_gradient(f, args, position, h):
    """The fourth-order stencil: a second opinion where central differences disagree."""
    x = args[position]
    size = np.size(x)
    out = np.zeros(size)
    with np.errstate(all="ignore"):
        for k in range(size):
            v = [np.float64(f(*_fresh(_shifted(args, position, k, s * h)))) for s in (2, 1, -1, -2)]
            out[k] = (-v[0] + 8 * v[1] - 8 * v[2] + v[3]) / (12 * h)
    return out.reshape(np.shape(x)) if np.ndim(x) else float(out[0])


def directional_difference(f, args, positions, directions, h):
    """``(f(x + h v) - f(x - h v)) / 2h`` (five-point when ``h`` is a pair ``("5", h)``)."""
    def at(step):
        moved = list(args)
        for p, v in zip(positions, directions):
            moved[p] = _as_float(args[p]) + step * np.asarray(v, dtype=np.float64) \
                if np.ndim(args[p]) else _as_float(args[p]) + step * float(v)
        return np.asarray(f(*_fresh(moved)), dtype=np.float64)
    with np.errstate(all="ignore"):
        if isinstance(h, tuple):
            h = h[1]
            return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
        return (at(h) - at(-h)) / (2 * h)


def _close(actual, expected, scale, rtol, atol):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return False
    return bool(np.all(np.abs(actual - expected) <= rtol * np.abs(expected) + atol * scale))


def _show(values):
    try:
        return np.array2string(np.asarray(values, dtype=np.float64), precision=8)
    except (TypeError, ValueError):
        return repr(values)


def fd_verdict(f, args, position, gradient, rtol, atol, value_scale=1.0):
    """("ok" | "wrong" | "unclear", details): ``gradient`` against several difference quotients.

    "wrong" only when central differences and a five-point stencil agree with each other and
    not with ``gradient``; "unclear" when the quotients disagree among themselves (the function
    is too ill-conditioned at this point to judge).
    """
    fd = numeric_gradient(f, args, position)
    scale = max(1.0, abs(value_scale), float(np.max(np.abs(fd), initial=0.0)))
    if _close(gradient, fd, scale, rtol, atol):
        return "ok", ""
    others = [five_point_gradient(f, args, position, h) for h in (1e-4, 1e-3)] + \
        [numeric_gradient(f, args, position, 1e-5)]
    if any(_close(gradient, o, scale, rtol, atol) for o in others):
        return "ok", ""
    details = (f"  srcgrad:              {_show(gradient)}\n"
               f"  central (eps=1e-6):   {_show(fd)}\n"
               f"  five-point (h=1e-4):  {_show(others[0])}\n"
               f"  five-point (h=1e-3):  {_show(others[1])}")
    agree = (_close(fd, others[0], scale, max(rtol, 1e-6), atol)
             or _close(others[0], others[1], scale, max(rtol, 1e-6), atol))
    return ("wrong" if agree else "unclear"), details


# ------------------------------------------------------------------------------------------------
# Findings


@dataclass
class Finding:
    mode: str        # "grad", "value_and_grad", "vjp", "jvp", "hessian", "eager"
    kind: str        # "wrong", "inplace", "crash", "refused", "unclear"
    message: str
    error: BaseException = None

    def __str__(self):
        return f"[{self.mode}: {self.kind}] {self.message}"


class _Stop(Exception):
    """Ends one mode's checks after its first finding."""


def _same(before, after):
    if isinstance(before, np.ndarray):
        return (isinstance(after, np.ndarray) and before.shape == after.shape
                and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
    if isinstance(before, (list, tuple)):
        return (type(before) is type(after) and len(before) == len(after)
                and all(_same(b, a) for b, a in zip(before, after)))
    if isinstance(before, dict):
        return (isinstance(after, dict) and before.keys() == after.keys()
                and all(_same(before[k], after[k]) for k in before))
    try:
        return bool(np.all(before == after)) or (before != before and after != after)
    except Exception:  # noqa: BLE001 (objects without equality: nothing to compare)
        return True


def _deep_copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_deep_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    return value


def _is_float_input(a):
    if isinstance(a, (bool, np.bool_)):
        return False
    if isinstance(a, (float, np.floating)):
        return True
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def default_wrt(args):
    """The positions of the float (and float-array) arguments."""
    return tuple(p for p, a in enumerate(args) if _is_float_input(a))


def _dot(a, b):
    return float(np.sum(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)))


class _Checker:
    def __init__(self, f, args, wrt, rtol, atol, seed, catch):
        self.f, self.args, self.wrt = f, list(args), wrt
        self.rtol, self.atol, self.catch = rtol, atol, catch
        self.rng = np.random.default_rng(seed)
        self.originals = [_deep_copy(a) for a in args]
        self.findings = []
        self.mode = None
        self.gradients = None   # the reverse-mode gradients, once checked
        self.vjp_result = None  # (u, cotangents)

    # -- bookkeeping

    def find(self, kind, message, error=None):
        self.findings.append(Finding(self.mode, kind, message, error))
        raise _Stop

    def call(self, what, thunk):
        """Run one derivative call; exceptions and in-place changes become findings."""
        try:
            result = thunk()
        except _Stop:
            raise
        except sg.SrcgradError as error:
            if not self.catch:
                raise
            self.find("refused", f"{what}: {type(error).__name__}: {error}", error)
        except Exception as error:  # noqa: BLE001 (every other exception is srcgrad crashing)
            if not self.catch:
                raise
            self.find("crash", f"{what}: {type(error).__name__}: {error}\n"
                      f"{traceback.format_exc()}", error)
        self.untouched(what)
        return result

    def untouched(self, what):
        changed = [p for p, (b, a) in enumerate(zip(self.originals, self.args)) if not _same(b, a)]
        if changed:
            for p in changed:  # restore, so that later modes see the caller's values
                self.args[p] = _deep_copy(self.originals[p])
            self.find("inplace", f"{what} changed argument(s) {changed} in place")

    def run_mode(self, mode, method):
        self.mode = mode
        try:
            method()
        except _Stop:
            pass

    # -- the plain function

    def plain(self, args=None):
        with np.errstate(all="ignore"):
            return self.f(*_fresh(self.args if args is None else args))

    def scalar_value(self, args=None):
        return float(np.float64(self.plain(args)))

    def check_value(self, what, value, expected):
        scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
        if np.shape(value) != np.shape(expected) or not _close(value, expected, scale, 1e-9,
                                                                 1e-12):
            self.find("wrong", f"{what} returned the value {_show(value)}; "
                      f"the function returns {_show(expected)}")

    def check_gradients(self, what, gradients, phi):
        """``gradients`` (a tuple over wrt) against finite differences of scalar ``phi``."""
        if not isinstance(gradients, tuple) or len(gradients) != len(self.wrt):
            self.find("wrong", f"{what} returned {type(gradients).__name__} "
                      f"{_show(gradients)}, not a tuple of {len(self.wrt)}")
        value = phi(*self.args)
        for position, gradient in zip(self.wrt, gradients):
            if np.shape(gradient) != np.shape(self.args[position]):
                self.find("wrong", f"{what}: the gradient for argument {position} has shape "
                          f"{np.shape(gradient)}, expected {np.shape(self.args[position])}")
            if np.iscomplexobj(gradient) and not np.iscomplexobj(self.args[position]):
                self.find("wrong", f"{what}: the gradient for real argument {position} is "
                          f"complex: {gradient}")
            verdict, details = fd_verdict(phi, self.args, position, gradient, self.rtol,
                                          self.atol, value)
            if verdict != "ok":
                self.find(verdict, f"{what}: the derivative with respect to argument "
                          f"{position} disagrees with finite differences:\n{details}")

    def random_like(self, value):
        if np.ndim(value) == 0:
            return float(self.rng.standard_normal())
        return self.rng.standard_normal(np.shape(value))

    # -- the modes

    def check_grad(self):
        value = self.plain()
        if np.ndim(value) != 0:
            return  # grad needs a scalar output; vjp covers the rest
        gradients = self.call("sg.grad", lambda: sg.grad(self.f, wrt=self.wrt)(*self.args))
        self.check_gradients("sg.grad", gradients, self.scalar_value_of)
        self.gradients = gradients
        again = self.call("sg.grad (second call)",
                          lambda: sg.grad(self.f, wrt=self.wrt)(*self.args))
        for a, b in zip(gradients, again):
            if not _close(b, a, 1.0, 1e-12, 1e-12):
                self.find("wrong", f"sg.grad called twice gave {_show(a)} then {_show(b)}")

    def scalar_value_of(self, *args):
        return self.scalar_value(list(args))

    def check_value_and_grad(self):
        expected = self.plain()
        if np.ndim(expected) != 0:
            return
        value, gradients = self.call(
            "sg.value_and_grad", lambda: sg.value_and_grad(self.f, wrt=self.wrt)(*self.args))
        self.check_value("sg.value_and_grad", value, expected)
        if self.gradients is not None:
            for position, a, b in zip(self.wrt, self.gradients, gradients):
                if np.shape(a) != np.shape(b) or not _close(b, a, 1.0, 1e-9, 1e-12):
                    self.find("wrong", f"sg.value_and_grad's gradient for argument {position} "
                              f"is {_show(b)}; sg.grad gives {_show(a)}")
        else:
            self.check_gradients("sg.value_and_grad", gradients, self.scalar_value_of)

    def check_vjp(self):
        expected = self.plain()
        u = self.random_like(expected)
        out, pullback = self.call("sg.vjp", lambda: sg.vjp(self.f, wrt=self.wrt)(*self.args))
        self.check_value("sg.vjp", out, expected)
        first = self.call("the vjp pullback", lambda: pullback(u))
        second = self.call("the vjp pullback (second call)", lambda: pullback(u))
        for position, a, b in zip(self.wrt, first, second):
            if np.shape(a) != np.shape(b) or not _close(b, a, 1.0, 1e-12, 1e-12):
                self.find("wrong", f"the vjp pullback called twice gave {_show(a)} and then "
                          f"{_show(b)} for argument {position}")
        if np.ndim(expected) == 0 and self.gradients is not None:
            for position, g, c in zip(self.wrt, self.gradients, first):
                if np.shape(g) != np.shape(c) or not _close(c, np.multiply(u, g), 1.0, 1e-9,
                                                            1e-12):
                    self.find("wrong", f"the vjp pullback of {u} gives {_show(c)} for argument "
                              f"{position}; u * sg.grad is {_show(np.multiply(u, g))}")
        else:
            self.check_gradients("the vjp pullback", first,
                                 lambda *args: _dot(u, self.plain(list(args))))
        self.vjp_result = (u, first)

    def check_jvp(self):
        expected = self.plain()
        directions = [self.random_like(self.args[p]) for p in self.wrt]
        def forward():  # tangents by name: after parameters with defaults they are keywords
            derivative = sg.jvp(self.f, wrt=self.wrt)
            if not isinstance(derivative, sg.Derivative):  # a stand-in of the tests
                return derivative(*self.args, *directions)
            names = derivative.generated.function.__srcgrad_tangents__
            return derivative(*self.args, **dict(zip(names, directions)))
        value, tangent = self.call("sg.jvp", forward)
        self.check_value("sg.jvp", value, expected)
        if np.shape(tangent) != np.shape(expected) and np.size(tangent) != 1:
            self.find("wrong", f"sg.jvp's tangent has shape {np.shape(tangent)}; the function "
                      f"returns shape {np.shape(expected)}")
        tangent = np.broadcast_to(tangent, np.shape(expected))
        # the dot-product test against reverse mode
        if self.vjp_result is not None:
            u, cotangents = self.vjp_result
            left = sum(_dot(c, v) for c, v in zip(cotangents, directions))
            right = _dot(u, tangent)
            scale = sum(abs(_dot(np.abs(c), np.abs(v))) for c, v in zip(cotangents, directions)) \
                + abs(_dot(np.abs(u), np.abs(tangent)))
            if not abs(left - right) <= 1e-8 * scale + 1e-12:
                self.find("wrong", f"dot-product test: <vjp(u), v> = {left!r} but "
                          f"<u, jvp(v)> = {right!r} (tangent {_show(tangent)})")
        # one directional difference
        fd = directional_difference(self.f, self.args, self.wrt, directions, 1e-6)
        scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)),
                    float(np.max(np.abs(fd), initial=0.0)))
        if _close(tangent, fd, scale, self.rtol, self.atol):
            return
        others = [directional_difference(self.f, self.args, self.wrt, directions, ("5", h))
                  for h in (1e-4, 1e-3)]
        if any(_close(tangent, o, scale, self.rtol, self.atol) for o in others):
            return
        agree = (_close(fd, others[0], scale, max(self.rtol, 1e-6), self.atol)
                 or _close(others[0], others[1], scale, max(self.rtol, 1e-6), self.atol))
        self.find("wrong" if agree else "unclear",
                  f"sg.jvp along {[_show(d) for d in directions]}:\n"
                  f"  srcgrad:              {_show(tangent)}\n"
                  f"  central (h=1e-6):     {_show(fd)}\n"
                  f"  five-point (h=1e-4):  {_show(others[0])}")

    def check_hessian(self):
        if np.ndim(self.plain()) != 0:
            return
        for position in self.wrt:
            x = self.args[position]
            n = np.size(x)
            grad_p = sg.grad(self.f, wrt=position)
            H = self.call(f"sg.hessian(wrt={position})",
                          lambda: sg.hessian(self.f, wrt=position)(*self.args))
            if np.shape(H) != np.shape(x) * 2:
                self.find("wrong", f"sg.hessian(wrt={position}) has shape {np.shape(H)}, "
                          f"expected {np.shape(x) * 2}")
            H2 = np.reshape(np.asarray(H, dtype=np.float64), (n, n))
            for k in range(n):
                def component(*args, k=k):
                    return float(np.ravel(np.asarray(grad_p(*_fresh(args)), dtype=float))[k])
                verdict, details = fd_verdict(component, self.args, position,
                                              np.reshape(H2[k], np.shape(x)), self.rtol,
                                              self.atol)
                if verdict != "ok":
                    self.find(verdict, f"sg.hessian(wrt={position}) row {k} disagrees with "
                              f"differences of the gradient:\n{details}")
            v = self.random_like(x)
            Hv = self.call(f"sg.hvp(wrt={position})",
                           lambda: sg.hvp(self.f, wrt=position)(*self.args, v))
            expected = np.reshape(H2 @ np.ravel(v), np.shape(x))
            if np.shape(Hv) != np.shape(x) or not _close(Hv, expected, 1.0, 1e-7, 1e-9):
                self.find("wrong", f"sg.hvp(wrt={position}) gives {_show(Hv)}; H v is "
                          f"{_show(expected)}")
            if np.ndim(x) == 0:
                gg = self.call(f"grad(grad(f, wrt={position}))",
                               lambda: sg.grad(grad_p, wrt=position)(*self.args))
                if not _close(gg, H2[0, 0], 1.0, 1e-7, 1e-9):
                    self.find("wrong", f"grad(grad(f)) gives {_show(gg)}; the Hessian is "
                              f"{_show(H2[0, 0])}")

    def check_eager(self):
        expected = self.plain()
        leaves = {}
        args = list(_fresh(self.args))
        for p in self.wrt:
            leaves[p] = sg.tensor(np.array(self.args[p], dtype=np.float64), requires_grad=True)
            args[p] = leaves[p]
        u = self.random_like(expected)

        def run():
            with np.errstate(all="ignore"):
                out = self.f(*args)
            if isinstance(out, sg.Tensor):
                scalar = out if np.ndim(expected) == 0 else (out * u).sum()
                scalar.backward()
            return out
        out = self.call("the eager Tensor", run)
        data = out.detach().numpy() if isinstance(out, sg.Tensor) else out
        self.check_value("the eager Tensor", data, expected)
        for p in self.wrt:
            # a result that is no Tensor has no tape: its derivative must be zero
            g = leaves[p].grad if isinstance(out, sg.Tensor) else None
            g = np.zeros(np.shape(self.args[p])) if g is None else g.detach().numpy()
            if np.ndim(self.args[p]) == 0:
                g = np.reshape(g, ())
            if np.ndim(expected) == 0 and self.gradients is not None:
                reference = self.gradients[self.wrt.index(p)]
            elif np.ndim(expected) != 0 and self.vjp_result is not None:
                reference = self.vjp_result[1][self.wrt.index(p)]
            else:
                reference = None
            if reference is not None and _close(g, reference, 1.0, 1e-7, 1e-9):
                continue
            phi = (self.scalar_value_of if np.ndim(expected) == 0
                   else (lambda *a: _dot(u, self.plain(list(a)))))
            verdict, details = fd_verdict(phi, self.args, p, g, self.rtol, self.atol)
            if verdict != "ok":
                self.find(verdict, f"the eager Tensor's gradient for argument {p}:\n{details}")


def derivative_findings(f, *args, wrt=None, modes=FIRST_ORDER, order=1, eager=False,
                        rtol=1e-5, atol=1e-7, seed=0, catch=True):
    """Check ``f`` at ``args`` in every mode asked; return the list of :class:`Finding`."""
    positions = default_wrt(args) if wrt is None else (
        tuple(wrt) if isinstance(wrt, (tuple, list)) else (wrt,))
    checker = _Checker(f, args, positions, rtol, atol, seed, catch)
    modes = tuple(modes) + (("hessian",) if order >= 2 and "hessian" not in modes else ()) + \
        (("eager",) if eager and "eager" not in modes else ())
    for mode in ("grad", "value_and_grad", "vjp", "jvp", "hessian", "eager"):
        if mode in modes:
            checker.run_mode(mode, getattr(checker, f"check_{mode}"))
    return checker.findings


def check_grads(f, *args, wrt=None, modes=FIRST_ORDER, order=1, eager=False, rtol=1e-5,
                atol=1e-7, seed=0):
    """Assert that ``f``'s derivatives at ``args`` are right in every mode asked.

    ``wrt``: an argument position or a tuple of them (default: every float argument).
    ``modes``: a subset of ``ALL_MODES``; ``order=2`` adds second order, ``eager=True`` the
    eager Tensor. Exceptions raised by srcgrad propagate.
    """
    findings = derivative_findings(f, *args, wrt=wrt, modes=modes, order=order, eager=eager,
                                   rtol=rtol, atol=atol, seed=seed, catch=False)
    if findings:
        raise AssertionError(f"{getattr(f, '__qualname__', f)}: "
                             + "\n".join(str(x) for x in findings))


def check_grad(f, *args, wrt=None, rtol=1e-5, atol=1e-7):
    """Assert that srcgrad's gradient of ``f`` matches central differences for each ``wrt``."""
    positions = tuple(range(len(args))) if wrt is None else (
        wrt if isinstance(wrt, tuple) else (wrt,))
    gradients = sg.grad(f, wrt=positions)(*args)
    for position, gradient in zip(positions, gradients):
        expected = numeric_gradient(f, args, position)
        assert np.shape(gradient) == np.shape(args[position]), (
            f"gradient for argument {position} has shape {np.shape(gradient)}, "
            f"expected {np.shape(args[position])}")
        np.testing.assert_allclose(gradient, expected, rtol=rtol, atol=atol,
                                   err_msg=f"gradient for argument {position}")
    return gradients
