"""Reverse mode at a call of a function of the user's: its generated vjp, or its adjoint.

``y = helper(a, b)`` becomes ``y, helper_pullback = helper_vjp(a, b)`` in the primal and
``da, db = helper_pullback(dy)`` in the adjoint. Code that will be differentiated again calls
``helper(a)`` and ``helper_adjoint(dy, a)`` instead: plain functions with no closures between
them. Either derivative is asked of ``link(callee, wrt, mode)``, which the API hands in.
"""
import gast

from ..dynamic import call_vjp
from .analyze import loaded_names
from .build import assign, call, clone, load, located, store
from .holding import OWNED, SHARED, ZERO
from .inline import literal
from .mode import call_arguments, rename_loads, unparse
from .parse import DynamicCallee


class CallAdjoints:
    """The methods of ReverseMode for calls of the user's functions."""

    def user_call(self, stmt, state):
        """``y = helper(a, b)``: call helper's generated vjp; its pullback carries the adjoint.

        The primal becomes ``y, helper_pullback = helper_vjp(a, b)``; the adjoint calls
        ``helper_pullback(dy)`` and adds what it returns into ``da`` and ``db``.
        """
        value, target = stmt.value, stmt.targets[0]
        function = value.sg_user_function
        outputs = [target.id] if isinstance(target, gast.Name) else [e.id for e in target.elts]
        live = [o for o in outputs if o in self.varied and
                state.get(self.adjoint(o), ZERO) != ZERO]
        active = [(param, arg) for param, arg in call_arguments(function, value, stmt, self.parsed, self.varied)
                  if isinstance(arg, gast.Name) and arg.id in self.varied]
        if not live or not active:
            state = dict(state)
            for output in outputs:
                state[self.adjoint(output)] = ZERO
            return [stmt], [], state
        state = dict(state)
        wrt = active[0][0] if len(active) == 1 else tuple(p for p, _ in active)
        cotangents = [load(self.adjoint(o)) if o in live else
                      self.zeros_like(load(o)) for o in outputs]
        cotangent = cotangents[0] if isinstance(target, gast.Name) else \
            gast.Tuple(elts=cotangents, ctx=gast.Load())
        if self.differentiable or getattr(value, "sg_checkpointed", False):
            return self.adjoint_call(stmt, state, function, wrt, active, outputs, cotangent)
        pullback = self.pullback_names[id(stmt)]
        if isinstance(function, DynamicCallee):  # call_vjp(self.helper, wrt, x)
            primal_call = gast.Call(func=load(self.binder.bind("call_vjp", call_vjp)),
                                    args=[clone(value.func), literal(wrt)] + value.args,
                                    keywords=value.keywords)
        else:
            vjp_name = self.binder.bind(f"{function.__name__}_vjp",
                                        self.link(function, wrt, "vjp"))
            self.callees.append(self.binder.bound[vjp_name])
            primal_call = gast.Call(func=load(vjp_name), args=value.args, keywords=value.keywords)
        forward = located(gast.Assign(targets=[gast.Tuple(elts=[clone(target), store(pullback)],
                                                          ctx=gast.Store())],
                                      value=primal_call, type_comment=None), stmt)
        code = self.distribute(stmt, call(pullback, cotangent), active, outputs, state)
        self.locals.add(pullback)
        new = set(outputs) | {pullback}
        read = set().union(*(loaded_names(s) for s in code)) & self.locals
        pushes_after, pops_after, recompute = self.tape.serve_reads(
            read & new, stmt.sg_changed_after | ({pullback} if self.tape.loop_depth else set()), stmt)
        return [forward] + pushes_after, pops_after + recompute + code, state

    def adjoint_call(self, stmt, state, function, wrt, active, outputs, cotangent):
        """``y = helper(a)`` in code that will be differentiated again: the primal call stays,
        and the adjoint calls ``helper_adjoint(dy, a)``, which runs helper again and returns
        da. Plain functions with no closures between them, so a further derivative can go
        through both (and through recursion) as through any of the user's functions."""
        if isinstance(function, DynamicCallee):
            raise self.parsed.unsupported(
                stmt, f"a second derivative through the call {unparse(stmt.value)}, whose "
                "function is known only when it runs (a method, a layer, a partial)",
                "call a plain function of yours there, or give it a rule with srcgrad.defvjp "
                "and srcgrad.defjvp")
        value, target = stmt.value, stmt.targets[0]
        previous = None
        if isinstance(target, gast.Name) and target.id in loaded_names(value):
            previous = self.previous_name(target.id)  # x = helper(x): the adjoint reads old x
        elif not isinstance(target, gast.Name) and set(outputs) & loaded_names(value):
            raise self.parsed.unsupported(
                stmt, f"a second derivative through {unparse(stmt)}, which rebinds an argument "
                "of the call to one of several results", "give the results new names")
        arguments = [rename_loads(clone(a), target.id, previous) if previous else clone(a)
                     for a in value.args]
        keywords = [gast.keyword(arg=k.arg, value=rename_loads(clone(k.value), target.id,
                                                               previous)
                                 if previous else clone(k.value)) for k in value.keywords]
        adjoint_name = self.binder.bind(f"{function.__name__}_adjoint",
                                        self.link(function, wrt, "adjoint"))
        self.callees.append(self.binder.bound[adjoint_name])
        backward = gast.Call(func=load(adjoint_name), args=[cotangent] + arguments,
                             keywords=keywords)
        code = self.distribute(stmt, backward, active, outputs, state)
        name = target.id if isinstance(target, gast.Name) else set(outputs)
        return self.with_reads(stmt, name, code, state, previous)

    def distribute(self, stmt, backward, active, outputs, state):
        """Statements that add the parts of the call's argument adjoints ``backward`` returns
        into those adjoints (updating ``state``)."""
        code, parts = [], []
        if len(active) == 1:
            parts = [backward]
        else:  # adjoints that hold nothing yet take their part directly
            direct = [state.get(self.adjoint(arg.id), ZERO) == ZERO and arg.id not in outputs
                      and [a.id for _, a in active].count(arg.id) == 1 for _, arg in active]
            names = [self.adjoint(arg.id) if d else self.names.fresh(f"d{arg.id}_part")
                     for d, (_, arg) in zip(direct, active)]
            code.append(located(gast.Assign(
                targets=[gast.Tuple(elts=[store(n) for n in names], ctx=gast.Store())],
                value=backward, type_comment=None), stmt))
            for d, (_, arg) in zip(direct, active):
                if d:
                    state[self.adjoint(arg.id)] = SHARED
            parts = [None if d else load(n) for d, n in zip(direct, names)]
        for output in outputs:  # the outputs' adjoints are consumed by the call
            if output not in [arg.id for _, arg in active]:
                state[self.adjoint(output)] = ZERO
        replaced = {}  # x = helper(x, x): the old x's adjoint is the sum of its parts
        for (_, arg), part in zip(active, parts):
            if part is None:
                continue
            if arg.id in outputs:
                replaced[arg.id] = part if arg.id not in replaced else \
                    gast.BinOp(left=replaced[arg.id], op=gast.Add(), right=part)
            else:
                code += self.accumulate(arg.id, part, state, stmt, shaped=True)
        for name, total in replaced.items():  # ... and replaces the new x's adjoint
            code.append(assign(self.adjoint(name), total, stmt))
            state[self.adjoint(name)] = OWNED if isinstance(total, gast.BinOp) else SHARED
        return code
