"""The function shells around generated code: ``f_jvp``, ``f_grad``, ``f_value_and_grad``,
``f_vjp`` with its pullback, and ``f_adjoint``, each taking the user's parameters."""
import gast

from ..runtime import copy_of, own_copies
from .analyze import assigned_names, loaded_names, mutated_names, read_before_bound
from .build import clone, load, store


def jvp_shell(name, tree, code, result, out_tangent, tangent_params):
    """``def f_jvp(<f's parameters>, <tangents>): <code>; return value, tangent``. Tangents
    are keyword-only after defaults, ``*args`` or keyword-only parameters."""
    args = _without_annotations(clone(tree.args))
    tangents = [gast.Name(id=t, ctx=gast.Param(), annotation=None, type_comment=None)
                for t in tangent_params]
    if args.defaults or args.kwonlyargs or args.vararg:  # keyword-only after those
        args.kwonlyargs += tangents
        args.kw_defaults += [None] * len(tangents)
    else:
        args.args += tangents
    returned = gast.Return(value=gast.Tuple(elts=[clone(result), out_tangent],
                                            ctx=gast.Load()))
    return gast.FunctionDef(name=name, args=args, body=code + [returned],
                            decorator_list=[], returns=None, type_comment=None,
                            type_params=[])


def reverse_shell(mode, name, tree, primal, adjoint, result, gradient, seed, stack, params,
                  local_names, names, binder):
    """The function of ``mode`` ("grad", "value_and_grad", "vjp" or "adjoint") around the
    primal and adjoint statements: ``gradient`` is what it returns for the ``wrt`` arguments,
    ``seed`` the name of the output's adjoint (the pullback's or f_adjoint's first parameter),
    ``stack`` the name of the list of saved values, or None."""
    locals_ = local_names
    prologue = [_assign(stack, gast.List(elts=[], ctx=gast.Load()))] if stack else []
    args = _without_annotations(clone(tree.args))
    if mode == "adjoint":
        seed_parameter = gast.Name(id=seed, ctx=gast.Param(), annotation=None, type_comment=None)
        (args.posonlyargs if args.posonlyargs else args.args).insert(0, seed_parameter)
        body_out = prologue + primal + adjoint + [gast.Return(value=gradient)]
    elif mode == "vjp":
        pullback_name = names.fresh(f"{tree.name}_pullback")
        # Names the adjoint rebinds become parameters whose defaults are the primal's final
        # values, and the saved values are copied, so every call of the pullback starts from
        # the same state.
        # Only names it may read before it binds them need that; where the primal may leave
        # one unbound (bound in a branch or loop that did not run), it starts as None.
        read_first = read_before_bound(adjoint, {seed})[0]
        # Arrays and lists the adjoint changes in place (elements put back, items popped) are
        # copied on entry too, so a second call finds them as the primal left them.
        changed_in_place = mutated_names(adjoint) & locals_ - {stack}
        rebound = sorted((assigned_names(adjoint) & locals_ & read_first) | changed_in_place |
                         ({stack} if stack else set()))
        maybe_unbound = set(rebound) - read_before_bound(primal, params)[1] - {stack}
        prologue += [_assign(n, gast.Constant(value=None, kind=None)) for n in sorted(maybe_unbound)]
        copy_stack = [_assign(stack, gast.Call(func=load(binder.bind("list", list)), args=[load(stack)],
                                               keywords=[]))] if stack else []
        if changed_in_place:
            changed = sorted(changed_in_place)
            copier = gast.Call(func=load(binder.bind("own_copies", own_copies)),
                               args=[load(stack) if stack else gast.Constant(value=None, kind=None)]
                               + [load(n) for n in changed], keywords=[])
            targets = [store(stack) if stack else store(names.fresh("_"))] + \
                [store(n) for n in changed]
            copy_stack = [gast.Assign(targets=[gast.Tuple(elts=targets, ctx=gast.Store())],
                                      value=copier, type_comment=None)]
        pullback = _function(pullback_name, [seed] + rebound, copy_stack + adjoint
                             + [gast.Return(value=gradient)], defaults=[load(n) for n in rebound])
        body_out = prologue + primal + [pullback, gast.Return(value=gast.Tuple(
            elts=[clone(result), load(pullback_name)], ctx=gast.Load()))]
    else:
        kept = []
        if mode == "value_and_grad":
            result, kept = _value_kept_from(result, adjoint, names, binder)
        returned = gradient if mode == "grad" else gast.Tuple(
            elts=[clone(result), gradient], ctx=gast.Load())
        body_out = prologue + primal + kept + adjoint + [gast.Return(value=returned)]
    return gast.FunctionDef(name=name, args=args, body=body_out, decorator_list=[],
                            returns=None, type_comment=None, type_params=[])


def _value_kept_from(result, adjoint, names, binder):
    """The function's value as the primal left it, whatever the adjoint rebinds or restores.

    Returns (expression to return, statements to run between the primal and the adjoint).
    """
    if not isinstance(result, gast.Name):  # a value no derivative reaches: computed now
        changed = assigned_names(adjoint) | mutated_names(adjoint)
        if not loaded_names(result) & changed:
            return result, []
        value = names.fresh("value")
        return load(value), [_assign(value, result)]
    if result.id in mutated_names(adjoint):  # restored element by element: keep a copy
        value = names.fresh("value")
        copied = gast.Call(func=load(binder.bind("copy_of", copy_of)), args=[load(result.id)],
                           keywords=[])
        return load(value), [_assign(value, copied)]
    if result.id in assigned_names(adjoint):
        value = names.fresh("value")
        return load(value), [_assign(value, load(result.id))]
    return result, []


def _without_annotations(args):
    """Parameters without their annotations: the generated code never evaluates the user's
    types (a class its namespace may not have)."""
    for parameter in args.posonlyargs + args.args + args.kwonlyargs + \
            [a for a in (args.vararg, args.kwarg) if a is not None]:
        parameter.annotation = None
    return args


def _assign(target, value):
    return gast.Assign(targets=[store(target)], value=value, type_comment=None)


def _function(name, params, body, defaults=()):
    args = gast.arguments(args=[gast.Name(id=p, ctx=gast.Param(), annotation=None,
                                          type_comment=None) for p in params],
                          posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                          kwarg=None, defaults=list(defaults))
    return gast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])
