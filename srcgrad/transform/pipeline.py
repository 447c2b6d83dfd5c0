"""The driver of the transformer: the passes of each mode in order, from a function of the
user's to compiled generated code (the shells around it: assemble.py)."""
import inspect
import weakref
from dataclasses import dataclass

import gast

from ..errors import SrcgradError
from .analyze import (Activity, assigned_names, loaded_names, nodes_in,
                      packed_parameter_names, parameter_names)
from .build import clone
from .assemble import jvp_shell, reverse_shell
from .exits import ExitLowering
from . import fence
from .emit import GENERATED_FROM, compile_function, to_source, with_origin_comments
from .names import GlobalBinder
from .desugar_loops import loops_over_dict_keys
from .normalize import Desugar, ToANF, version_reassignments
from .optimize import (inline_single_use, propagate_copies, remove_dead_assignments,
                       simplify)
from .parameters import allocator, wrt_names
from .parse import parse_function
from .segments import checkpoint_loops
from .forward import ForwardMode
from .hoist import hoist_projections
from .inplace import ufunc_in_place
from .contexts import wrap as wrap_contexts
from .live import LiveGlobals
from .recall import reuse_saved_values
from .methods import reductions_as_methods
from .reverse import ReverseMode
from .scope import resolve
from .dtypes import parameter_kinds
from .reuse import compute_in_place
from .shapes import FOREIGN_ARRAYS, UNKNOWN, Shapes, Tree, argument_shape, infer_shapes

MODES = ("grad", "value_and_grad", "vjp", "jvp")


@dataclass
class Generated:
    """A generated derivative: the compiled function and its source text."""

    function: object
    source: str
    name: str
    callees: list  # Derivative objects of the user's functions this code calls
    containers: bool = False  # takes containers (lists, dicts) whose adjoints are containers

    def __post_init__(self):
        # the compiled function's LiveGlobals, set before the Generated is made: read on
        # every call, so kept at hand
        self.refresh = self.function.__srcgrad_live__.refresh


@dataclass
class Prepared:
    """A function parsed, normalized and analyzed: what either mode starts from."""

    parsed: object
    tree: object
    params: list
    wrt: list
    names: object
    body: list
    activity: object
    locals: set
    binder: object
    tangents: list  # forward mode: the tangent parameter of each wrt argument
    globals_used: set  # the global and closure names the user's function reads
    lifted: list  # its nested functions, lifted (their globals are read at each call too)
    contexts: list  # its with blocks (contexts.py), put back around the generated code


def prepare(function, wrt, source=None, reserve_tangents=False, tangent_names=None):
    """The passes both modes share: parse, desugar, lower exits, version, activity, ANF.

    ``tangent_names``: forward mode's tangent parameters, named by the caller (None when one
    of them is a name of the function's own: the caller then falls back)."""
    parsed = parse_function(function, source)
    fence.check(parsed, parsed.tree)
    tree = clone(parsed.tree)
    wrt_list = wrt_names(parsed, wrt)
    params = parameter_names(tree)
    packed = packed_parameter_names(tree)  # *args, **kwargs: constants
    names = allocator(tree)
    if tangent_names is not None:
        if set(tangent_names) & names.taken:
            return None
        for name in tangent_names:
            names.reserve(name)
        tangents = list(tangent_names)
    else:
        tangents = [names.fresh("d" + p) for p in wrt_list] if reserve_tangents else []
    checkpoint_loops(parsed, tree, names, forward=reserve_tangents)  # sg.checkpoint_range
    desugar = Desugar(parsed, names)
    body = ExitLowering(parsed, names).function(desugar.function(tree))
    body = version_reassignments(body, params + packed, names)
    locals_ = set(params + packed) | assigned_names(body)
    activity = Activity(parsed.namespace, locals_)
    activity.propagate(body, wrt_list)
    if loops_over_dict_keys(body, activity):
        activity.propagate(body, wrt_list)
    globals_used = set().union(*(loaded_names(s) for s in body),
                               *(loaded_names(e) for c in desugar.contexts for e in c[2])) - locals_
    # A nested def, lifted, is bound in the generated code's namespace: not a global to read
    # again at each call (a global of the same name would replace it there).
    lifted = set(desugar.lifting.nested)
    binder = GlobalBinder(names, parsed.namespace, globals_used)
    body = ToANF(parsed, names, activity, locals_, binder).block(body)
    locals_ = set(params + packed) | assigned_names(body)
    activity.locals = locals_
    activity.propagate(body, wrt_list)
    return Prepared(parsed, tree, params, wrt_list, names, body, activity, locals_, binder,
                    tangents, globals_used - lifted,
                    [parsed.namespace[name] for name in sorted(lifted)], desugar.contexts)


