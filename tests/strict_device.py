"""A CPU stand-in for CuPy, strict where CuPy is: an array that lives "on the device".

``DeviceArray`` wraps a NumPy array and behaves towards NumPy's API the way ``cupy.ndarray``
does, so that code which would fail on a GPU fails here, without one:

* no implicit conversion: ``np.asarray(x)``, ``np.array([x, ...])``, ``numpy_array[i] = x`` and
  anything else that calls ``__array__`` raise CuPy's ``TypeError``; ``x.get()`` is the explicit
  copy to the host;
* no mixing with ``numpy.ndarray``, 0-d ones included: a NumPy array among the operands of a ufunc
  (``x + np.zeros_like(0.0)``), among the arguments of an array function (``np.stack([x, a])``)
  or as the value of an element write (``x[i] = a``) raises CuPy's ``TypeError``; Python numbers
  and NumPy scalars (``np.float64(2.0)``) are accepted, as CuPy accepts them; NumPy arrays are
  accepted as indices, as CuPy accepts them (it copies them to the device);
* results are device arrays, numbers included: a reduction, ``x[0]`` of a vector and the items
  of ``for e in x`` are 0-d device arrays, as CuPy's are, never NumPy scalars; ``x[0]`` is a
  view, so ``t = x[0]; t -= 1.0`` changes ``x`` (srcgrad refuses that in-place update);
* CuPy's own refusals where NumPy is lenient: ``np.tensordot`` with a 0-d operand and axes.

Operations run on the wrapped NumPy arrays, so values equal NumPy's bit for bit.

``asarray``/``asnumpy`` move values in and out (CuPy's names); ``to_device``/``on_host`` do it
for nested arguments and results. ``SEEN`` counts the ufuncs and NumPy functions dispatched.
"""
import collections
import numbers

import numpy as np
import numpy.lib.mixins

IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly.")

SEEN = collections.Counter()


def _refuse(value, where):
    raise TypeError(f"Unsupported type {type(value)} ({where}: the stand-in for CuPy refuses a "
                    f"numpy.ndarray where a device array is expected)")


def _operand(value, where):
    """A ufunc operand or array-function argument, unwrapped; NumPy arrays are refused."""
    if isinstance(value, DeviceArray):
        return value.data
    if isinstance(value, np.ndarray):
        _refuse(value, where)
    if isinstance(value, (list, tuple)):
        return type(value)(_operand(v, where) for v in value)
    if isinstance(value, dict):
        return {k: _operand(v, where) for k, v in value.items()}
    return value


def _index(value):
    """An index: device arrays unwrapped; NumPy arrays and lists accepted as CuPy accepts them."""
    if isinstance(value, DeviceArray):
        return value.data
    if isinstance(value, tuple):
        return tuple(_index(v) for v in value)
    return value


def _foreign(value):
    """Another array type that dispatches (the eager Tensor): it gets its turn first."""
    return (hasattr(type(value), "__array_ufunc__") and type(value).__array_ufunc__ is not None
            and not isinstance(value, (DeviceArray, np.ndarray, np.generic)))


