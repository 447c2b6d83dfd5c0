"""``srcgrad.autograd.functional``: jacobian, hessian, vjp, jvp, hvp, vhp of functions of Tensors,
with PyTorch's signatures (``torch.autograd.functional``), computed on the tape."""
import numpy as np

from .engine import grad
from .grad_mode import enable_grad
from .tensor import Tensor


def _as_tuple(value):
    return (tuple(value), True) if isinstance(value, (tuple, list)) else ((value,), False)


def _fresh_inputs(inputs, create_graph):
    """Leaves of the same values that require grad (the inputs' own history is kept only with
    ``create_graph``, so that the result can be differentiated again)."""
    result = []
    for x in inputs:
        if create_graph and x.requires_grad:
            result.append(x.view_as(x))
        else:
            result.append(Tensor._make(x._data).requires_grad_(True))
    return tuple(result)


def _gradients(outputs, inputs, weights, create_graph):
    """d(sum(weights * outputs))/d(inputs), zeros for an input the outputs do not use."""
    used = [(o, w) for o, w in zip(outputs, weights) if o.requires_grad]
    if not used:
        return tuple(Tensor._make(np.zeros_like(x._data)) for x in inputs)
    found = grad([o for o, _ in used], inputs, [w for _, w in used], retain_graph=True,
                 create_graph=create_graph, allow_unused=True)
    return tuple(Tensor._make(np.zeros_like(x._data)) if g is None else g
                 for g, x in zip(found, inputs))


def _result(values, create_graph):
    return tuple(v if create_graph else v.detach() for v in values)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    inputs, many_inputs = _as_tuple(inputs)
    with enable_grad():
        xs = _fresh_inputs(inputs, create_graph)
        outputs, many_outputs = _as_tuple(func(*xs))
        if v is None:
            if any(o.numel() != 1 for o in outputs):
                raise RuntimeError("The vector v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element.")
            v = tuple(Tensor._make(np.ones_like(o._data)) for o in outputs)
        weights, _ = _as_tuple(v)
        products = _gradients(outputs, xs, weights, create_graph)
    outputs = _result(outputs, create_graph)
    products = _result(products, create_graph)
    return (outputs if many_outputs else outputs[0],
            products if many_inputs else products[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by differentiating a vjp with
    respect to its vector (the double-backward trick, as PyTorch computes it)."""
    inputs, many_inputs = _as_tuple(inputs)
    with enable_grad():
        xs = _fresh_inputs(inputs, True)
        outputs, many_outputs = _as_tuple(func(*xs))
        if v is None:
            if any(x.numel() != 1 for x in inputs):
                raise RuntimeError("The vector v can only be None if the input to the "
                                   "user-provided function is a single Tensor with a single "
                                   "element.")
            v = tuple(Tensor._make(np.ones_like(x._data)) for x in inputs)
        tangents, _ = _as_tuple(v)
        dummies = tuple(Tensor._make(np.zeros_like(o._data)).requires_grad_(True)
                        for o in outputs)
        pulled = _gradients(outputs, xs, dummies, True)
        used = [(p, t) for p, t in zip(pulled, tangents) if p.requires_grad]
        if used:
            products = grad([p for p, _ in used], dummies, [t for _, t in used],
                            create_graph=create_graph, allow_unused=True)
            products = tuple(Tensor._make(np.zeros_like(d._data)) if p is None else p
                             for p, d in zip(products, dummies))
        else:
            products = tuple(Tensor._make(np.zeros_like(o._data)) for o in outputs)
    outputs = _result(outputs, create_graph)
    products = _result(products, create_graph)
    return (outputs if many_outputs else outputs[0],
            products if many_outputs else products[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for one input and one output a Tensor of shape
    ``output.shape + input.shape``; tuples (of tuples) for several."""
    inputs, many_inputs = _as_tuple(inputs)
    with enable_grad():
        xs = _fresh_inputs(inputs, create_graph)
        outputs, many_outputs = _as_tuple(func(*xs))
        blocks = []
        for output in outputs:
            rows = []
            for j in range(output.numel()):
                unit = np.zeros(output.numel(), dtype=output._data.dtype)
                unit[j] = 1
                weight = Tensor._make(unit.reshape(output._data.shape))
                rows.append(_gradients((output,), xs, (weight,), create_graph))
            per_input = []
            for i, x in enumerate(xs):
                if rows:
                    from .functions import stack
                    block = stack([row[i] for row in rows]).reshape(output.shape + x.shape)
                else:
                    block = Tensor._make(np.zeros(output.shape + x.shape, x._data.dtype))
                per_input.append(block if create_graph else block.detach())
            blocks.append(tuple(per_input) if many_inputs else per_input[0])
    return tuple(blocks) if many_outputs else blocks[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a function with one-element output: the Jacobian of its gradient."""
    inputs_tuple, many_inputs = _as_tuple(inputs)

    def gradient(*xs):
        output = func(*xs)
        if output.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        found = _gradients((output.reshape(()),), xs, (Tensor._make(np.ones((),
                           output._data.dtype)),), True)
        return found if many_inputs else found[0]

    return jacobian(gradient, inputs, create_graph=create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a function with one-element output."""
    inputs, many_inputs = _as_tuple(inputs)
    tangents, _ = _as_tuple(v)
    with enable_grad():
        xs = _fresh_inputs(inputs, True)
        output = func(*xs)
        gradients = _gradients((output,), xs, (Tensor._make(np.ones_like(output._data)),), True)
        products = _gradients(gradients, xs, tangents, create_graph)
    products = _result(products, create_graph)
    output = output if create_graph else output.detach()
    return output, products if many_inputs else products[0]


vhp = hvp  # H is symmetric: v^T H = (H v)^T