def forward_mode(function, wrt=0, source=None, tangent_names=None, signature=None, *,
                 link):
    """Generate, compile and return the forward-mode derivative (jvp) of ``function``.

    The generated function takes the arguments, then one tangent per ``wrt`` argument, and
    returns ``(value, tangent of the value)``. ``tangent_names``: the names those parameters
    must have (None where that is impossible). ``link(callee, wrt, mode)``: the object the
    generated code calls for the derivative of a function of the user's it calls (the API's
    Derivative: the transformer derives, its caller links). ``signature`` (see
    api.argument_signature, the tangents included): the shapes of the arguments the code is
    specialized to; None for code that takes any. The tangent parameters are named the same
    either way.
    """
    p = prepare(function, wrt, source, reserve_tangents=True, tangent_names=tangent_names)
    if p is None:
        return None
    generator = ForwardMode(p.parsed, p.body, p.params, p.activity, p.locals, p.names, p.binder)
    generator.link = link
    for name, tangent in zip(p.wrt, p.tangents):
        generator.derivative_names[name], generator.primal_of[tangent] = tangent, name
    code, result, out_tangent, tangent_params = generator.sweep(p.wrt)
    comments = []
    code = with_origin_comments(simplify(code), comments)
    function_def = jvp_shell(p.names.fresh(f"{p.tree.name}_jvp"), p.tree, code, result,
                             out_tangent, tangent_params)
    name = function_def.name
    remove_dead_assignments(propagate_copies(function_def), p.binder.bound)
    inline_single_use(function_def, p.binder.bound)
    if signature is not None:
        generator.specialize(function_def, parameter_shapes(function, function_def, signature),
                             returned_shape)
    wrap_contexts(function_def, p.contexts)
    source_text = to_source(function_def, comments)
    compiled = compile_function(source_text, name, p.binder.bound, f"jvp of {p.parsed.name}")
    compiled.__srcgrad_live__ = LiveGlobals(p.parsed.function, p.globals_used,
                                            compiled.__globals__, p.lifted)
    GENERATED_FROM[compiled.__code__.co_filename] = p.parsed.filename
    compiled.__srcgrad_tangents__ = tuple(tangent_params)
    return Generated(compiled, source_text, name, generator.callees)


def reverse_mode(function, wrt=0, mode="grad", source=None, signature=None,
                 differentiable=False, *, link):
    """Generate, compile and return the reverse-mode derivative of ``function``.

    ``signature`` (see api.argument_signature): the shapes of the arguments the code is
    specialized to; None for code that takes any. ``mode`` "adjoint" makes
    ``f_adjoint(dresult, *args)``, which runs ``f`` and returns the adjoints of ``wrt``: the
    form a call of ``f`` takes in code that is differentiated again (``differentiable``, always
    so for "adjoint"), where the user's functions are called, and their adjoints called, with
    no closures in between.
    """
    p = prepare(function, wrt, source)
    parsed, tree, params, wrt_list, names = p.parsed, p.tree, p.params, p.wrt, p.names
    body, activity, locals_, binder = p.body, p.activity, p.locals, p.binder
    shapes = None
    if signature is not None:
        shapes = infer_shapes(body, parameter_shapes(function, tree, signature),
                              lambda expr: resolve(expr, parsed.namespace, locals_, binder.bound),
                              locals_, returned_shape)
    generator = ReverseMode(parsed, body, params, activity, locals_, names, binder, shapes,
                            differentiable=differentiable or mode == "adjoint")
    generator.link = link  # see forward_mode
    if shapes is not None:
        # A container's adjoint is a container of its elements' adjoints (a list for a list or
        # tuple, a dict for a dict): containers passed in, and elements that are containers.
        generator.list_names |= {name for name, shape in shapes.items()
                                 if isinstance(shape, Tree)}
        generator.list_names |= elements_maybe_containers(body, generator.list_names, shapes)
    primal, adjoint, result, gradients, seed = generator.sweeps(
        wrt_list, mode not in ("vjp", "adjoint"))
    adjoint = simplify(adjoint)
    gradient = gradients[0] if not isinstance(wrt, (tuple, list)) else \
        gast.Tuple(elts=gradients, ctx=gast.Load())

    comments = []
    adjoint = with_origin_comments(adjoint, comments)
    function_def = reverse_shell(mode, names.fresh(f"{tree.name}_{mode}"), tree, primal,
                                 adjoint, result, gradient, seed, generator.tape.stack_name,
                                 params, locals_, names, binder)
    name = function_def.name
    remove_dead_assignments(propagate_copies(function_def), binder.bound)
    inline_single_use(function_def, binder.bound, generator.shared_arrays)
    if generator.shapes is not None:
        specializer = generator.specializer
        # values read only for their shape may be gone after these
        specializer.final_passes(function_def, binder.bound)
        numpy_arrays = FOREIGN_ARRAYS not in signature[1]  # NumPy's, with their methods
        hoist_projections(function_def, specializer, numpy_arrays)
        reuse_saved_values(function_def, specializer)
        remove_dead_assignments(function_def, binder.bound)
        inline_single_use(function_def, binder.bound, generator.shared_arrays)
        if not differentiable and mode in ("grad", "value_and_grad", "vjp"):
            ufunc_in_place(function_def, specializer, wrt_list)  # wrt: float, by the checks
            compute_in_place(function_def, specializer, parameter_kinds(tree, signature))
        if numpy_arrays:  # NumPy's arrays have .sum(); a duck array may not
            reductions_as_methods(function_def, specializer)  # last: other passes know np.sum's purity
    wrap_contexts(function_def, p.contexts)
    source = to_source(function_def, comments)
    compiled = compile_function(source, name, binder.bound, f"{mode} of {parsed.name}")
    compiled.__srcgrad_live__ = LiveGlobals(parsed.function, p.globals_used, compiled.__globals__,
                                            p.lifted)
    GENERATED_FROM[compiled.__code__.co_filename] = parsed.filename
    containers = generator.shapes is not None and any(
        isinstance(generator.shapes.get(w), Tree) for w in wrt_list)
    return Generated(compiled, source, name, generator.callees, containers)


