"""gradcheck and gradgradcheck: srcgrad's derivatives against central finite differences.

``gradcheck`` takes a function of eager Tensors (checking the tape) or a plain NumPy function
(checking the derivative code that ``srcgrad.vjp`` generates). It compares whole Jacobians,
one input and one output at a time, and names the worst element when they disagree.
"""
import inspect
import warnings

import numpy as np

from .eager import Tensor
from .eager import grad as tape_grad
from .errors import SrcgradError


class GradcheckError(SrcgradError, RuntimeError):
    """An analytical Jacobian differs from the numerical one (message: where and by how much)."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, wrt=None):
    """True when the derivatives of ``fn`` at ``inputs`` match central differences.

    With Tensor inputs, those that require grad are checked through the tape. With plain arrays
    or floats, ``fn`` is checked through its generated derivative (``srcgrad.vjp``) with
    respect to ``wrt`` (positions; default: every floating-point input). On a mismatch it raises
    GradcheckError, or returns False when ``raise_exception`` is False.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if any(isinstance(x, Tensor) for x in inputs):
        problem = _TapeProblem(fn, inputs)
    else:
        problem = _GeneratedProblem(fn, inputs, wrt)
    for position in problem.positions:
        dtype = getattr(inputs[position], "dtype", np.dtype(float))
        if dtype != np.float64:
            warnings.warn(f"input {position} of gradcheck has dtype {dtype}: with eps={eps} only "
                          f"float64 gives reliable finite differences", stacklevel=2)
    analytical = problem.analytical_jacobians()
    for position in problem.positions:
        numerical = _numerical_jacobians(problem, position, eps)
        for output_nr, (a, n) in enumerate(zip(analytical[position], numerical)):
            message = _mismatch(a, n, atol, rtol, problem, position, output_nr)
            if message is not None:
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, seed=0):
    """True when the second derivatives of ``fn`` (a function of Tensors) match central
    differences of its first derivatives: gradcheck of ``(inputs, v) -> grad(fn(inputs), inputs,
    v, create_graph=True)``, with random ``v`` unless ``grad_outputs`` is given."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if not any(isinstance(x, Tensor) for x in inputs):
        raise TypeError("gradgradcheck checks eager Tensors; srcgrad's transformer generates no "
                        "second derivatives yet. Pass srcgrad.tensor(x, requires_grad=True) "
                        "inputs (a plain NumPy function runs on them unchanged).")
    outputs = _outputs(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(
            Tensor(np.asarray(rng.standard_normal(o.shape)), requires_grad=True) for o in outputs)
    if not isinstance(grad_outputs, (tuple, list)):
        grad_outputs = (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    count = len(inputs)

    def first_derivatives(*args):
        xs, weights = args[:count], args[count:]
        outs = _outputs(fn(*xs))
        wanted = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        used = [(o, w) for o, w in zip(outs, weights) if o.requires_grad]
        grads = tape_grad([o for o, _ in used], wanted, [w for _, w in used],
                          create_graph=True, allow_unused=True)
        return tuple(Tensor._make(np.zeros_like(x._data)) if g is None else g
                     for g, x in zip(grads, wanted))

    return gradcheck(first_derivatives, inputs + grad_outputs, eps, atol, rtol, raise_exception)


def _outputs(value):
    values = value if isinstance(value, (tuple, list)) else (value,)
    return tuple(v for v in values if isinstance(v, Tensor))


def _input_names(fn):
    try:
        return [name for name, p in inspect.signature(fn).parameters.items()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return []


class _TapeProblem:
    """Checks a function of Tensors through the tape (autograd.grad)."""

    def __init__(self, fn, inputs):
        self.fn, self.inputs = fn, inputs
        self.names = _input_names(fn)
        self.positions = [i for i, x in enumerate(inputs)
                          if isinstance(x, Tensor) and x.requires_grad]
        if not self.positions:
            raise ValueError("gradcheck expects at least one input Tensor to require gradient "
                             "(make it with requires_grad=True)")

    def data(self, position):
        return self.inputs[position]._data

    def evaluate(self, position, data):
        """The outputs' arrays with input ``position`` replaced by ``data``."""
        original = self.inputs[position]
        fresh = Tensor._make(data, requires_grad=original.requires_grad)
        # The same Tensor passed twice is perturbed in both places, as the tape differentiates
        # through both uses. The fresh leaf requires grad as the original does: gradgradcheck's
        # function takes gradients inside, so this evaluation must record like the analytical one.
        args = [fresh if x is original else x for x in self.inputs]
        return [o._data for o in _outputs(self.fn(*args))]

    def analytical_jacobians(self):
        outputs = _outputs(self.fn(*self.inputs))
        wanted = [self.inputs[i] for i in self.positions]
        jacobians = {i: [] for i in self.positions}
        for output in outputs:
            rows = {i: [] for i in self.positions}  # one row per output element
            for j in range(output._data.size):
                if not output.requires_grad:
                    grads = [None] * len(wanted)
                else:
                    weight = _unit(output._data, j)
                    grads = tape_grad(output, wanted, weight, retain_graph=True,
                                      allow_unused=True)
                for i, g in zip(self.positions, grads):
                    x = self.inputs[i]._data
                    rows[i].append(np.zeros_like(x, dtype=np.float64).reshape(-1) if g is None
                                   else g._data.reshape(-1).astype(np.float64))
            for i in self.positions:
                jacobians[i].append(_stack_columns(rows[i], self.data(i), output._data))
        return jacobians


