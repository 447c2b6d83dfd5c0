"""NumPy functions on Tensors: computed on the arrays inside, recorded with their rule."""
import operator
import os
import sys
import sysconfig

import numpy as np

from ..rules import is_non_differentiable, returns_sequence, rule_for
from ..rules.registry import (KEYWORD_VARIANTS, VJP_RULES, PACKED_ARGUMENTS, missing_rule_advice,
                              packed_form, variant_call)
from ..errors import qualified_name
from ..rules.shape import transpose_attribute
from .errors import NoEagerRule, ShapeError
from .grad_mode import _state as grad_state
from .node import MISSING, RuleLayout, rule_node_class
from .saved import SavedOutput
from .tensor import Tensor

# Results of these functions may be views of their first argument. They share its version
# counter, so that an in-place change through either one is caught by every saved reader.
VIEW_PRIMITIVES = frozenset({
    operator.getitem, np.reshape, np.ravel, np.transpose, transpose_attribute, np.swapaxes,
    np.moveaxis, np.expand_dims, np.squeeze, np.broadcast_to,
})

_layouts = {}  # primitive -> RuleLayout of its rule
SEQUENCES = (list, tuple)


def unwrap(value):
    """The array inside a Tensor, also inside lists and tuples (indices, sequences of arrays)."""
    if isinstance(value, Tensor):
        return value._data
    if type(value) in SEQUENCES:
        return type(value)(unwrap(item) for item in value)
    return value


def wrap(value):
    """Arrays as Tensors that do not require grad; tuples and lists item by item; others as is."""
    if isinstance(value, np.generic):
        return Tensor._make(np.asarray(value))
    if hasattr(value, "__array_function__") and hasattr(value, "shape"):
        return Tensor._make(value)
    if isinstance(value, (list, tuple)):
        items = [wrap(item) for item in value]
        if hasattr(value, "_fields"):  # a named tuple, e.g. the result of np.linalg.svd
            return type(value)(*items)
        return items if isinstance(value, list) else tuple(items)
    return value


def record(primitive, args, kwargs=None, name=None, compute=None):
    """``primitive(*args, **kwargs)`` on the arrays inside; recorded when grad mode is on and a
    Tensor that requires grad is among the arguments. ``name`` overrides the node's name;
    ``compute`` computes the same as ``primitive`` on the arrays, faster (``ndarray.sum`` for
    ``np.sum``), where the caller knows it does."""
    # This runs once per operation on a Tensor: the common case (Tensor arguments, no options,
    # no packed arguments) is written out with as few calls and lookups as it can be.
    if primitive in PACKED_ARGUMENTS:  # np.einsum(s, a, b) is recorded as einsum_of(s, [a, b])
        primitive, args = packed_form(primitive, args)
    if primitive in KEYWORD_VARIANTS:  # np.linalg.svd(a, compute_uv=False) -> svd_values(a)
        routed = variant_call(primitive, args, kwargs or {})
        if routed is not None:
            primitive, args, kwargs = routed
    requires_grad = False
    raw_args = []
    for arg in args:
        if isinstance(arg, Tensor):
            raw_args.append(arg._data)
            if arg._requires_grad:
                requires_grad = True
        elif type(arg) in SEQUENCES:
            raw_args.append(unwrap(arg))
            if not requires_grad:
                requires_grad = any(isinstance(item, Tensor) and item._requires_grad
                                    for item in arg)
        else:
            raw_args.append(arg)
    try:
        if kwargs:
            raw_kwargs = {}
            for key, value in kwargs.items():
                raw_kwargs[key] = unwrap(value)
                if isinstance(value, Tensor) and value._requires_grad:
                    requires_grad = True
            ans = (compute or primitive)(*raw_args, **raw_kwargs)
        else:
            raw_kwargs = None
            ans = (compute or primitive)(*raw_args)
    except ValueError as error:
        raise shape_error(primitive, raw_args, error) from None
    if isinstance(ans, np.generic):
        if primitive is operator.getitem:
            # x[0] of a vector: NumPy gives a number; x[0, ...] is the same element as a 0-d
            # view of x's memory, which a view must be (x[0].mul_(2) changes x).
            index = raw_args[1]
            raw_args[1] = (index, Ellipsis) if type(index) is not tuple else index + (Ellipsis,)
            ans = raw_args[0][raw_args[1]]
        else:
            ans = np.asarray(ans)  # a 0-d array, so that in-place changes and saving work alike
    if requires_grad and grad_state.enabled:
        try:  # the layout cached per primitive, unless its rule was registered anew since
            layout = _layouts[primitive]
            if layout.rule is not VJP_RULES.get(primitive):
                layout = layout_for(primitive)
        except (KeyError, TypeError):  # none yet, or an unhashable callable
            layout = layout_for(primitive)
        if layout is None:
            out = wrap(ans)
        else:
            n = len(args)
            if kwargs or not layout.complete_from <= n <= layout.arity:
                values = bind(layout, args, kwargs, primitive)
            else:  # given positionally or by default: bind's only work would be the options'
                values = list(args) if n == layout.arity else [*args,
                                                               *layout.defaults_in_order[n:]]
                for i in layout.option_indices:
                    if isinstance(values[i], Tensor) or type(values[i]) in SEQUENCES:
                        values = bind(layout, args, kwargs, primitive)
                        break
            node = (layout.node_class if name is None else rule_node_class(name))(layout, values)
            if layout.several:  # np.linalg.eigh ...: one output Tensor per result
                return several_outputs(ans, node)
            out = Tensor._make(ans, node, True)
            if layout.reads_result:
                node.saved_output = SavedOutput(out)
    elif type(ans) is np.ndarray:
        out = Tensor._make(ans)
    else:
        out = wrap(ans)
    if primitive in VIEW_PRIMITIVES:
        share_version_if_view(out, args[0], primitive, raw_args[1:], raw_kwargs or {})
    return out