_returned_shapes = weakref.WeakKeyDictionary()  # function -> {signature: shape or None}


def returned_shape(function, signature):
    """The shape of what a user function returns for arguments of these shapes, or UNKNOWN."""
    if not inspect.isfunction(function):  # a callee known only at run time
        return UNKNOWN
    origin = getattr(function, "__srcgrad_origin__", None)
    if origin is not None:  # generated code: the code made for these shapes knows more
        function = origin.differentiable_for(signature).function
    try:
        known = _returned_shapes.setdefault(function, {})
    except TypeError:  # not weakly referenceable
        return UNKNOWN
    if signature in known:
        # None: a recursive call, still being worked out (a number's shape () is known)
        return UNKNOWN if known[signature] is None else known[signature]
    known[signature] = None
    shape = UNKNOWN
    try:
        p = prepare(function, (), None)
        final = p.body[-1]
        if isinstance(final, gast.Return) and final.value is not None:
            def resolve_here(expr):
                return resolve(expr, p.parsed.namespace, p.locals, p.binder.bound)
            shapes = infer_shapes(p.body, parameter_shapes(function, p.tree, signature),
                                  resolve_here, p.locals, returned_shape)
            shape = Shapes(lambda name: shapes.get(name, UNKNOWN), resolve_here,
                           returned_shape).of(final.value)
            shape = UNKNOWN if shape is None else shape
    except SrcgradError:
        pass  # generating its derivative reports the problem
    known[signature] = shape
    return shape


def parameter_shapes(function, tree, signature):
    """The shape of each parameter for a call with this signature, defaults included."""
    positional, keywords = signature
    args = tree.args
    names = [a.id for a in args.posonlyargs + args.args]
    shapes = {name: UNKNOWN for name in parameter_names(tree)}
    defaults = getattr(function, "__defaults__", None) or ()
    for name, value in zip(names[len(names) - len(defaults):], defaults):
        shapes[name] = argument_shape(value)
    for name, value in (getattr(function, "__kwdefaults__", None) or {}).items():
        shapes[name] = argument_shape(value)
    if len(positional) > len(names) and args.vararg is None:
        return {name: UNKNOWN for name in shapes}  # a wrong call: let it fail as it would
    shapes.update(zip(names, positional))
    shapes.update((name, shape) for name, shape in keywords if name in shapes)
    return shapes


def elements_maybe_containers(body, containers, shapes):
    """Names bound to an element of a container whose shape is not known to be an array's
    (``layer = layers[i]`` over layers of different shapes): their adjoints are built by the
    container helpers, which treat an element that turns out to be an array as one."""
    found, changed = set(), True
    while changed:
        changed = False
        for node in nodes_in(gast.Module(body=body, type_ignores=[])):
            if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name) and \
                    isinstance(node.value, gast.Subscript) and \
                    isinstance(node.value.value, gast.Name) and \
                    node.value.value.id in containers | found and \
                    not isinstance(shapes.get(node.targets[0].id), tuple) and \
                    node.targets[0].id not in found:
                found.add(node.targets[0].id)
                changed = True
    return found
