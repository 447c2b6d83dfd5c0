"""PyTorch's dtype objects, default dtype and type promotion, over NumPy's dtypes."""
import numpy as np


class dtype:  # noqa: N801  (PyTorch's name: srcgrad.float32 is a srcgrad.dtype)
    """A Tensor's element type, as PyTorch shows it (``srcgrad.float32``).

    Equal to the NumPy dtype it stands for (``t.dtype == np.float32``) and accepted by NumPy
    wherever a dtype is (NumPy reads its ``dtype`` attribute), so code of either style works.
    Attributes that PyTorch's dtype lacks come from the NumPy dtype (``kind``, ``type`` ...).
    """

    __slots__ = ("dtype", "name", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, numpy_dtype):
        self.dtype = np.dtype(numpy_dtype)
        self.name = "bool" if self.dtype.kind == "b" else self.dtype.name
        self.is_floating_point = self.dtype.kind == "f"
        self.is_complex = self.dtype.kind == "c"
        self.is_signed = self.dtype.kind in "ifc"
        self.itemsize = self.dtype.itemsize

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self.dtype == other.dtype
        if other is None:  # np.dtype(None) is float64, which would make None equal to it
            return False
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(self.dtype)

    def __getattr__(self, name):
        return getattr(self.dtype, name)

    def __repr__(self):
        return f"srcgrad.{self.name}"

    def to_complex(self):
        return dtype_of(np.result_type(self.dtype, np.complex64))

    def to_real(self):
        return dtype_of(np.finfo(self.dtype).dtype) if self.is_complex else self

    def __reduce__(self):
        return (dtype_of, (self.dtype,))


_BY_NUMPY = {}


def dtype_of(numpy_dtype):
    """The srcgrad.dtype of a NumPy dtype (one object per dtype, made on first use)."""
    found = _BY_NUMPY.get(numpy_dtype)
    if found is None:
        numpy_dtype = np.dtype(numpy_dtype)
        found = _BY_NUMPY.get(numpy_dtype)
        if found is None:
            found = _BY_NUMPY[numpy_dtype] = dtype(numpy_dtype)
    return found


float16 = half = dtype_of(np.float16)
float32 = dtype_of(np.float32)
float64 = double = dtype_of(np.float64)
complex64 = cfloat = dtype_of(np.complex64)
complex128 = cdouble = dtype_of(np.complex128)
int8 = dtype_of(np.int8)
int16 = short = dtype_of(np.int16)
int32 = dtype_of(np.int32)
int64 = long = dtype_of(np.int64)
uint8 = dtype_of(np.uint8)
bool_ = dtype_of(np.bool_)

DTYPES = {"float16": float16, "half": half, "float32": float32, "float": float32,
          "float64": float64, "double": double, "complex64": complex64, "cfloat": cfloat,
          "complex128": complex128, "cdouble": cdouble, "int8": int8, "int16": int16,
          "short": short, "int32": int32, "int": int32, "int64": int64, "long": long,
          "uint8": uint8, "bool": bool_}

_default = [np.dtype(np.float32)]  # a list: set_default_dtype changes it in place


def set_default_dtype(d):
    """The dtype of tensors made from Python floats (float32 unless set; float64 is the other
    choice), as PyTorch's ``set_default_dtype``."""
    numpy_dtype = numpy_dtype_of(d)
    if numpy_dtype.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, "
                        f"not {dtype_of(numpy_dtype)}")
    _default[0] = numpy_dtype


def get_default_dtype():
    return dtype_of(_default[0])


def default_float():
    """The NumPy dtype that Python floats become."""
    return _default[0]


def numpy_dtype_of(d):
    """A NumPy dtype from a srcgrad.dtype, a NumPy dtype or type, or a Python type; None stays."""
    if d is None:
        return None
    if isinstance(d, dtype):
        return d.dtype
    if d is float:  # PyTorch reads Python's float as float64, as NumPy does
        return np.dtype(np.float64)
    return np.dtype(d)


def inferred(array, source):
    """The dtype PyTorch gives a tensor made from ``source`` (Python numbers or lists), whose
    values NumPy read as ``array``: floats become the default dtype, complex numbers the complex
    type of that width; NumPy arrays and scalars keep their dtype."""
    if isinstance(source, (np.ndarray, np.generic)):
        return array
    kind = array.dtype.kind
    if kind == "f" and array.dtype != _default[0]:
        return array.astype(_default[0])
    if kind == "c":
        wanted = np.complex64 if _default[0] == np.float32 else np.complex128
        return array.astype(wanted) if array.dtype != wanted else array
    return array


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def category(numpy_dtype):
    return _CATEGORY.get(numpy_dtype.kind, 1)


def _scalar_dtype(value):
    """The dtype a Python number takes part in promotion with (floats: the default dtype)."""
    if isinstance(value, bool):
        return np.dtype(np.bool_)
    if isinstance(value, int):
        return np.dtype(np.int64)
    if isinstance(value, float):
        return _default[0]
    return np.dtype(np.complex64 if _default[0] == np.float32 else np.complex128)


def result_dtype(operands):
    """PyTorch's result type of an elementwise operation on ``operands`` (arrays, 0-d arrays,
    Python numbers): tensors with dimensions decide, unless a 0-d tensor or a Python number is
    of a higher category (bool < integer < float < complex); then that one decides. NumPy would
    let a 0-d float64 array make a float32 result float64."""
    dims, zero_dims, scalars = [], [], []
    for value in operands:
        shape = getattr(value, "shape", None)
        if shape is None:
            scalars.append(_scalar_dtype(value))
        elif shape:
            dims.append(value.dtype)
        else:
            zero_dims.append(value.dtype)
    result = None
    for group in (dims, zero_dims, scalars):
        if group:
            candidate = np.result_type(*group)
            if result is None or category(candidate) > category(result):
                result = candidate
    return result