def _wrap(value):
    """Results as device arrays: arrays and NumPy scalars (CuPy returns 0-d arrays)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return DeviceArray(value)
    if isinstance(value, tuple):
        wrapped = tuple(_wrap(v) for v in value)
        return type(value)(*wrapped) if hasattr(value, "_fields") else wrapped
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _tensordot(a, b, axes=2):
    if (np.ndim(a) == 0 or np.ndim(b) == 0) and not (
            isinstance(axes, numbers.Integral) and axes == 0
            or not isinstance(axes, numbers.Integral) and all(len(np.atleast_1d(x)) == 0
                                                               for x in axes)):
        raise ValueError("An input is zero-dim while axes has dimensions")  # as CuPy says
    return np.tensordot(a, b, axes)


# NumPy functions whose CuPy counterpart refuses what NumPy accepts.
_CUPY_SPECIFIC = {np.tensordot: _tensordot}


class DeviceArray(numpy.lib.mixins.NDArrayOperatorsMixin):
    """An array "on the device": NumPy's values, CuPy's manners."""

    __slots__ = ("data",)
    __array_priority__ = 100

    def __init__(self, data):
        if isinstance(data, DeviceArray):
            data = data.data
        self.data = np.array(data) if isinstance(data, np.generic) else data
        if not isinstance(self.data, np.ndarray):
            raise TypeError(f"DeviceArray wraps numpy arrays, not {type(data).__name__}")

    # --- no implicit conversion ----------------------------------------------------------------

    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT)

    def get(self):
        """The values as a NumPy array (CuPy's explicit copy to the host)."""
        return self.data.copy()

    # --- NumPy's dispatch protocols ------------------------------------------------------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(_foreign(x) for x in inputs + tuple(kwargs.get("out", ()))):
            return NotImplemented  # an array type that wraps this one (the eager Tensor)
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        SEEN[name] += 1
        if method == "at":  # np.add.at(dx, index, g): the index may be a NumPy array
            args = [_operand(inputs[0], name), _index(inputs[1])] + [
                _operand(x, f"np.{name}") for x in inputs[2:]]
        else:
            args = [_operand(x, f"np.{name}") for x in inputs]
        kwargs = {k: _operand(v, f"np.{name}") for k, v in kwargs.items()}
        result = getattr(ufunc, method)(*args, **kwargs)
        return None if method == "at" else _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        if any(t is not DeviceArray and not issubclass(t, np.ndarray) for t in types):
            return NotImplemented
        SEEN[func.__name__] += 1
        where = f"np.{func.__name__}"
        implementation = _CUPY_SPECIFIC.get(func, func)
        return _wrap(implementation(*_operand(args, where), **_operand(kwargs, where)))

    # --- an ndarray's own surface ----------------------------------------------------------------

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    nbytes = property(lambda self: self.data.nbytes)
    itemsize = property(lambda self: self.data.itemsize)
    strides = property(lambda self: self.data.strides)
    T = property(lambda self: DeviceArray(self.data.T))
    mT = property(lambda self: DeviceArray(self.data.mT))
    real = property(lambda self: DeviceArray(self.data.real))
    imag = property(lambda self: DeviceArray(self.data.imag))
    flags = property(lambda self: self.data.flags)

    def __getattr__(self, name):
        """ndarray methods (``x.sum()``, ``x.reshape(...)``...), on device arrays only."""
        if name.startswith("__"):
            raise AttributeError(name)
        method = getattr(self.data, name)
        if not callable(method):
            raise AttributeError(f"DeviceArray has no attribute {name!r}")

        def call(*args, **kwargs):
            where = f"ndarray.{name}"
            return _wrap(method(*_operand(args, where), **_operand(kwargs, where)))
        return call

    def __getitem__(self, index):
        index = _index(index)
        result = self.data[index]
        if isinstance(result, np.generic):  # x[1] of a vector: a 0-d view of x, as in CuPy
            result = self.data[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return _wrap(result)

    def __setitem__(self, index, value):
        if isinstance(value, DeviceArray):
            value = value.data
        elif isinstance(value, np.ndarray):
            _refuse(value, "an element write")
        elif not isinstance(value, (numbers.Number, np.generic)):
            raise TypeError(f"Unsupported type {type(value)} (an element write)")
        self.data[_index(index)] = value

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (DeviceArray(self.data[k]) for k in range(len(self.data)))

    def __len__(self):
        return len(self.data)

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __complex__(self):
        return complex(self.data)

    def __index__(self):
        return self.data.__index__()

    def __repr__(self):
        return f"DeviceArray({self.data!r})"

    def copy(self, order="C"):
        return DeviceArray(self.data.copy(order))

    def astype(self, dtype, copy=True, **kwargs):
        return DeviceArray(self.data.astype(dtype, copy=copy, **kwargs))

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    # CuPy's ndarray has no __hash__: neither has this one (ufunc-style __eq__)
    __hash__ = None


# --- the module-like namespace -------------------------------------------------------------------

ndarray = DeviceArray


def asarray(value, dtype=None):
    """A device array of ``value`` (NumPy arrays, numbers, lists; device arrays as they are)."""
    if isinstance(value, DeviceArray):
        return value if dtype is None else value.astype(dtype, copy=False)
    return DeviceArray(np.array(value, dtype=dtype))


def asnumpy(value):
    """A device array's values as a NumPy array; anything else as np.asarray makes it."""
    return value.get() if isinstance(value, DeviceArray) else np.asarray(value)


def to_device(value):
    """NumPy arrays (also inside lists, tuples, dicts) as device arrays; numbers stay numbers."""
    if isinstance(value, np.ndarray):
        return DeviceArray(value.copy())
    if isinstance(value, (list, tuple)):
        return type(value)(to_device(v) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v) for k, v in value.items()}
    return value


def on_host(value):
    """Device arrays (also inside lists, tuples, dicts) as NumPy arrays."""
    if isinstance(value, DeviceArray):
        return value.get()
    if isinstance(value, (list, tuple)):
        return type(value)(on_host(v) for v in value)
    if isinstance(value, dict):
        return {k: on_host(v) for k, v in value.items()}
    return value


def host_arrays_in(value, path="result"):
    """Where ``value`` holds NumPy arrays (0-d ones included), which CuPy would refuse to meet."""
    if isinstance(value, DeviceArray):
        return []
    if isinstance(value, np.ndarray):
        return [f"{path}: {type(value).__name__}"]
    if isinstance(value, (list, tuple)):
        return [p for k, v in enumerate(value) for p in host_arrays_in(v, f"{path}[{k}]")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in host_arrays_in(v, f"{path}[{k!r}]")]
    return []
