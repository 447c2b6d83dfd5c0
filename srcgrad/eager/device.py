"""Where a Tensor's data lives: "cpu" for NumPy, "cuda:N" for CuPy, which is imported only here."""
import numpy as np

from .errors import EagerError
from .function import Function
from .tensor import Tensor


def device_of(data):
    if isinstance(data, np.ndarray):
        return "cpu"
    device = getattr(data, "device", None)
    if hasattr(device, "id"):  # a CuPy array's device
        return f"cuda:{device.id}"
    return "cpu" if device is None else str(device)


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
    if device == "cuda":
        import_cupy()  # a clear error before anything else, when CuPy is missing
    if device_of(tensor.data).split(":")[0] == device:
        return tensor
    return ToCopy.apply(tensor, device)


class ToCopy(Function):
    """A copy to another device; its gradient is copied back."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.source = device_of(x.data).split(":")[0]
        return Tensor._make(move(x.data, device))

    @staticmethod
    def backward(ctx, grad):
        return ToCopy.apply(grad, ctx.source), None
