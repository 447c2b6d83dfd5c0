"""A Tensor's repr as PyTorch prints it: 4 decimals, one width per tensor, unusual dtypes named."""
import numpy as np

from .dtypes import default_float, dtype_of

PRECISION = 4
LINE_WIDTH = 80
THRESHOLD = 1000  # more elements than this: the middle is shown as "..."


def _float_formatter(values):
    """One format for every element, chosen as PyTorch chooses it: whole numbers as ``1.``,
    fixed-point with 4 decimals, or scientific when the magnitudes span too much."""
    finite = values[np.isfinite(values)]
    nonzero = np.abs(finite[finite != 0])
    whole = bool(np.all(finite == np.ceil(finite)))
    scientific = False
    if nonzero.size:
        largest, smallest = float(nonzero.max()), float(nonzero.min())
        scientific = largest > 1e8 if whole else (largest / smallest > 1000 or largest > 1e8
                                                 or smallest < 1e-4)
    if scientific:
        text = lambda v: f"{v:.{PRECISION}e}" if np.isfinite(v) else str(v)  # noqa: E731
    elif whole:
        text = lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)  # noqa: E731
    else:
        text = lambda v: f"{v:.{PRECISION}f}" if np.isfinite(v) else str(v)  # noqa: E731
    # As PyTorch, the width is that of the widest nonzero finite number (nan, inf may stick out).
    width = max((len(text(float(v))) for v in finite[finite != 0]), default=1)
    if scientific or not whole:
        width = max(width, len(text(0.0))) if finite.size > nonzero.size else width
    return lambda v: text(float(v)).rjust(width)


def _body(array):
    if array.size == 0:
        return "[]"
    kind = array.dtype.kind
    if kind == "f":
        shown = array if array.size <= THRESHOLD else _edges(array)
        formatter = {"float_kind": _float_formatter(np.asarray(shown, dtype=np.float64))}
    elif kind in "iu":
        width = max(len(str(v)) for v in (array.min(), array.max()))
        formatter = {"int": lambda v: str(v).rjust(width)}
    elif kind == "b":
        formatter = {"bool": lambda v: str(bool(v)).rjust(5 if not array.all() else 4)}
    else:
        formatter = None
    return np.array2string(array, separator=", ", prefix="tensor(", formatter=formatter,
                           max_line_width=LINE_WIDTH, threshold=THRESHOLD, edgeitems=3)


def _edges(array):
    """The elements a summarized print shows (three at each end of each axis)."""
    for axis in range(array.ndim):
        if array.shape[axis] > 6:
            array = np.concatenate([np.take(array, range(3), axis),
                                    np.take(array, range(-3, 0), axis)], axis)
    return array


def tensor_repr(tensor):
    data = tensor._data
    if not isinstance(data, np.ndarray):  # CuPy, Dask ...: their own repr of the values
        body = repr(data)
    else:
        body = _body(data)
    extras = []
    if data.size == 0 and data.shape != (0,):
        extras.append(f"size={tuple(data.shape)}")
    dtype = data.dtype
    if dtype != default_float() and dtype.kind not in "b" and dtype != np.int64:
        extras.append(f"dtype={dtype_of(dtype)!r}")
    if str(tensor.device) != "cpu":
        extras.append(f"device='{tensor.device}'")
    if tensor.grad_fn is not None:
        extras.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor._requires_grad:
        extras.append("requires_grad=True")
    # As PyTorch: a suffix that would pass the line width goes on a line of its own (PyTorch
    # counts two characters more than the last line has; so does this, to wrap where it does).
    text = "tensor(" + body
    last_line = len(text.rsplit("\n", 1)[-1]) + 2
    for extra in extras:
        if last_line + len(extra) + 2 > LINE_WIDTH:
            text += ",\n" + " " * len("tensor(") + extra
            last_line = len("tensor(") + len(extra)
        else:
            text += ", " + extra
            last_line += len(extra) + 2
    return text + ")"
