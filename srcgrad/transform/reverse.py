"""Reverse mode: from a normalized function, the primal sweep and the adjoint sweep.

The adjoint sweep visits the primal's statements in reverse. For each assignment it inlines the
operation's derivative rule and adds the result into the adjoints of the operands. Which adjoints
hold a value is tracked statically (ZERO: none yet, SHARED: holds a value that may alias another,
OWNED: a fresh array this function may update in place), so no zero arrays are made where an
adjoint is simply assigned, and branches and loops get explicit zeros only where paths disagree.

Values that the adjoint reads are served, in order of preference, by: the primal variable itself
when nothing rebinds it later (``safe``); recomputing a cheap view such as ``err[i]`` from safe
names (``rematerialize``); or saving it on a stack in the primal and popping it in the adjoint.
A value needed when the adjoint of a compound statement starts is pushed when its primal ends,
so pushes and pops always pair up last-in, first-out.
"""
import gast

from ..errors import NonScalarOutput
from ..rules import rule_for
from ..runtime import scalar_seed, unbroadcast
from .adjoint_shapes import AdjointSpecializer
from .adjoints import AdjointBookkeeping
from .analyze import (annotate_available, annotate_defined, annotate_changed_later, assigned_names,
                      loaded_names, nodes_in)
from .build import assign, call, constant, load, located, subscript
from .holding import SHARED, ZERO
from .inline import inline_rule
from .invariance import zero_shift_adjoints
from .mode import (Mode, appended_list, bind_call, bind_rule, is_active, popped_list, rename_loads,
                   unparse)
from .scope import resolve
from .reverse_calls import CallAdjoints
from .reverse_flow import ControlFlowAdjoints
from .reverse_writes import InPlaceAdjoints, original_name, range_loop_targets
from .shapes import UNKNOWN, is_known
from .tape import Tape


