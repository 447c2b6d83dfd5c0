"""Forward mode: tangent statements interleaved with the primal, from the forward rules.

Each assignment ``x = op(a, b)`` is followed by ``dx = <term of da> + <term of db>``, where the
terms are the forward rule of ``op`` inlined with the call's names, and only the operands whose
tangents are nonzero contribute. Which tangents are zero is tracked statically, as in reverse
mode; branches and loops get explicit zeros only where paths disagree. The control flow is the
primal's own: nothing runs backwards, so nothing is saved.
"""
import copy
import operator

import gast
import numpy as np

from ..dynamic import call_jvp
from ..errors import qualified_name
from ..rules import forward_rule_for
from .analyze import (annotate_defined, assigned_names, loaded_names, mutated_names, nodes_in,
                      read_before_bound)
from .build import assign, call, clone, constant, expr_stmt, load, located, store
from .inline import inline_rule, literal
from .parse import DynamicCallee
from .parameters import tangent_parameters
from .shapes import infer_shapes
from .specialize import specialize_function
from .holding import OWNED, SHARED, ZERO, merged_state, widen_entry
from .mode import (Mode, appended_list, bind_call, bind_rule, call_arguments, popped_list,
                   rename_loads, replace, unparse)
from .scope import resolve

SUMS = {operator.add, operator.sub, np.add, np.subtract}


