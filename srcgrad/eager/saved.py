"""Values a backward node keeps for later, checked against in-place changes before use."""
from .errors import InplaceModifiedError
from .tensor import Tensor  # the package imports tensor.py first, so Tensor is defined here


def describe(data):
    """How an error message names a tensor: its dtype and shape."""
    dtype = getattr(data, "dtype", type(data).__name__)
    return f"a {dtype} Tensor of shape {getattr(data, 'shape', ())}"


class SavedTensor:
    """An input of a recorded operation, with the version its data had when it was saved."""

    __slots__ = ("tensor", "_data", "version")

    def __init__(self, tensor):
        self.tensor = tensor
        self._data = tensor._data  # the array as it was (rebinding tensor._data later is fine)
        self.version = tensor._counter[0]

    def unpack(self, node, as_tensor, checked=True):
        """The tensor (or its array); ``checked``: refuse it if it was changed in place since
        (False where the backward pass reads its shape only)."""
        current = self.tensor._counter[0]
        if checked and current != self.version:
            raise InplaceModifiedError(describe(self._data), node.name(), current, self.version)
        return self.tensor if as_tensor else self._data


class SavedOutput:
    """The result of the node that saves it.

    Only the data and the version counter are kept, not the output Tensor, so that a node does
    not keep its own output alive through a reference cycle. Unpacked as a Tensor (for a graph of
    the backward pass), it gets the node back as its ``grad_fn``.
    """

    __slots__ = ("_data", "counter", "version", "output_nr")

    def __init__(self, tensor):
        self._data = tensor._data
        self.counter = tensor._counter
        self.version = tensor._counter[0]
        self.output_nr = tensor._output_nr

    def unpack(self, node, as_tensor, checked=True):
        if checked and self.counter[0] != self.version:
            raise InplaceModifiedError(f"{describe(self._data)} (its output {self.output_nr})",
                                       node.name(), self.counter[0], self.version)
        if not as_tensor:
            return self._data
        return Tensor._make(self._data, grad_fn=node, requires_grad=True,
                            output_nr=self.output_nr, version=self.counter)


class SavedSequence:
    """A sequence argument (``np.concatenate([a, b])``): Tensors saved, other items kept as is."""

    __slots__ = ("items", "kind")

    def __init__(self, items):
        self.kind = type(items)
        self.items = [SavedTensor(item) if isinstance(item, Tensor) else item for item in items]

    def unpack(self, node, as_tensor, checked=True):
        values = [item.unpack(node, as_tensor, checked) if isinstance(item, SavedTensor) else item
                  for item in self.items]
        return values if self.kind is list else tuple(values)
