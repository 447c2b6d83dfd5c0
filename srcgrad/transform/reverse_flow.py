"""Reverse mode of control flow: branches run again on their recorded test, loops backwards.

A branch's adjoint evaluates its test again (kept in a variable where a name in it changes); a
``for`` loop's adjoint runs over the same values reversed, and a ``while`` loop's as many times
as the primal's ran. Where the paths disagree on an adjoint's holding state, explicit zeros make
them agree, and a loop body is generated until its entry states stop changing.
"""
import gast

from .analyze import assigned_names
from .holding_flow import live_at_loop_entry
from .build import assign, call, clone, constant, load, located, store
from .holding import OWNED, SHARED, ZERO, merged_state, same_states, widen_entry
from .mode import replace
from .optimize import negate


class ControlFlowAdjoints:
    """The methods of ReverseMode for ``if``, ``for`` and ``while``."""

    def if_statement(self, stmt, state):
        body_primal, body_adjoint, body_state = self.block(stmt.body, dict(state))
        else_primal, else_adjoint, else_state = self.block(stmt.orelse, dict(state))
        if not body_adjoint and not else_adjoint and same_states(body_state, else_state):
            return [replace(stmt, body=body_primal, orelse=else_primal)], [], body_state
        merged = {}
        for adjoint in set(body_state) | set(else_state):
            a, b = body_state.get(adjoint, ZERO), else_state.get(adjoint, ZERO)
            if a == ZERO and b != ZERO:
                body_primal, body_adjoint = self.zero_at_start(
                    adjoint, body_primal, body_adjoint, stmt.sg_changed_from, stmt)
                a = OWNED
            elif b == ZERO and a != ZERO:
                else_primal, else_adjoint = self.zero_at_start(
                    adjoint, else_primal, else_adjoint, stmt.sg_changed_from, stmt)
                b = OWNED
            merged[adjoint] = merged_state(a, b)
        test, primal_prefix, primal_suffix, adjoint_prefix = self.tape.replayable(
            stmt.test, stmt.sg_changed_from, "branch", stmt)
        forward = primal_prefix + [replace(stmt, test=test, body=body_primal,
                                            orelse=else_primal)] + primal_suffix
        if not body_adjoint:
            test, body_adjoint, else_adjoint = negate(test), \
                else_adjoint, []
        backward = adjoint_prefix + [located(gast.If(test=clone(test), body=body_adjoint,
                                                     orelse=else_adjoint), stmt)]
        return forward, backward, merged

    def zero_at_start(self, adjoint, primal, adjoint_code, unsafe, like):
        """Append ``d = zeros_like(x)`` to a path's adjoint (mirrors the start of its primal).

        Where ``x`` may not exist yet (a first loop iteration), nothing can read this adjoint's
        value, and a plain ``0.0`` stands in for it.
        """
        if self.primal_of[adjoint] not in like.sg_defined_before:
            self.specializer.stand_ins.add(adjoint)
            self.stand_in_used = True
            return primal, adjoint_code + [assign(adjoint, constant(0.0), like)]
        zeros = self.zeros_for(adjoint, like)
        pushes, pops, recompute = self.tape.serve_reads({self.primal_of[adjoint]}, unsafe, like)
        return pushes + primal, adjoint_code + pops + recompute + [zeros]

    def loop_body(self, stmt, state):
        """Generate a loop body whose adjoint leaves every adjoint as it found it."""
        stand_in_before = self.stand_in_used
        names_before = set(self.names.taken)
        self.tape.loop_depth += 1
        entry = dict(state)
        # Start from the adjoints a dataflow pass finds nonzero where an iteration starts
        # (holding_flow.py), so that the first body generated is, as a rule, the last.
        live = {self.primal_of[a] for a, held in state.items() if held != ZERO}
        for name in sorted(live_at_loop_entry(self, stmt, live) - live):
            entry[self.adjoint(name)] = OWNED
        # The adjoint of a name first bound inside the loop that is live from one iteration to
        # the next may start from the 0.0 stand-in (see zero_at_start and before_loop).
        first_bound = {self.adjoint(name) for name in sorted(
            assigned_names(stmt.body) - stmt.sg_defined_before) if name in self.varied}
        outer_zeros = set(self.specializer.stand_ins)
        carried = set()  # stand-ins that reach the end of an iteration's adjoint
        taken = set(self.names.taken)
        for _ in range(8):
            self.specializer.stand_ins = outer_zeros | carried | {
                a for a in first_bound if entry.get(a, ZERO) != ZERO}
            # Each attempt must hand out the same names, so the final one reads as the first.
            self.reset_names(taken | {self.tape.stack_name} | set(self.previous_names.values()))
            primal, adjoint, exit_state = self.block(stmt.body, dict(entry))
            changed = widen_entry(entry, exit_state, restart_from_number={
                name for name in entry if self.primal_of[name] not in stmt.sg_defined_before})
            reaching = {a for a in self.specializer.stand_ins - outer_zeros - carried
                        if exit_state.get(a, ZERO) != ZERO}
            if reaching:
                carried |= reaching
                changed = True
            if not changed:
                break
        for name in sorted(entry):
            if entry[name] != ZERO and exit_state.get(name, ZERO) == ZERO:
                primal, adjoint = self.zero_at_start(name, primal, adjoint,
                                                     stmt.sg_changed_in_body, stmt)
        self.tape.loop_depth -= 1
        if self.stand_in_used and not stand_in_before:
            # A 0.0 stand-in appeared only now: generate again, so that in-place updates in
            # the body first give their adjoint a real array.
            self.reset_names(names_before)
            return self.loop_body(stmt, state)
        return primal, adjoint, entry

    def before_loop(self, stmt, state, entry):
        """Adjoint statements that bring adjoints into the state the loop body expects."""
        code, reads = [], set()
        for name in sorted(entry):
            status = state.get(name, ZERO)
            if status == entry[name] or (status == OWNED and entry[name] == SHARED):
                continue
            if status == ZERO and entry[name] != OWNED and \
                    self.primal_of[name] not in stmt.sg_defined_before:
                code.append(assign(name, constant(0.0), stmt))  # the loop may not run at all
                self.specializer.stand_ins.add(name)
                self.stand_in_used = True
            elif status == ZERO:
                code.append(self.zeros_for(name, stmt))
                reads.add(self.primal_of[name])
            else:
                code.append(assign(name, call(self.runtime("copy_of"), load(name)), stmt))
        pushes, pops, recompute = self.tape.serve_reads(reads, stmt.sg_changed_after, stmt)
        return pushes, pops + recompute + code

    def for_loop(self, stmt, state):
        body_primal, body_adjoint, entry = self.loop_body(stmt, state)
        if not body_adjoint:
            return [replace(stmt, body=body_primal)], [], state
        backward_loop = _is_reversed(stmt.iter, self.parsed.namespace)
        # reversed(x): what is kept for the adjoint is x (the iterator would be used up)
        iterable, prefix, suffix, adjoint_prefix = self.tape.replayable(
            stmt.iter.args[0] if backward_loop else stmt.iter, stmt.sg_changed_from,
            stmt.target.id + "_values", stmt)
        if backward_loop:
            iterable = replace(stmt.iter, args=[iterable])
        after_pushes, setup = self.before_loop(stmt, state, entry)
        executed = clone(iterable)
        if _breaks(stmt.body) and isinstance(executed, gast.Call) and not (
                isinstance(executed.func, gast.Name) and executed.func.id == "range"):
            executed = call(self.binder.bind("list", list), executed)  # reversed(...)[:n]
        if _breaks(stmt.body):  # the adjoint runs over the iterations that ran
            count, start, counting, count_push, count_pop = self.tape.counter(stmt)
            body_primal = [counting] + body_primal
            prefix, suffix = prefix + [start], suffix + count_push
            adjoint_prefix = count_pop + adjoint_prefix  # pushed last, so popped first
            executed = gast.Subscript(value=executed, slice=gast.Slice(
                lower=None, upper=load(count), step=None), ctx=gast.Load())
        forward = prefix + [replace(stmt, iter=iterable, body=body_primal)] + suffix + after_pushes
        backwards = executed.args[0] if _is_reversed(executed, self.parsed.namespace) else \
            call(self.binder.bind("reversed", reversed), executed)
        reverse = located(gast.For(target=store(stmt.target.id), iter=backwards,
                                   body=body_adjoint, orelse=[], type_comment=None), stmt)
        return forward, setup + adjoint_prefix + [reverse], entry

    def while_loop(self, stmt, state):
        body_primal, body_adjoint, entry = self.loop_body(stmt, state)
        if not body_adjoint:
            return [replace(stmt, body=body_primal)], [], state
        after_pushes, setup = self.before_loop(stmt, state, entry)
        count, start, counting, count_push, count_pop = self.tape.counter(stmt)
        forward = [start, replace(stmt, body=[counting] + body_primal)] + count_push + after_pushes
        reverse = located(gast.For(target=store(self.names.fresh("_")),
                                   iter=call(self.binder.bind("range", range), load(count)),
                                   body=body_adjoint, orelse=[], type_comment=None), stmt)
        return forward, setup + count_pop + [reverse], entry


def _is_reversed(expr, namespace):
    """Is ``expr`` a call ``reversed(x)`` (a loop that generated code already runs backwards)?"""
    return isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and \
        namespace.get(expr.func.id) is reversed and len(expr.args) == 1


def _breaks(body):
    """Can ``body`` leave its loop early (a break of its own, not of a nested loop)?"""
    for stmt in body:
        if isinstance(stmt, gast.Break):
            return True
        if isinstance(stmt, gast.If) and _breaks(stmt.body + stmt.orelse):
            return True
    return False