class ForwardMode(Mode):
    """Builds the tangent-carrying version of one normalized function."""

    def __init__(self, parsed, body, params, activity, local_names, names, binder):
        super().__init__(parsed, body, params, activity, local_names, names, binder)
        self.tangent = self.derivative
        # Tangents that may hold the 0.0 standing in for an array's zeros (made where the array
        # did not exist yet, e.g. before a loop whose body binds it): an element write into one,
        # or an index of one, first stretches it (runtime.shaped_like).
        self.stand_ins = set()

    def zeros(self, name, defined):
        """Zeros shaped like ``name``, or ``0.0`` where ``name`` may not exist yet (a list
        too: one bound in a loop's body gets its tangent list there)."""
        if name not in defined:
            return constant(0.0)
        if name in self.list_names:
            return call(self.runtime("zeros_like_each"), load(name))
        return self.zeros_like(load(name))

    def written_tape_values(self):
        """In code srcgrad generated (a gradient differentiated again), the names of arrays it
        pushes on its tape (``stack.append(y)``) and writes into (``y[i] = v``)."""
        found = getattr(self, "_written_tape_values", None)
        if found is None:
            from .aliasing import generated_tape
            tape = generated_tape(self.body, self.parsed)
            pushed, written = set(), set()
            if tape is not None:
                for node in nodes_in(gast.Module(body=self.body, type_ignores=[])):
                    if isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store) and \
                            isinstance(node.value, gast.Name):
                        written.add(node.value.id)
                    elif isinstance(node, gast.Expr) and appended_list(node) is not None:
                        items, value = appended_list(node)
                        if items == tape and isinstance(value, gast.Name):
                            pushed.add(value.id)
            found = self._written_tape_values = pushed & written
        return found

    def tangent_or_zeros(self, expr, state, defined):
        """The tangent of an operand as an expression, zeros where it has none."""
        if isinstance(expr, gast.Name) and expr.id in self.varied and \
                state.get(self.tangent(expr.id), ZERO) != ZERO:
            return load(self.tangent(expr.id))
        if isinstance(expr, gast.Name):
            return self.zeros(expr.id, defined | {expr.id})
        if isinstance(expr, (gast.List, gast.Tuple)):  # [W2, b2] in [[W1, b1], [W2, b2]]
            return type(expr)(elts=[self.tangent_or_zeros(e, state, defined) for e in expr.elts],
                              ctx=gast.Load())
        return self.zeros_like(clone(expr))

    # -- statements ----------------------------------------------------------------------------
    def block(self, stmts, state):
        out = []
        for stmt in stmts:
            code, state = self.statement(stmt, state)
            out += code
        return out, state

    def statement(self, stmt, state):
        if appended_list(stmt) is not None:
            return self.append(stmt, state)
        if isinstance(stmt, gast.Assign):
            return self.assignment(stmt, state)
        if isinstance(stmt, gast.If):
            return self.if_statement(stmt, state)
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt, state)
        if isinstance(stmt, gast.Return):
            return [stmt], state
        return [stmt], state

    def assignment(self, stmt, state):
        target, value = stmt.targets[0], stmt.value
        state = dict(state)
        if getattr(value, "sg_user_function", None) is not None:
            return self.user_call(stmt, state)
        if isinstance(target, gast.Subscript):
            return self.element_write(stmt, state)
        if not isinstance(target, gast.Name) or target.id not in self.varied:
            return [stmt], state
        items = popped_list(value)
        if items is not None:  # x = items.pop(): its tangent comes off the tangent list
            if items not in self.varied or state.get(self.tangent(items), ZERO) == ZERO:
                state[self.tangent(target.id)] = ZERO  # a list without tangents gives none
                return [stmt], state
            state[self.tangent(target.id)] = SHARED
            return [stmt, assign(self.tangent(target.id), call(gast.Attribute(
                value=load(self.tangent(items)), attr="pop", ctx=gast.Load())), stmt)], state
        name, tangent = target.id, self.tangent(target.id)
        if not self.activity.is_varied(value):
            if name in self.list_names:  # items = [] (or [a, b]): zeros for each item
                state[tangent] = OWNED
                zeros = gast.List(elts=[self.tangent_or_zeros(e, state, stmt.sg_defined_before)
                                        for e in value.elts], ctx=gast.Load()) \
                    if isinstance(value, gast.List) else self.zeros(name, {name})
                return [stmt, assign(tangent, zeros, stmt)], state
            state[tangent] = ZERO
            return [stmt], state
        previous = self.names.fresh(name + "_prev") if name in loaded_names(value) else None
        terms, prelude = self.terms(stmt, value, state, previous)
        if not terms:
            state[tangent] = ZERO
            return [stmt], state
        total = terms[0]
        for term in terms[1:]:
            if name in self.list_names:  # lists of tangents add element by element
                total = call(self.runtime("add_each"), total, term)
            else:
                total = gast.BinOp(left=total, op=gast.Add(), right=term)
        state[tangent] = OWNED if _is_fresh(total) else SHARED
        code = [located(s, stmt) for s in prelude] + [assign(tangent, total, stmt)]
        read = set().union(*(loaded_names(s) for s in code))
        if read & self.stand_ins:  # dy = dx * 2.0 of a stand-in dx may be a number as well
            self.stand_ins.add(tangent)
        if previous is None or previous not in read:
            return [stmt] + code, state
        if name not in read:  # x = f(x) and the tangent needs only the old x: compute it first
            return [rename_loads(s, previous, name) for s in code] + [stmt], state
        return [assign(previous, load(name), stmt), stmt] + code, state

    def terms(self, stmt, value, state, previous=None):
        """The nonzero terms of an operation's tangent, and the statements they need.

        ``previous`` names the old value of the target where the operation also reads it.
        """
        defined = stmt.sg_defined_before
        if isinstance(value, gast.Name):
            return ([load(self.tangent(value.id))]
                    if state.get(self.tangent(value.id), ZERO) != ZERO else []), []
        if isinstance(value, gast.List):
            if not any(isinstance(e, gast.Name) and e.id in self.varied and
                       state.get(self.tangent(e.id), ZERO) != ZERO for e in value.elts):
                return [], []
            return [gast.List(elts=[self.tangent_or_zeros(e, state, defined) for e in value.elts],
                              ctx=gast.Load())], []
        if isinstance(value, gast.Dict):  # {"loss": l, "logits": z}: a dict of tangents
            if not any(isinstance(e, gast.Name) and e.id in self.varied and
                       state.get(self.tangent(e.id), ZERO) != ZERO for e in value.values):
                return [], []
            return [gast.Dict(keys=[clone(k) for k in value.keys],
                              values=[self.tangent_or_zeros(e, state, defined)
                                      for e in value.values])], []
        primitive, args, keywords = bind_call(value)
        rule = forward_rule_for(primitive)
        if rule is None:
            raise self.parsed.unsupported(stmt, f"the operation {unparse(value)} in forward mode",
                                          "it has no forward rule; register one with "
                                          f"@srcgrad.defjvp({qualified_name(primitive)})")
        bindings = bind_rule(rule, value, args, keywords, self.parsed, stmt, self.binder)
        wanted, stretched = [], []
        for param, tangent_param in zip(rule.differentiable, rule.tangents):
            bound = bindings[param]
            if isinstance(bound, gast.Name):
                live = bound.id in self.varied and state.get(self.tangent(bound.id), ZERO) != ZERO
                bindings[tangent_param] = load(self.tangent(bound.id)) if live else None
                if live and primitive is operator.getitem and \
                        self.tangent(bound.id) in self.stand_ins:  # 0.0[i] would fail
                    stretched.append(assign(self.tangent(bound.id), call(
                        self.runtime("shaped_like"), load(self.tangent(bound.id)),
                        load(bound.id)), stmt))
            elif isinstance(bound, (gast.List, gast.Tuple)):
                live = any(isinstance(e, gast.Name) and e.id in self.varied and
                           state.get(self.tangent(e.id), ZERO) != ZERO for e in bound.elts)
                bindings[tangent_param] = gast.List(
                    elts=[self.tangent_or_zeros(e, state, defined) for e in bound.elts],
                    ctx=gast.Load()) if live else None
            else:
                live = False
                bindings[tangent_param] = None
            if live:
                wanted.append(tangent_param)
        if not wanted:
            return [], []
        for tangent_param in rule.tangents:
            if bindings[tangent_param] is None:
                bindings[tangent_param] = constant(0.0)
        target = stmt.targets[0]
        if previous:
            for param in rule.params:
                bindings[param] = rename_loads(bindings[param], target.id, previous)
        bindings["ans"] = load(target.id)
        prelude, outputs = inline_rule(rule, bindings, wanted, self.names, self.binder,
                                       outputs=rule.tangents)
        prelude = stretched + prelude
        terms = [outputs[t] for t in wanted]
        if primitive in SUMS and len(terms) == len(rule.tangents):
            # Both operands of + or - carry tangents: their sum broadcasts to the result's
            # shape by itself, so the terms need no stretching.
            terms = [_unwrap_broadcast_like(t, self.binder) for t in terms]
        return terms, prelude

    def user_call(self, stmt, state):
        """``y = helper(a)`` -> ``y, dy = helper_jvp(a, da)``."""
        value, target = stmt.value, stmt.targets[0]
        function = value.sg_user_function
        outputs = [target.id] if isinstance(target, gast.Name) else [e.id for e in target.elts]
        active = [(p, a) for p, a in call_arguments(function, value, stmt, self.parsed, self.varied)
                  if isinstance(a, gast.Name) and a.id in self.varied and
                  state.get(self.tangent(a.id), ZERO) != ZERO]
        if not active:
            for output in outputs:
                state[self.tangent(output)] = ZERO
            return [stmt], state
        wrt = active[0][0] if len(active) == 1 else tuple(p for p, _ in active)
        out_tangent = store(self.tangent(outputs[0])) if isinstance(target, gast.Name) else \
            gast.Tuple(elts=[store(self.tangent(o)) for o in outputs], ctx=gast.Store())
        if isinstance(function, DynamicCallee):  # call_jvp(self.helper, wrt, (dx,), x)
            tangents = gast.Tuple(elts=[load(self.tangent(a.id)) for _, a in active],
                                  ctx=gast.Load())
            dynamic = gast.Call(func=load(self.binder.bind("call_jvp", call_jvp)),
                                args=[clone(value.func), literal(wrt), tangents] + value.args,
                                keywords=value.keywords)
            for output in outputs:
                state[self.tangent(output)] = SHARED
            return [located(gast.Assign(targets=[gast.Tuple(elts=[clone(target), out_tangent],
                                                            ctx=gast.Store())],
                                        value=dynamic, type_comment=None), stmt)], state
        jvp_name = self.binder.bind(f"{function.__name__}_jvp", self.link(function, wrt, "jvp"))
        self.callees.append(self.binder.bound[jvp_name])
        tangents = [gast.keyword(arg=name, value=load(self.tangent(a.id))) for name, (_, a) in
                    zip(tangent_parameters(function, wrt), active)]
        out_tangent = store(self.tangent(outputs[0])) if isinstance(target, gast.Name) else \
            gast.Tuple(elts=[store(self.tangent(o)) for o in outputs], ctx=gast.Store())
        forward = located(gast.Assign(
            targets=[gast.Tuple(elts=[clone(target), out_tangent], ctx=gast.Store())],
            value=gast.Call(func=load(jvp_name), args=value.args,
                            keywords=value.keywords + tangents), type_comment=None), stmt)
        for output in outputs:
            state[self.tangent(output)] = SHARED
        return [forward], state

    def element_write(self, stmt, state):
        """``y[i] = v`` -> also ``dy[i] = dv``, in a tangent array of y's own."""
        target, value = stmt.targets[0], stmt.value
        array = target.value.id
        if array not in self.varied:
            return [stmt], state
        tangent = self.tangent(array)
        value_live = isinstance(value, gast.Name) and value.id in self.varied and \
            state.get(self.tangent(value.id), ZERO) != ZERO
        status = state.get(tangent, ZERO)
        if status == ZERO and not value_live:
            return [stmt], state
        code = [stmt]
        if status != ZERO and tangent in self.stand_ins:
            code.append(assign(tangent, call(self.runtime("shaped_like"), load(tangent),
                                             load(array)), stmt))
        if status == ZERO:  # a list (of a primitive's results) gets a list of zeros
            code.append(assign(tangent, self.zeros(array, {array}), stmt))
        elif status == SHARED:
            code.append(assign(tangent, call(self.runtime("copy_of"), load(tangent)), stmt))
        state[tangent] = OWNED
        written = load(self.tangent(value.id)) if value_live else constant(0.0)
        code.append(located(gast.Assign(
            targets=[gast.Subscript(value=load(tangent), slice=clone(target.slice),
                                    ctx=gast.Store())], value=written, type_comment=None), stmt))
        return code, state

    def append(self, stmt, state):
        items, value = appended_list(stmt)
        if items not in self.varied:
            return [stmt], state
        part = self.tangent_or_zeros(value, state, stmt.sg_defined_before)
        if isinstance(value, gast.Name) and value.id in self.written_tape_values():
            # Code srcgrad generated pushes an array it writes into later, and its adjoint puts
            # the elements back before it pops the array: the array comes off the tape as it
            # went on. Its tangent goes on as a copy, so that it comes off as it went on too
            # (whether the tangent's later writes were in place or into a copy).
            part = call(self.runtime("copy_of"), part)
        grow = expr_stmt(call(gast.Attribute(value=load(self.tangent(items)), attr="append",
                                             ctx=gast.Load()), part), stmt)
        return [stmt, grow], state

    # -- control flow --------------------------------------------------------------------------
    def if_statement(self, stmt, state):
        body, body_state = self.block(stmt.body, dict(state))
        orelse, else_state = self.block(stmt.orelse, dict(state))
        merged = {}
        read_elsewhere = _loaded_outside(self.body, stmt)
        for tangent in set(body_state) | set(else_state):
            a, b = body_state.get(tangent, ZERO), else_state.get(tangent, ZERO)
            if (a == ZERO) != (b == ZERO) and self.primal_of[tangent] not in read_elsewhere:
                merged[tangent] = ZERO  # a temporary of one branch: nothing after reads it
                continue
            # Bound on every path through the branch (a name bound only in a nested branch that
            # did not run does not exist: its tangent is the 0.0 stand-in).
            if a == ZERO and b != ZERO:
                body.append(self.materialize(
                    tangent, stmt, read_before_bound(stmt.body, stmt.sg_defined_before)[1]))
                a = OWNED
            elif b == ZERO and a != ZERO:
                orelse.append(self.materialize(
                    tangent, stmt, read_before_bound(stmt.orelse, stmt.sg_defined_before)[1]))
                b = OWNED
            merged[tangent] = merged_state(a, b)
        return [replace(stmt, body=body or [gast.Pass()], orelse=orelse)], merged

    def materialize(self, tangent, like, defined):
        """``dx = zeros_like(x)`` where paths disagree; ``defined``: the names bound there."""
        primal = self.primal_of[tangent]
        if primal not in defined and primal not in self.list_names:
            self.stand_ins.add(tangent)
        return assign(tangent, self.zeros(primal, defined), like)

    def loop(self, stmt, state):
        entry = dict(state)
        # Tangents the next iteration or the code after the loop reads need a value on entry;
        # temporaries of the body do not.
        needed = upward_exposed(stmt.body) | _loaded_outside(self.body, stmt)
        carried = {self.tangent(n) for n in sorted(needed & self.varied)}
        taken = set(self.names.taken)
        bound_in_body = stmt.sg_defined_before | assigned_names(stmt.body)
        for _ in range(8):
            self.reset_names(taken)
            stand_ins = set(self.stand_ins)
            body, exit_state = self.block(stmt.body, dict(entry))
            changed = widen_entry(entry, exit_state, carried)
            # The tangents the setup below (or the end of the body) makes as the 0.0 stand-in,
            # where the primal may not exist yet: the body reads them from the next iteration
            # on, so it is made again knowing them (see materialize).
            for tangent in entry:
                primal = self.primal_of[tangent]
                if entry[tangent] != ZERO and primal not in self.list_names and (
                        (state.get(tangent, ZERO) == ZERO and
                         primal not in stmt.sg_defined_before) or
                        (exit_state.get(tangent, ZERO) == ZERO and primal not in bound_in_body)):
                    self.stand_ins.add(tangent)
            if not changed and self.stand_ins == stand_ins:
                break
        setup = []
        for tangent in sorted(entry):
            if entry[tangent] != ZERO and state.get(tangent, ZERO) == ZERO:
                setup.append(self.materialize(tangent, stmt, stmt.sg_defined_before))
            elif entry[tangent] == OWNED and state.get(tangent) == SHARED:
                setup.append(assign(tangent, call(self.runtime("copy_of"), load(tangent)), stmt))
            if entry[tangent] != ZERO and exit_state.get(tangent, ZERO) == ZERO:
                body.append(self.materialize(tangent, stmt,
                                             stmt.sg_defined_before | assigned_names(stmt.body)))
        return setup + [replace(stmt, body=body)], entry

    # -- specializing to the arguments' shapes ------------------------------------------------
    def specialize(self, function_def, parameter_shapes, user_call=None):
        """The generated ``function_def`` specialized to arguments of these shapes (rewritten in
        place; see specialize.py): no ``broadcast_like`` where nothing broadcasts, numbers'
        zeros that are numbers, arrays' zeros made by ``np.zeros_like``.

        ``parameter_shapes``: the shape of each parameter of the generated function, tangents
        included (a tangent's shape is the caller's, which need not be its primal's);
        ``user_call``: the shape of what a call of a user function returns (pipeline's
        ``returned_shape``)."""
        from .optimize import inline_single_use, remove_dead_assignments

        namespace = self.parsed.namespace

        def resolve_primal(expr):
            return resolve(expr, namespace, self.locals, self.binder.bound)

        primal = infer_shapes(self.body, {name: shape for name, shape in parameter_shapes.items()
                                          if name in self.params},
                              resolve_primal, self.locals, user_call)
        specialize_function(function_def, parameter_shapes, primal,
                            lambda expr, local: resolve(expr, namespace, local, self.binder.bound),
                            self.binder.bind("np", np), user_call)
        # values read only for their shape (the second argument of broadcast_like) may be unread
        # now, and values read once more may move into their reader
        remove_dead_assignments(function_def, self.binder.bound)
        inline_single_use(function_def, self.binder.bound)
        return function_def

    # -- the whole function --------------------------------------------------------------------
    def sweep(self, wrt):
        """(statements, returned value, its tangent expression, tangent parameter names)."""
        *stmts, final = self.body
        annotate_defined(self.body, self.params)
        state = {}
        tangent_params = []
        for name in wrt:
            tangent_params.append(self.tangent(name))
            state[self.tangent(name)] = SHARED
        code, state = self.block(stmts, state)
        result = final.value
        if isinstance(result, gast.Tuple):
            out = gast.Tuple(elts=[self.tangent_or_zeros(e, state, final.sg_defined_before)
                                   for e in result.elts], ctx=gast.Load())
        else:
            out = self.tangent_or_zeros(result, state, final.sg_defined_before)
        return code, result, out, tangent_params


