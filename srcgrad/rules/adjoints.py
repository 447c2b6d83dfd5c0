"""Rules of the helpers that generated derivatives call, so derivatives can be differentiated.

``sg.grad(sg.grad(f))`` transforms the generated gradient of ``f`` again; ``sg.hessian`` runs
forward mode over it. Generated code calls ``unbroadcast``, ``expand_reduced`` and friends, so
they need rules of their own, written in terms of primitives that have rules, so that every
order can be taken again. Parameter names differ from the helpers' where a helper's own name
(``g``, ``ans``) would clash with a rule's; generated code passes these arguments by position.
"""
import numpy as np

from ..runtime import (_normed_axes, add_at, add_each, add_field, array_adjoint, array_library,
                       broadcast_back, broadcast_like, cast_like, copy_of, count_of, expect_array,
                       expand_reduced, field_adjoint, items_adjoint,
                       inverse_permutation, ndim_of, ravel_in, refuse_in_place, reshape_to,
                       scalar_seed, scattered, shape_of, single_result, size_of, split_like, stacked_like,
                       tensordot_axes, unbroadcast, unknown_matrix_norm, unstack, zeros_like,
                       zeros_like_each)
from .registry import jvp, non_differentiable, sequence_result, vjp


@vjp(unbroadcast)
def unbroadcast_rule(g, ans, value, like):
    return broadcast_back(g, value), None


@vjp(broadcast_back)
def broadcast_back_rule(g, ans, grad, value):
    return unbroadcast(g, grad), None


@jvp(broadcast_back)
def broadcast_back_jvp(ans, grad, value, *, dgrad):
    return broadcast_back(dgrad, value)


@jvp(unbroadcast)
def unbroadcast_jvp(ans, value, like, *, dvalue):
    return unbroadcast(dvalue, like)


@vjp(expand_reduced)
def expand_reduced_rule(g, ans, value, like, axis, keepdims):
    # unbroadcast: summed down to value's shape, also where value is the 0.0 that stands in
    # for the adjoint of an array bound in a loop (reverse_flow.zero_at_start)
    return unbroadcast(np.sum(g, axis=axis, keepdims=keepdims), value), None, None, None


@jvp(expand_reduced)
def expand_reduced_jvp(ans, value, like, axis, keepdims, *, dvalue):
    return expand_reduced(dvalue, like, axis, keepdims)


@vjp(broadcast_like)
def broadcast_like_rule(g, ans, term, like):
    return unbroadcast(g, term), None


@jvp(broadcast_like)
def broadcast_like_jvp(ans, term, like, *, dterm):
    return broadcast_like(dterm, like)


@vjp(cast_like)
def cast_like_rule(g, ans, value, like):
    return cast_like(g, value), None


@jvp(cast_like)
def cast_like_jvp(ans, value, like, *, dvalue):
    return cast_like(dvalue, like)


@vjp(copy_of)
def copy_of_rule(g, ans, value):
    return g


@jvp(copy_of)
def copy_of_jvp(ans, value, *, dvalue):
    return copy_of(dvalue)


@vjp(reshape_to)
def reshape_to_rule(g, ans, value, shape, order="C"):
    return reshape_to(g, shape_of(value), order), None


@jvp(reshape_to)
def reshape_to_jvp(ans, value, shape, order="C", *, dvalue):
    return reshape_to(dvalue, shape, order)


@vjp(ravel_in)
def ravel_in_rule(g, ans, value, order="C"):
    return reshape_to(g, shape_of(value), order)


@jvp(ravel_in)
def ravel_in_jvp(ans, value, order="C", *, dvalue):
    return ravel_in(dvalue, order)


@vjp(split_like)
def split_like_rule(g, ans, value, arrays, axis):
    # g holds one adjoint per piece: joined again they make the adjoint of the whole.
    return np.concatenate(g, axis), None, None


@jvp(split_like)
def split_like_jvp(ans, value, arrays, axis, *, dvalue):
    return split_like(dvalue, arrays, axis)


@vjp(unstack)
def unstack_rule(g, ans, value, axis):
    return np.stack(g, axis), None


@jvp(unstack)
def unstack_jvp(ans, value, axis, *, dvalue):
    return unstack(dvalue, axis)


@vjp(single_result)
def single_result_rule(g, ans, value, flag, option):
    return g, None, None


@jvp(single_result)
def single_result_jvp(ans, value, flag, option, *, dvalue):
    return dvalue


@vjp(add_at)
def add_at_rule(g, ans, into, index, values):
    return g, None, unbroadcast(g[index], values)


@jvp(add_at)
def add_at_jvp(ans, into, index, values, *, dinto, dvalues):
    return dinto, add_at(np.zeros_like(ans), index, dvalues)


@vjp(scattered)
def scattered_rule(g, ans, like, index, values):
    return None, None, unbroadcast(g[index], values)


@jvp(scattered)
def scattered_jvp(ans, like, index, values, *, dvalues):
    return scattered(like, index, dvalues)


@vjp(add_each)
def add_each_rule(g, ans, left, right):
    return g, g


@jvp(add_each)
def add_each_jvp(ans, left, right, *, dleft, dright):
    return dleft, dright


@vjp(array_adjoint)
def array_adjoint_rule(g, ans, value, object):
    # g holds one adjoint per element of object, nested as it is: stacked they make value's.
    return stacked_like(g, object), None


@jvp(array_adjoint)
def array_adjoint_jvp(ans, value, object, *, dvalue):
    return array_adjoint(dvalue, object)


@vjp(stacked_like)
def stacked_like_rule(g, ans, arrays, object):
    return array_adjoint(g, object), None


@jvp(stacked_like)
def stacked_like_jvp(ans, arrays, object, *, darrays):
    return stacked_like(darrays, object)


@vjp(add_field)
def add_field_rule(g, ans, into, x, name, value):
    # The adjoint of the container passes through; the added value's is its entry in it.
    return g, None, None, field_adjoint(g, x, name)


@jvp(add_field)
def add_field_jvp(ans, into, x, name, value, *, dinto, dvalue):
    return dinto, add_field(zeros_like_each(ans), x, name, dvalue)


@vjp(field_adjoint)
def field_adjoint_rule(g, ans, into, x, name):
    return add_field(zeros_like_each(into), x, name, g), None, None


@jvp(field_adjoint)
def field_adjoint_jvp(ans, into, x, name, *, dinto):
    return field_adjoint(dinto, x, name)


@vjp(items_adjoint)
def items_adjoint_rule(g, ans, iterable, a_list):
    # A list adjoint passes through (the 0.0 stand-in it may replace is a constant). The
    # parameters' names keep a list argument a list (anf_calls.SEQUENCE_PARAMETERS).
    return g, None


@jvp(items_adjoint)
def items_adjoint_jvp(ans, iterable, a_list, *, diterable):
    return items_adjoint(diterable, ans)


sequence_result(add_field, split_like, unstack, zeros_like_each, add_each, items_adjoint)
non_differentiable(refuse_in_place, expect_array, unknown_matrix_norm, _normed_axes, inverse_permutation,
                   tensordot_axes, array_library, count_of, shape_of, ndim_of, size_of,
                   scalar_seed, zeros_like, zeros_like_each, getattr, hasattr, isinstance)
