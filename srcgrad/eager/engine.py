"""The backward pass: order the graph, run each node once all its output gradients are in."""
import numpy as np

from ..runtime import shape_of
from .errors import EagerError
from .grad_mode import set_grad_enabled
from .node import AccumulateGrad, edge_of
from .tensor import Size, Tensor, as_array


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` (weighted by ``grad_tensors``) into leaves' .grad;
    with ``inputs``, only into the .grad of those tensors (leaves or not)."""
    tensors = _as_tuple(tensors)
    if grad_tensors is not None:
        grad_tensors = _as_tuple(grad_tensors)
    roots = _roots(tensors, grad_tensors, create_graph)
    retain_graph = create_graph if retain_graph is None else retain_graph
    if inputs is None:
        run(roots, retain_graph, create_graph)
        return
    inputs = _as_tuple(inputs)
    if not inputs:
        raise EagerError("'inputs' argument to backward() cannot be empty.")
    for tensor in inputs:
        if not tensor.requires_grad:
            raise EagerError("One of the differentiated Tensors does not require grad")
    targets = [edge_of(tensor) for tensor in inputs]
    # Tensors that retain their gradient get it as in a backward without inputs (PyTorch).
    captured = run(roots, retain_graph, create_graph, targets, fill_retained=True)
    for tensor, edge in zip(inputs, targets):
        if edge in captured and not tensor._retains_grad:
            _accumulate(tensor, captured[edge], create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs`` (leaves or intermediate tensors),
    returned as a tuple; no ``.grad`` is touched. An input the outputs do not depend on is an
    error, or gets None with ``allow_unused=True``, or zeros with ``materialize_grads=True``."""
    if is_grads_batched:
        raise NotImplementedError("srcgrad.autograd.grad has no batched gradients; call it once "
                                  "per row of grad_outputs")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    allow_unused = bool(allow_unused) or materialize_grads
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if grad_outputs is not None:
        grad_outputs = _as_tuple(grad_outputs)
    for tensor in inputs:
        if not tensor.requires_grad:
            raise EagerError("One of the differentiated Tensors does not require grad")
    targets = [edge_of(tensor) for tensor in inputs]
    roots = _roots(outputs, grad_outputs, create_graph)
    captured = run(roots, create_graph if retain_graph is None else retain_graph, create_graph,
                   targets)
    gradients = []
    for tensor, edge in zip(inputs, targets):
        gradient = captured.get(edge)
        if gradient is None and not allow_unused:
            raise EagerError(f"The differentiated Tensor at index {len(gradients)} appears to not "
                             f"have been used in the graph. Set allow_unused=True if this is the "
                             f"desired behavior.")
        if gradient is None and materialize_grads:
            gradient = np.zeros_like(tensor._data)
        gradients.append(None if gradient is None else _as_tensor(gradient))
    return tuple(gradients)


def _as_tuple(value):
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _as_tensor(value):
    return value if isinstance(value, Tensor) else Tensor._make(as_array(value))


def _roots(tensors, gradients, create_graph):
    """(edge, seed gradient) for each output; the seed of a one-element output may be implicit."""
    if gradients is None:
        gradients = (None,) * len(tensors)
    if len(gradients) != len(tensors):
        raise EagerError(f"got {len(gradients)} gradients for {len(tensors)} outputs")
    roots = []
    for i, (tensor, gradient) in enumerate(zip(tensors, gradients)):
        if not tensor._requires_grad:
            raise EagerError(f"element {i} of tensors does not require grad and does not have a "
                             f"grad_fn")
        if gradient is None:
            if tensor._data.size != 1:
                raise EagerError("grad can be implicitly created only for scalar outputs; pass "
                                 "gradient= (the weights w of sum(w * output)) for a tensor of "
                                 f"shape {tensor.shape}")
            data = tensor._data
            # np.ones_like dispatches in Python; a NumPy array's ones are made directly.
            gradient = (np.ones(data.shape, data.dtype) if type(data) is np.ndarray
                        else np.ones_like(data))
        elif shape_of(gradient) != tensor.shape:
            raise EagerError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                             f"{Size(shape_of(gradient))} and output[{i}] has a shape of "
                             f"{tensor.shape}.")
        if create_graph:
            gradient = _as_tensor(gradient)
        elif isinstance(gradient, Tensor):
            gradient = gradient._data
        roots.append((edge_of(tensor), gradient))
    return roots


def topological_order(roots):
    """Every node reachable from ``roots``, each one before the nodes that made its inputs."""
    order, visited = [], set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:  # depth first without recursion: a long loop makes a deep graph
            node, inputs = stack[-1]
            for child, _ in inputs:
                if child is not None and child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child.next_functions)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _needed_for(order, targets):
    """The nodes whose backward step must run for some target edge to get its gradient."""
    target_nodes = {node for node, _ in targets}
    needed = set()
    for node in reversed(order):  # inputs first
        if any(child is not None and (child in target_nodes or child in needed)
               for child, _ in node.next_functions):
            needed.add(node)
    return needed


def run(roots, retain_graph, create_graph, targets=None, fill_retained=False):
    """Run the backward pass from ``roots``.

    Without ``targets`` gradients go into leaves' ``.grad``; with them (autograd.grad, backward
    with inputs) only the nodes leading to the targets run, and the targets' gradients are
    returned by edge; ``fill_retained``: tensors that called retain_grad get theirs then too.
    """
    pending = {}  # node -> gradient of each of its outputs, summed over all consumers
    for (node, output_nr), gradient in roots:
        _add(pending, node, output_nr, gradient)
    order = topological_order([node for (node, _), _ in roots])
    target_edges = set(targets) if targets is not None else None
    needed = _needed_for(order, targets) if targets is not None else None
    captured = {}
    # The loop runs once per node: hooks, retained gradients and targets are looked at only
    # where there are any, and a gradient's first arrival at a node is stored without a call.
    with set_grad_enabled(create_graph):
        for node in order:
            grads = pending.pop(node, None)
            if grads is None:
                continue
            accumulates = type(node) is AccumulateGrad
            if node._pre_hooks or (accumulates and node.variable._hooks):
                grads = _run_tensor_hooks(node, grads, create_graph)
            if node._retained and (fill_retained or target_edges is None):
                _retain(node, grads, create_graph)
            if target_edges is not None:
                for output_nr, gradient in enumerate(grads):
                    if (node, output_nr) in target_edges and gradient is not None:
                        captured[(node, output_nr)] = gradient
                if node not in needed:
                    continue
            if accumulates:
                _accumulate(node.variable, grads[0], create_graph)
                continue
            input_grads = node.apply(grads, create_graph)
            shapes = node.input_shapes
            for k, (child, output_nr) in enumerate(node.next_functions):
                if child is None:
                    continue
                gradient = input_grads[k]
                if gradient is None:
                    continue
                shape = gradient.shape if type(gradient) is np.ndarray else shape_of(gradient)
                if shape != shapes[k]:
                    raise EagerError(
                        f"{node.name()} returned a gradient of shape {shape} for its input {k}, "
                        f"of shape {shapes[k]}: its derivative is wrong")
                if create_graph and not isinstance(gradient, Tensor):
                    gradient = Tensor._make(as_array(gradient))
                if output_nr == 0 and child not in pending and \
                        not getattr(child, "output_data", None):
                    pending[child] = [gradient]
                else:
                    _add(pending, child, output_nr, gradient)
            if not retain_graph:
                node.release()
    return captured


def _add(pending, node, output_nr, gradient):
    grads = pending.get(node)
    if grads is None:
        grads = pending[node] = [None] * max(1, _output_count(node))
    while output_nr >= len(grads):
        grads.append(None)
    grads[output_nr] = gradient if grads[output_nr] is None else grads[output_nr] + gradient


def _output_count(node):
    return len(getattr(node, "output_data", ())) or 1


def _run_tensor_hooks(node, grads, create_graph):
    """Hooks registered with Tensor.register_hook see each gradient and may replace it."""
    if isinstance(node, AccumulateGrad):
        hooks_by_output = {0: node.variable._hooks} if node.variable._hooks else None
    else:
        hooks_by_output = node._pre_hooks
    if not hooks_by_output:
        return grads
    grads = list(grads)
    for output_nr, hooks in hooks_by_output.items():
        if output_nr >= len(grads) or grads[output_nr] is None:
            continue
        for hook in list(hooks.values()):
            replaced = hook(_as_tensor(grads[output_nr]))
            if replaced is not None:
                if shape_of(replaced) != shape_of(grads[output_nr]):
                    # As PyTorch: a hook may change the values, not the shape (no broadcasting).
                    raise EagerError(f"hook '{getattr(hook, '__name__', 'hook')}' has changed "
                                     f"the size of value: {tuple(shape_of(grads[output_nr]))} "
                                     f"became {tuple(shape_of(replaced))}")
                grads[output_nr] = (_as_tensor(replaced) if create_graph
                                    else as_array(replaced))
    return grads


def _accumulate(leaf, gradient, create_graph):
    if create_graph:
        gradient = _as_tensor(gradient)  # the graph of the gradient is kept, for a later backward
        if gradient._data.dtype != leaf._data.dtype:
            gradient = gradient.to(leaf._data.dtype)
        leaf._grad = gradient if leaf._grad is None else leaf._grad + gradient
        return
    if isinstance(gradient, Tensor):
        gradient = gradient._data
    if leaf._grad is None:
        # A copy of its own: the gradient may be a read-only broadcast view, or shared with
        # another leaf's gradient, and .grad must stay writable (grad.zero_()).
        data = np.copy(gradient)
        leaf._grad = Tensor._make(data if data.dtype == leaf._data.dtype
                                  else data.astype(leaf._data.dtype))
    elif leaf._grad._requires_grad:
        # A gradient with a graph (from backward(create_graph=True)) gets the new one added to
        # its values and keeps its graph, as PyTorch's in-place accumulation does; new memory,
        # because the graph may have saved the old values.
        leaf._grad._data = np.asarray(leaf._grad._data + gradient)
        leaf._grad._counter[0] += 1
    else:
        leaf._grad._data += gradient
        leaf._grad._counter[0] += 1


def _retain(node, grads, create_graph):
    for output_nr, reference in node._retained.items():
        tensor = reference()
        if tensor is not None and grads[output_nr] is not None:
            _accumulate(tensor, grads[output_nr], create_graph)