class _GeneratedProblem:
    """Checks a plain NumPy function through the derivative code srcgrad generates for it."""

    def __init__(self, fn, inputs, wrt):
        self.fn, self.inputs = fn, inputs
        self.names = _input_names(fn)
        if wrt is None:
            self.positions = [i for i, x in enumerate(inputs)
                              if isinstance(x, float) or
                              np.issubdtype(getattr(x, "dtype", np.dtype(int)), np.inexact)]
        else:
            self.positions = list(wrt) if isinstance(wrt, (tuple, list)) else [wrt]
        if not self.positions:
            raise ValueError("gradcheck found no floating-point input to differentiate; "
                             "pass wrt=(positions)")

    def data(self, position):
        x = self.inputs[position]
        return x if hasattr(x, "shape") else np.asarray(x, dtype=np.float64)

    def evaluate(self, position, data):
        args = list(self.inputs)
        args[position] = data if hasattr(self.inputs[position], "shape") else float(data)
        return [self.fn(*args)]

    def analytical_jacobians(self):
        from .api import vjp
        output, pullback = vjp(self.fn, wrt=tuple(self.positions))(*self.inputs)
        output_array = np.asarray(output) if not hasattr(output, "shape") else output
        rows = {i: [] for i in self.positions}
        for j in range(output_array.size):
            cotangent = _unit(output_array, j)
            grads = pullback(cotangent)
            for i, g in zip(self.positions, grads):
                rows[i].append(np.reshape(g, (-1,)).astype(np.float64))
        return {i: [_stack_columns(rows[i], self.data(i), output_array)] for i in self.positions}


def _unit(like, j):
    """An array of like's shape (and kind: NumPy, CuPy ...) with 1 at flat position j, else 0."""
    # Built flat, then reshaped: a view's layout (transposed, broadcast) must not leak into it.
    unit = np.zeros_like(like, dtype=np.float64, shape=(like.size,))
    unit[j] = 1.0
    return np.reshape(unit, like.shape)


def _stack_columns(columns, x, output):
    """The Jacobian, shape (input size, output size), from one column per output element."""
    jacobian = np.zeros_like(x, dtype=np.float64, shape=(x.size, output.size))
    for j, column in enumerate(columns):
        jacobian[:, j] = column
    return jacobian


def _numerical_jacobians(problem, position, eps):
    """Central differences, one input element at a time; one Jacobian per output."""
    x = problem.data(position)
    jacobians = None
    for k in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.reshape(-1)[k] += eps
        minus.reshape(-1)[k] -= eps
        highs, lows = problem.evaluate(position, plus), problem.evaluate(position, minus)
        if jacobians is None:
            jacobians = [np.zeros_like(x, dtype=np.float64, shape=(x.size, np.size(h)))
                         for h in highs]
        for jacobian, high, low in zip(jacobians, highs, lows):
            jacobian[k, :] = np.reshape((high - low) / (2 * eps), (-1,))
    return jacobians or []


def _mismatch(analytical, numerical, atol, rtol, problem, position, output_nr):
    """None when the Jacobians agree; else a message naming the input and the worst element."""
    excess = np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))
    if not np.any(excess > 0) and not np.any(np.isnan(excess)):
        return None
    worst = int(np.argmax(np.where(np.isnan(excess), np.inf, excess)))
    k, j = np.unravel_index(worst, analytical.shape)
    x = problem.data(position)
    name = problem.names[position] if position < len(problem.names) else None
    which = f"input {position}" + (f" ({name!r})" if name else "")
    element = tuple(int(i) for i in np.unravel_index(k, np.shape(x)))
    a, n = float(analytical[k, j]), float(numerical[k, j])
    message = (f"Jacobian mismatch for output {output_nr} with respect to {which}, of shape "
               f"{np.shape(x)}: the worst element is d output[{j}] / d {name or 'input'}"
               f"{list(element)}: analytical {a:.8g} vs numerical {n:.8g} "
               f"(difference {abs(a - n):.3g}, allowed {atol + rtol * abs(n):.3g} "
               f"= atol + rtol * |numerical|)")
    if analytical.size <= 64:
        message += (f"\nanalytical Jacobian (rows: input elements, columns: output elements):\n"
                    f"{analytical}\nnumerical Jacobian:\n{numerical}")
    return message
