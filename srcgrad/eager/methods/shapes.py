"""Shapes and views of Tensor (``view``, ``reshape``, ``transpose``, ``squeeze``, ``expand``)."""
import numpy as np

from ...rules.shape import transpose_attribute
from ..dispatch import record
from ..errors import EagerError
from .arguments import shape_arguments


class ShapeMethods:
    """Copied onto Tensor by the package."""

    def reshape(self, *shape):
        return record(np.reshape, (self, shape_arguments(shape)), name="ViewBackward0")

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
            return self.to(shape[0])  # view(dtype): a reinterpretation PyTorch allows
        return record(np.reshape, (self, shape_arguments(shape)), name="ViewBackward0")

    def view_as(self, other):
        return self.view(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        start, end = self._axis(start_dim), self._axis(end_dim)
        shape = self.shape[:start] + (-1,) + self.shape[end + 1:]
        return record(np.reshape, (self, shape), name="ViewBackward0")

    def ravel(self):
        """The elements as one dimension (PyTorch's ``ravel``: ``reshape(-1)``)."""
        return self.reshape(-1)

    def unflatten(self, dim, sizes):
        axis = self._axis(dim)
        return self.reshape(self.shape[:axis] + tuple(sizes) + self.shape[axis + 1:])

    def transpose(self, *axes):
        """Two axes: swap them, as PyTorch's ``transpose(0, 1)`` does (so NumPy's reading of two
        ints as a full permutation is not used); none: reverse all axes; three or more: permute."""
        axes = shape_arguments(axes)
        if len(axes) == 2:
            return record(np.swapaxes, (self, *axes))
        return record(np.transpose, (self, axes or None))

    swapaxes = transpose

    def permute(self, *dims):
        return record(np.transpose, (self, shape_arguments(dims)))

    @property
    def T(self):
        return record(transpose_attribute, (self,))

    @property
    def mT(self):
        return record(np.swapaxes, (self, -2, -1))

    def t(self):
        if self.ndim > 2:
            raise EagerError(f"t() expects a tensor with <= 2 dimensions, but self is "
                             f"{self.ndim}D")
        return record(transpose_attribute, (self,), name="TBackward0")

    def unsqueeze(self, dim):
        return record(np.expand_dims, (self, dim))

    def squeeze(self, dim=None):
        """Axes of length 1 removed: all of them, or ``dim`` (a no-op when its length is not 1,
        as in PyTorch)."""
        if dim is None:
            return record(np.squeeze, (self,), name="SqueezeBackward0")
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = tuple(self._axis(d) for d in dims if self.ndim and self.shape[self._axis(d)] == 1)
        return record(np.squeeze, (self,), {"axis": axes},
                      name="SqueezeBackward1" if not isinstance(dim, (tuple, list))
                      else "SqueezeBackward2")

    def expand(self, *sizes):
        """This tensor broadcast to ``sizes``; -1 keeps an axis's current length."""
        sizes = shape_arguments(sizes)
        offset = len(sizes) - self.ndim
        if offset < 0:
            raise EagerError(f"expand: the number of sizes provided ({len(sizes)}) must be "
                             f"greater or equal to the number of dimensions in the tensor "
                             f"({self.ndim})")
        shape = tuple(self.shape[i - offset] if n == -1 else n for i, n in enumerate(sizes))
        return record(np.broadcast_to, (self, shape), name="ExpandBackward0")

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *sizes):
        """The tensor tiled ``sizes`` times along each axis (broadcast, then reshaped: the rules
        of both give the gradient, summed over the copies)."""
        sizes = shape_arguments(sizes)
        shape = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
        interleaved, stretched, final = [], [], []
        for count, n in zip(sizes, shape):
            interleaved += [1, n]
            stretched += [count, n]
            final.append(count * n)
        x = self.reshape(interleaved)
        x = record(np.broadcast_to, (x, tuple(stretched)), name="ExpandBackward0")
        return record(np.reshape, (x, tuple(final)), name="RepeatBackward0")

    def flip(self, *dims):
        return record(np.flip, (self, shape_arguments(dims)))

    def narrow(self, dim, start, length):
        axis = self._axis(dim)
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    def split(self, split_size, dim=0):
        axis = self._axis(dim)
        n = self.shape[axis]
        sizes = ([split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
                 if isinstance(split_size, int) else list(split_size))
        starts = np.cumsum([0] + sizes[:-1])
        return tuple(self.narrow(axis, int(s), size) for s, size in zip(starts, sizes))

    def chunk(self, chunks, dim=0):
        n = self.shape[self._axis(dim)]
        return self.split(-(-n // chunks), dim)

    def unbind(self, dim=0):
        axis = self._axis(dim)
        return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))

    def contiguous(self):
        return self

    def clone(self):
        """A copy of the data that stays in the graph (gradients flow through it unchanged)."""
        return record(np.copy, (self,), name="CloneBackward0")

    def copy(self):
        """NumPy's name for ``clone``, so NumPy code that copies an array runs on Tensors."""
        return self.clone()