class ReverseMode(AdjointBookkeeping, CallAdjoints, InPlaceAdjoints, ControlFlowAdjoints, Mode):
    """Builds the two sweeps of one function; see the module docstring for the strategy."""

    def __init__(self, parsed, body, params, activity, local_names, names, binder, shapes=None,
                 differentiable=False):
        super().__init__(parsed, body, params, activity, local_names, names, binder)
        # Code that will be differentiated again: it calls helper(a) and helper_adjoint(dy, a)
        # instead of a vjp and its pullback closure (see adjoint_call), and never updates an
        # array in place that another name may hold (the next transformation refuses that).
        self.differentiable = differentiable
        self.shapes = shapes  # name -> shape for the arguments' shapes (shapes.py), or None
        self.tape = Tape(body, params, local_names, names, parsed.namespace)  # what the adjoint reads, and how
        self.previous_names = {}  # x -> x_prev, the value before x = f(x)
        self.previous_of = {}  # x_prev -> x
        # adjoint -> the adjoints holding the same array after a handover (see heir): tidying
        # must not move a read of one past an in-place update of another
        self.shared_arrays = {}
        self.specializer = AdjointSpecializer(
            shapes, self.primal_of, self.previous_of, self.list_names, _indexed_names(body),
            params, self.resolve, self.np_function, names, self.shared_arrays, differentiable)
        self.stand_in_used = False  # has a 0.0 stood in for an array's adjoint anywhere?
        self.zero_shifts = {}  # id of y = x - c -> c, whose adjoint is zero (invariance.py)
        self.operations = {}  # id of x = op(...) -> (it, rule, bindings, wanted): see operation_sources
        self.integer_names = range_loop_targets(body)
        self.pullback_names = {  # named in the order the calls appear
            id(node): names.fresh(f"{node.value.sg_user_function.__name__}_pullback")
            for node in gast.walk(gast.Module(body=body, type_ignores=[]))
            if isinstance(node, gast.Assign) and
            getattr(node.value, "sg_user_function", None) is not None}
        self.adjoint = self.derivative

    def resolve(self, expr):
        """The object a name or attribute names in generated code (``np.sum``, a helper)."""
        return resolve(expr, self.parsed.namespace, self.locals, self.binder.bound)

    def block(self, stmts, state):
        """(primal, adjoint, state before the block) for a list of statements."""
        primal, adjoint = [], []
        for stmt in reversed(stmts):
            forward, backward, state = self.statement(stmt, state)
            primal[:0] = forward
            adjoint.extend(backward)
        return primal, adjoint, state

    def statement(self, stmt, state):
        if appended_list(stmt) is not None:
            return self.append(stmt, state)
        if isinstance(stmt, gast.Assign):
            return self.assignment(stmt, state)
        if isinstance(stmt, gast.If):
            return self.if_statement(stmt, state)
        if isinstance(stmt, gast.For):
            return self.for_loop(stmt, state)
        if isinstance(stmt, gast.While):
            return self.while_loop(stmt, state)
        return [stmt], [], state

    def assignment(self, stmt, state):
        target = stmt.targets[0]
        if getattr(stmt.value, "sg_user_function", None) is not None:
            return self.user_call(stmt, state)
        if isinstance(target, gast.Subscript):
            return self.element_write(stmt, state)
        if popped_list(stmt.value) is not None:
            return self.pop_statement(stmt, state)
        if not isinstance(target, gast.Name) or target.id not in self.varied:
            return [stmt], [], state
        name = target.id
        adjoint = self.adjoint(name)
        if state.get(adjoint, ZERO) == ZERO:
            return [stmt], [], state
        state = dict(state)
        value = stmt.value
        if not self.activity.is_varied(value):
            state[adjoint] = ZERO  # a constant or inactive value: nothing flows back
            return [stmt], [], state
        if isinstance(value, (gast.List, gast.Dict)):  # items = [a, b]: each element's adjoint
            sources = {}
            pairs = enumerate(value.elts) if isinstance(value, gast.List) else \
                zip((k.value for k in value.keys), value.values)
            for position, element in pairs:
                if isinstance(element, gast.Name) and element.id in self.varied:
                    sources.setdefault(element.id, []).append(
                        subscript(load(adjoint), constant(position)))
            code = self.contributions(stmt, name, sources, state)
            return self.with_reads(stmt, name, code, state)
        rule, bindings, wanted = self.operation_sources(stmt)
        if rule is None and isinstance(value, gast.Name) and value.id in self.varied:
            code = self.contributions(stmt, name, {value.id: [load(adjoint)]}, state)
            return self.with_reads(stmt, name, code, state)
        if not wanted:
            state[adjoint] = ZERO
            return [stmt], [], state
        previous = None
        if name in loaded_names(value):  # x = f(x): the old x gets a name of its own
            previous = self.previous_name(name)
        for param in list(bindings):
            if previous:
                bindings[param] = rename_loads(bindings[param], name, previous)
        bindings["g"] = load(adjoint)
        bindings["ans"] = load(name)
        if rule.accumulates:
            code = self.accumulating_rule(stmt, rule, bindings, name, previous, state)
        else:
            prelude, outputs = inline_rule(rule, bindings, wanted, self.names, self.binder)
            prelude, outputs = self.specializer.specialize_rule(prelude, outputs)
            prelude, outputs = self.tape.reuse_available(prelude, outputs, stmt.sg_available, self.resolve)
            sources = {}
            for param in wanted:
                bound, output = bindings[param], outputs[param]
                if isinstance(bound, gast.Name):
                    sources.setdefault(original_name(bound.id, name, previous), []).append(output)
                else:  # a list of arrays (np.stack, np.concatenate): one adjoint per element
                    parts = self.names.fresh("d" + param)
                    prelude.append(assign(parts, output, stmt))
                    for position, element in enumerate(bound.elts):
                        if is_active(element, self.varied):
                            sources.setdefault(original_name(element.id, name, previous), []).append(
                                subscript(load(parts), constant(position)))
            code = [located(s, stmt) for s in prelude]
            code += self.contributions(stmt, name, sources, state)
        return self.with_reads(stmt, name, code, state, previous)

    def operation_sources(self, stmt):
        """(rule, bindings, wanted) of ``x = op(...)``: the rule of the operation, its arguments
        by parameter name, and the parameters whose operands get a part of x's adjoint (none
        where the operation has no derivative for them, or the shift cancels: invariance.py)."""
        known = self.operations.get(id(stmt))  # asked by holding_flow, then by assignment
        if known is None or known[0] is not stmt:
            rule, bindings = self.bind_operation(stmt.value, stmt)
            wanted = [p for p in (rule.differentiable if rule else ())
                      if is_active(bindings[p], self.varied) and p not in rule.no_adjoint]
            number = self.zero_shifts.get(id(stmt))
            if number is not None:  # y = x - max(x) read only shift-invariantly: sum(dy) is 0
                wanted = [p for p in wanted if not (isinstance(bindings[p], gast.Name) and
                                                    bindings[p].id == number)]
            known = self.operations[id(stmt)] = (stmt, rule, bindings, wanted)
        _, rule, bindings, wanted = known
        return rule, dict(bindings), list(wanted)  # the caller may rename what they bind

    def previous_name(self, name):
        """The name the value of ``name`` before ``name = f(name)`` goes by in the adjoint."""
        if name not in self.previous_names:
            self.previous_names[name] = self.names.fresh(name + "_prev")
            self.previous_of[self.previous_names[name]] = name
        return self.previous_names[name]

    def with_reads(self, stmt, name, code, state, previous=None):
        """Wrap an assignment's adjoint code with what it needs of primal values. ``name``:
        the name the statement binds (or the set of them)."""
        read = set().union(*(loaded_names(s) for s in code)) if code else set()
        new = (name if isinstance(name, set) else {name}) & read
        old = read - new - {previous}
        if previous and previous in read:
            old.add(previous)
        pushes_before, pops_before, recompute = self.tape.serve_reads(
            old, stmt.sg_changed_from, stmt, pop_into={previous: name} if previous else None)
        pushes_after, pops_after, recompute_new = self.tape.serve_reads(new, stmt.sg_changed_after, stmt)
        primal = pushes_before + [stmt] + pushes_after
        adjoint = pops_after + pops_before + recompute_new + recompute + code
        return primal, adjoint, state

    def bind_operation(self, value, stmt):
        """The rule of the operation ``value`` performs and its arguments by parameter name."""
        primitive, args, keywords = bind_call(value)
        if primitive is None and args is None:
            return None, {}
        rule = rule_for(primitive)
        if rule is None:
            raise self.parsed.unsupported(stmt, f"the operation {unparse(value)}",
                                          "it has no derivative rule")
        return rule, bind_rule(rule, value, args, keywords, self.parsed, stmt, self.binder)

    def sweeps(self, wrt, scalar_output):
        """(primal statements, adjoint statements, returned value, adjoint expressions of wrt,
        name of the output's adjoint).

        With ``scalar_output`` (grad) the output must be a scalar and its adjoint starts at 1;
        otherwise (vjp) the output's adjoint is a parameter of the pullback.
        """
        *stmts, final = self.body
        annotate_changed_later(self.body)
        annotate_defined(self.body, self.params)
        annotate_available(self.body)
        if self.shapes is not None:
            self.zero_shifts = zero_shift_adjoints(
                self.body, lambda name: self.shapes.get(name, UNKNOWN),
                lambda node: getattr(node, "sg_function", None) or self.resolve(node.func))
        result = final.value
        state, seed_code = {}, []
        if isinstance(result, gast.Tuple):
            if scalar_output:
                raise NonScalarOutput(
                    f"grad needs {self.parsed.name} to return a scalar, but it returns a tuple "
                    f"({self.parsed.filename}, line {final.lineno}); use srcgrad.vjp")
            output_adjoint = self.names.fresh("dresult")
            for position, element in enumerate(result.elts):
                if isinstance(element, gast.Name) and element.id in self.varied:
                    seed_code += self.accumulate(
                        element.id, subscript(load(output_adjoint), constant(position)), state,
                        final)
        elif isinstance(result, gast.Name) and result.id in self.varied:
            output_adjoint = self.adjoint(result.id)
            state[output_adjoint] = SHARED
            if not scalar_output and self.shapes is not None and \
                    is_known(self.shapes.get(result.id)) and self.shapes[result.id] != ():
                # The caller's cotangent may be a number standing for an array: give it shape.
                seed_code.append(assign(output_adjoint, call(
                    self.runtime("broadcast_like"), load(output_adjoint), load(result.id)), final))
            elif not scalar_output:
                self.specializer.seed_parameter = output_adjoint
            if scalar_output:
                check = call(self.binder.bind("scalar_seed", scalar_seed), load(result.id),
                             constant(self.parsed.name))
                seed_code.append(assign(output_adjoint, check, final))
        else:
            output_adjoint = self.names.fresh("dout")
        primal, adjoint, state = self.block(stmts, state)
        gradients = []
        start_reads = set()
        for name in wrt:
            adjoint_name = self.adjoint(name)
            if state.get(adjoint_name, ZERO) == ZERO:
                if self.specializer.is_number(name):
                    gradients.append(constant(0.0))
                    continue
                gradients.append(call(self.runtime("zeros_like_each"), load(name))
                                 if name in self.list_names else self.zeros_like(load(name)))
                start_reads.add(name)
            elif self.stand_in_used:  # a 0.0 stand-in may have flowed into it: give it shape
                gradient = self.specializer.specialize(call(self.binder.bind("unbroadcast", unbroadcast),
                                                load(adjoint_name), load(name)))
                gradients.append(gradient)
                start_reads |= loaded_names(gradient) & {name}
            else:
                gradients.append(load(adjoint_name))
        unsafe = assigned_names(self.body)
        pushes, pops, recompute = self.tape.serve_reads(start_reads, unsafe, final)
        primal, adjoint = self.tape.drop_redundant_saves(pushes + primal, seed_code + adjoint
                                                         + pops + recompute)
        return primal, adjoint, result, gradients, output_adjoint


def _indexed_names(body):
    """Names that are indexed or written element by element: their adjoints must be arrays."""
    found = set()
    for node in nodes_in(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name):
            found.add(node.value.id)
    return found