def several_outputs(ans, node):
    """The results of a primitive that returns several arrays, as Tensors that are outputs
    0, 1 ... of ``node`` (a named tuple stays one)."""
    items = [Tensor._make(np.asarray(item) if isinstance(item, np.generic) else item,
                          grad_fn=node, requires_grad=True, output_nr=k)
             for k, item in enumerate(ans)]
    node.saved_output = tuple(SavedOutput(item) for item in items)
    if hasattr(ans, "_fields"):
        return type(ans)(*items)
    return items if isinstance(ans, list) else tuple(items)


def layout_for(primitive):
    """The layout of ``primitive``'s rule (made again when a rule was registered anew), None
    when it has none; an error if it must have one."""
    rule = rule_for(primitive)
    if rule is None:
        if not is_non_differentiable(primitive):
            raise no_rule_error(primitive)
        return None
    layout = RuleLayout(rule, several=returns_sequence(primitive))
    try:
        _layouts[primitive] = layout
    except TypeError:  # unhashable: made anew each time
        pass
    return layout


def bind(layout, args, kwargs, primitive):
    """The arguments in the order of the rule's parameters, options filled with their defaults.

    Differentiable arguments stay Tensors (they are saved with their versions); options are plain.
    """
    params = layout.rule.params
    if len(args) > len(params):
        raise TypeError(f"{qualified_name(primitive)} got {len(args)} positional arguments, but "
                        f"its derivative rule takes ({', '.join(params)})")
    values = list(args)
    values += layout.defaults_in_order[len(args):]
    if kwargs:
        for key, value in kwargs.items():
            index = layout.index_of_param.get(key)
            if index is None:
                raise TypeError(f"the derivative rule of {qualified_name(primitive)} takes "
                                f"({', '.join(params)}), not the keyword {key!r}; call it "
                                f"without {key!r}, or on tensor.detach() if no gradient is "
                                f"needed")
            values[index] = value
    for index, value in enumerate(values):  # by identity: == on a Tensor is elementwise
        if value is MISSING:
            name = params[index]
            raise TypeError(f"{qualified_name(primitive)} needs the argument {name!r} for its "
                            f"derivative rule ({', '.join(params)})")
    for index in layout.option_indices:
        value = values[index]
        if isinstance(value, Tensor) and value._requires_grad:
            raise NoEagerRule(
                f"{user_location()}: the derivative rule of {qualified_name(primitive)} treats "
                f"its argument {layout.rule.params[index]!r} as a constant, but it was given a "
                f"Tensor that requires grad; pass tensor.detach() if no gradient should flow "
                f"through it, or register a rule that differentiates it (srcgrad.defvjp)")
        values[index] = unwrap(value)  # an option or an index: never differentiated
    return values