def _loaded_outside(body, loop):
    """Names read anywhere in ``body`` except inside ``loop`` (an ``if`` or a loop statement),
    and the names ``loop`` itself reads before binding them where a loop around it runs it
    again: the next iteration reads what this one leaves."""
    found = set()
    for stmt in body:
        if stmt is loop:
            continue
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            found |= loaded_names(stmt.iter if isinstance(stmt, gast.For) else stmt.test)
            found |= _loaded_outside(stmt.body, loop) | _loaded_outside(stmt.orelse, loop)
            if not isinstance(stmt, gast.If) and _holds(stmt, loop):
                found |= upward_exposed([loop])
        else:
            found |= loaded_names(stmt)
    return found


def _holds(compound, stmt):
    """Whether ``stmt`` is among the statements nested in ``compound``."""
    for child in compound.body + compound.orelse:
        if child is stmt or (isinstance(child, (gast.If, gast.For, gast.While)) and
                             _holds(child, stmt)):
            return True
    return False


def upward_exposed(body, assigned=frozenset()):
    """Names a loop body may read before it assigns them: the values one iteration hands on."""
    assigned, exposed = set(assigned), set()
    for stmt in body:
        if isinstance(stmt, gast.If):
            exposed |= loaded_names(stmt.test) - assigned
            exposed |= upward_exposed(stmt.body, assigned) | upward_exposed(stmt.orelse, assigned)
            assigned |= assigned_names(stmt.body) & assigned_names(stmt.orelse)
        elif isinstance(stmt, (gast.For, gast.While)):
            exposed |= loaded_names(stmt.iter if isinstance(stmt, gast.For) else stmt.test) - \
                assigned
            exposed |= upward_exposed(stmt.body, assigned | assigned_names(stmt.target)
                                      if isinstance(stmt, gast.For) else assigned)
        else:
            exposed |= (loaded_names(stmt) | mutated_names(stmt)) - assigned
            if isinstance(stmt, gast.Assign):
                assigned |= assigned_names(stmt.targets)
    return exposed


def _unwrap_broadcast_like(term, binder):
    """``broadcast_like(t, ans)`` -> ``t``."""
    from ..runtime import broadcast_like
    if isinstance(term, gast.Call) and isinstance(term.func, gast.Name) and \
            binder.bound.get(term.func.id) is broadcast_like:
        return term.args[0]
    return term


def _is_fresh(expr):
    """Is ``expr`` certainly a new array, which an element write may change in place?
    Arithmetic is; a call (``expand_reduced``, ``broadcast_like``: views, perhaps read-only)
    or an item (a view) may not be."""
    return isinstance(expr, (gast.BinOp, gast.UnaryOp))


def _renamed_value(stmt, old, new):
    clone = copy.copy(stmt)
    clone.value = rename_loads(stmt.value, old, new)
    return clone


