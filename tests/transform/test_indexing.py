"""Every indexing form in reads, in every mode: None/np.newaxis, Ellipsis, slices mixed with index
arrays, negative steps, boolean masks (each against finite differences through checks)."""
import numpy as np
import pytest

from checks import check_grads


def pairwise(x):
    d = x[:, None] - x[None, :]
    return np.sum(d ** 2)


def columns_and_rows(x):
    return np.sum(x[:, [0, 2]] ** 2) + np.sum(x[[0, 1], :] * 3.0) + \
        np.sum(x[::2, np.newaxis] ** 3)


def ellipsis_and_new_axes(x):
    return np.sum(x[..., None] * x[:, None, :]) + np.sum(x[:, :, None] ** 2)


def arrays_beside_slices(x, idx):
    return np.sum(x[idx, :, 1:] ** 2) + np.sum(x[:, [0, 2], 1] * x[1, [1, 2], :2])


def negative_steps_and_masks(x):
    return np.sum(x[::-1] * np.arange(4.0)) + np.sum(x[np.array([True, False, True, True])] ** 2)


def two_index_arrays_broadcast(x):
    rows = np.array([[0], [2]])
    cols = np.array([1, 3, 1])
    return np.sum(x[rows, cols] ** 2)


@pytest.mark.parametrize("function, args", [
    (pairwise, (np.array([0.1, 0.5, -0.3]),)),
    (columns_and_rows, (np.arange(12.0).reshape(3, 4) / 10,)),
    (ellipsis_and_new_axes, (np.arange(6.0).reshape(2, 3) / 10,)),
    (arrays_beside_slices, (np.arange(24.0).reshape(2, 3, 4) / 10, np.array([1, 0, 1]))),
    (negative_steps_and_masks, (np.array([0.1, 0.5, -0.3, 0.7]),)),
    (two_index_arrays_broadcast, (np.arange(12.0).reshape(3, 4) / 10,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_index_reads_in_every_mode(function, args):
    check_grads(function, *args, wrt=0, order=2 if function is pairwise else 1)
