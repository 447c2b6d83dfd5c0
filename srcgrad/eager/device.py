"""Where a Tensor's data lives: "cpu" for NumPy, "cuda:N" for CuPy, which is imported only here."""
import numpy as np

from .errors import EagerError
from .function import Function
from .tensor import Tensor


class device(str):  # noqa: N801  (PyTorch's name)
    """Where a Tensor's data lives, with PyTorch's ``.type`` and ``.index``.

    A ``str`` as well ("cpu", "cuda:0"), so that comparing it with a string works.
    """

    def __new__(cls, kind, index=None):
        if isinstance(kind, device):
            return kind
        kind = str(kind)
        if ":" in kind:
            kind, number = kind.split(":")
            index = int(number)
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device "
                               f"string: {kind}")
        self = super().__new__(cls, kind if index is None else f"{kind}:{index}")
        self.type, self.index = kind, index
        return self

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self):
        return str.__str__(self)


CPU = device("cpu")


def device_of(data):
    if isinstance(data, np.ndarray):
        return CPU
    place = getattr(data, "device", None)
    if hasattr(place, "id"):  # a CuPy array's device
        return device("cuda", place.id)
    return CPU if place is None or str(place) == "cpu" else str(place)


def import_cupy():
    try:
        import cupy
    except ImportError as error:
        raise EagerError("Tensor.cuda() needs CuPy, which is not installed: "
                         "pip install 'srcgrad[gpu]' (or the cupy-cudaXXx wheel that matches "
                         "your CUDA version)") from error
    return cupy


def move(data, device):
    if device == "cuda":
        return import_cupy().asarray(data)
    return data.get() if hasattr(data, "get") and not isinstance(data, np.ndarray) else data


def to_device(tensor, device):
    """``tensor`` on ``device`` ("cuda" or "cpu"); itself when it is there already."""
    device = str(device).split(":")[0]
    if device == "cuda":
        import_cupy()  # a clear error before anything else, when CuPy is missing
    if device_of(tensor._data).split(":")[0] == str(device).split(":")[0]:
        return tensor
    return ToCopy.apply(tensor, device)


class ToCopy(Function):
    """A copy to another device; its gradient is copied back."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.source = device_of(x._data).split(":")[0]
        return Tensor._make(move(x._data, device))

    @staticmethod
    def backward(ctx, grad):
        return ToCopy.apply(grad, ctx.source), None
