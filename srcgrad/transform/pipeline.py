"""The passes in order, from a user function to its compiled, readable derivative."""
import copy
from dataclasses import dataclass

import gast

from ..errors import SrcgradError
from .analyze import Activity, assigned_names, loaded_names, local_names, parameter_names
from .build import constant, load, store
from .exits import ExitLowering
from .emit import compile_function, to_source, with_origin_comments
from .names import GlobalBinder, NameAllocator
from .normalize import Desugar, ToANF, version_reassignments
from .optimize import remove_dead_assignments, simplify
from .parse import parse_function
from .reverse import ReverseMode

MODES = ("grad", "value_and_grad", "vjp")


@dataclass
class Generated:
    """A generated derivative: the compiled function and its source text."""

    function: object
    source: str
    name: str
    callees: list  # Derivative objects of the user's functions this code calls


def wrt_names(parsed, wrt):
    """Parameter names for ``wrt`` given as an index, a name, or a tuple of them."""
    params = parameter_names(parsed.tree)
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    names = []
    for item in items:
        if isinstance(item, int) and -len(params) <= item < len(params):
            names.append(params[item])
        elif isinstance(item, str) and item in params:
            names.append(item)
        else:
            raise SrcgradError(f"wrt={wrt!r} does not name a parameter of {parsed.name}"
                               f"({', '.join(params)}); give positions or parameter names")
    return names


def reverse_mode(function, wrt=0, mode="grad", source=None):
    """Generate, compile and return the reverse-mode derivative of ``function``."""
    parsed = parse_function(function, source)
    tree = copy.deepcopy(parsed.tree)
    if tree.args.vararg or tree.args.kwarg:
        raise parsed.unsupported(tree, "a function with *args or **kwargs",
                                 "list the parameters explicitly")
    wrt_list = wrt_names(parsed, wrt)
    params = parameter_names(tree)
    taken = local_names(tree) | loaded_names(tree) | {tree.name}
    names = NameAllocator(taken)
    body = ExitLowering(parsed, names).function(Desugar(parsed, names).function(tree))
    body = version_reassignments(body, params, names)
    locals_ = set(params) | assigned_names(body)
    activity = Activity(parsed.namespace, locals_)
    activity.propagate(body, wrt_list)
    globals_used = set().union(*(loaded_names(s) for s in body)) - locals_
    binder = GlobalBinder(names, parsed.namespace, globals_used)
    body = ToANF(parsed, names, activity, locals_, binder).block(body)
    locals_ = set(params) | assigned_names(body)
    activity.locals = locals_
    activity.propagate(body, wrt_list)
    engine = ReverseMode(parsed, body, params, activity, locals_, names, binder)
    primal, adjoint, result, gradients, seed = engine.sweeps(wrt_list, mode != "vjp")
    adjoint = simplify(adjoint)
    gradient = gradients[0] if not isinstance(wrt, (tuple, list)) else \
        gast.Tuple(elts=gradients, ctx=gast.Load())

    comments = []
    adjoint = with_origin_comments(adjoint, comments)
    stack = engine.stack_names
    prologue = []
    if stack:
        prologue = [_assign(stack[0], gast.List(elts=[], ctx=gast.Load())),
                    _assign(stack[1], _attribute(stack[0], "append"))]
    name = names.fresh(f"{tree.name}_{mode}")
    if mode == "vjp":
        pullback_name = names.fresh(f"{tree.name}_pullback")
        pop_setup = [_assign(stack[2], _attribute_call_attr(stack[0], "copy", "pop"))] if stack else []
        # Names the adjoint rebinds become parameters whose defaults are the primal's final
        # values, so that every call of the pullback starts from the same state.
        rebound = sorted(assigned_names(adjoint) & locals_)
        pullback = _function(pullback_name, [seed] + rebound, pop_setup + adjoint
                             + [gast.Return(value=gradient)], defaults=[load(n) for n in rebound])
        body_out = prologue + primal + [pullback, gast.Return(value=gast.Tuple(
            elts=[copy.deepcopy(result), load(pullback_name)], ctx=gast.Load()))]
    else:
        pop_setup = [_assign(stack[2], _attribute(stack[0], "pop"))] if stack else []
        returned = gradient if mode == "grad" else gast.Tuple(
            elts=[copy.deepcopy(result), gradient], ctx=gast.Load())
        body_out = prologue + primal + pop_setup + adjoint + [gast.Return(value=returned)]
    function_def = gast.FunctionDef(name=name, args=copy.deepcopy(tree.args), body=body_out,
                                    decorator_list=[], returns=None, type_comment=None,
                                    type_params=[])
    remove_dead_assignments(function_def, binder.bound)
    source = to_source(function_def, comments)
    compiled = compile_function(source, name, binder.bound, f"{mode} of {parsed.name}")
    return Generated(compiled, source, name, engine.callees)


def _assign(target, value):
    return gast.Assign(targets=[store(target)], value=value, type_comment=None)


def _attribute(owner, attr):
    return gast.Attribute(value=load(owner), attr=attr, ctx=gast.Load())


def _attribute_call_attr(owner, method, attr):
    called = gast.Call(func=_attribute(owner, method), args=[], keywords=[])
    return gast.Attribute(value=called, attr=attr, ctx=gast.Load())


def _function(name, params, body, defaults=()):
    args = gast.arguments(args=[gast.Name(id=p, ctx=gast.Param(), annotation=None,
                                          type_comment=None) for p in params],
                          posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                          kwarg=None, defaults=list(defaults))
    return gast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])