def share_version_if_view(out, base, primitive, args, kwargs):
    """A result that shares memory with ``base`` is a view: it shares base's version counter
    and remembers how it was made from the tensor that owns the memory, so that an in-place
    change through it can be recorded on that tensor (``y[1:].mul_(2)``)."""
    if not isinstance(base, Tensor):
        return
    data, base_data = out._data, base._data
    if type(data) is np.ndarray and type(base_data) is np.ndarray:
        # NumPy points a view's .base at the array that owns the memory (a view of a view too),
        # so comparing owners is exact and cheaper than np.may_share_memory.
        owner = data.base
        shares = owner is not None and (owner is base_data or owner is base_data.base)
    else:
        shares = np.may_share_memory(data, base_data)
    if shares:
        out._counter = base._counter
        step = ((primitive, tuple(args), kwargs),)
        if base._base is None:
            out._base, out._view_steps = base, step
        else:
            out._base = base._base
            out._view_steps = base._view_steps + step if base._view_steps is not None else None


def shape_error(primitive, args, error):
    """NumPy's ValueError about shapes as PyTorch words it, a RuntimeError (and a ValueError)."""
    message = str(error)
    shapes = [np.shape(a) for a in args if hasattr(a, "shape")]
    if "broadcast" in message and len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        for k in range(1, max(len(a), len(b)) + 1):
            n, m = (a[-k] if k <= len(a) else 1), (b[-k] if k <= len(b) else 1)
            if n != m and 1 not in (n, m):
                message = (f"The size of tensor a ({n}) must match the size of tensor b ({m}) "
                           f"at non-singleton dimension {max(len(a), len(b)) - k}")
                break
    elif primitive in (operator.matmul, np.matmul) and len(shapes) == 2 and \
            all(len(s) == 2 for s in shapes):
        (n, k), (j, m) = shapes
        message = f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {j}x{m})"
    elif "reshape" in message:
        message = (f"shape '{list(args[1]) if len(args) > 1 else []}' is invalid for input of "
                   f"size {int(np.prod(shapes[0])) if shapes else 0}")
    return ShapeError(message)


def user_location():
    """'file, line N' of the innermost caller outside srcgrad and installed libraries (NumPy,
    SciPy ...), for error messages."""
    skipped = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
               os.path.dirname(os.path.abspath(np.__file__))) + tuple(
        sysconfig.get_paths()[key] + os.sep for key in ("purelib", "platlib"))
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(skipped):
            return f"{filename}, line {frame.f_lineno}"
        frame = frame.f_back
    return "<unknown location>"


def no_rule_error(primitive):
    name = qualified_name(primitive)
    return NoEagerRule(
        f"{user_location()}: srcgrad has no derivative rule for {name}, which was called on a "
        f"Tensor that requires grad. To differentiate it, "
        f"{missing_rule_advice(primitive).replace('; or declare', '. Or declare')}; or write "
        f"a srcgrad.autograd.Function, or pass tensor.detach() if no gradient should flow "
        f"through it.")


# NumPy functions that are also methods of ndarray taking the same arguments after the array:
# on a NumPy array the method computes the same, without NumPy's dispatch in Python
# (np.sum(a) takes twice as long as a.sum() on a small array).
NDARRAY_METHODS = {np.sum: np.ndarray.sum, np.mean: np.ndarray.mean, np.prod: np.ndarray.prod,
                   np.max: np.ndarray.max, np.min: np.ndarray.min, np.amax: np.ndarray.max,
                   np.amin: np.ndarray.min}


def numpy_function(func, args, kwargs):
    """``Tensor.__array_function__``: ``np.sum(t)``, ``np.concatenate([a, b])`` ..."""
    compute = NDARRAY_METHODS.get(func)
    if compute is not None and args and type(args[0]) is Tensor and \
            type(args[0]._data) is np.ndarray:
        return record(func, args, kwargs, compute=compute)
    return record(func, args, kwargs)


def numpy_ufunc(ufunc, method, inputs, kwargs):
    """``Tensor.__array_ufunc__``: ``np.exp(t)``, ``ndarray * t``, ``np.add.at(t, i, v)`` ..."""
    out = kwargs.pop("out", None)
    if method == "__call__" and out is None:
        return record(ufunc, inputs, kwargs)
    from .inplace import add_at, ufunc_into  # deferred: the in-place module builds on this one
    if method == "__call__":
        return ufunc_into(out, ufunc, inputs, kwargs)
    if method == "at" and ufunc is np.add:
        return add_at(*inputs)
    if method == "at" and not isinstance(inputs[0], Tensor):
        from .inplace import refuse_into_array
        refuse_into_array(f"{ufunc.__name__}.at", inputs[1:])
    if out is not None:
        kwargs["out"] = unwrap(out)
    # reduce, accumulate, outer ...: recorded only if a rule was registered for them
    return record(getattr(ufunc, method), inputs, kwargs)
