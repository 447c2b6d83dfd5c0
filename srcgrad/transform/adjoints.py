"""Adjoint bookkeeping of reverse mode: adding contributions into adjoints, and what each holds.

An adjoint in the ZERO state has nothing yet, so its first contribution is assigned, not added;
an OWNED one is a fresh array this function may update in place (``+=``); a SHARED one may be
the same array as another's, so adding makes a new one (holding.py). ``contributions`` hands an
adjoint array over whole to one operand where nothing else reads it (``heir``).
"""
import gast

from .analyze import loaded_names
from .build import assign, call, constant, load, located, store
from .holding import OWNED, SHARED, ZERO


class AdjointBookkeeping:
    """The methods of ReverseMode that add into adjoints and track their holding states."""

    def accumulate(self, name, contribution, state, like, fresh=False, shaped=False):
        """Add ``contribution`` into the adjoint of ``name``; returns the statements.

        ``fresh``: the contribution is a new array, sharing memory with no other adjoint;
        ``shaped``: it certainly has the shape of ``name`` (a pullback's result).
        """
        adjoint = self.adjoint(name)
        status = state.get(adjoint, ZERO)
        if status == ZERO:
            if self.specializer.is_fresh(contribution, adjoint):
                state[adjoint] = OWNED
                self.specializer.note_assigned(adjoint, contribution)
                return [assign(adjoint, contribution, like)]
            if not fresh:
                self.mark_aliases(contribution, state)
            state[adjoint] = SHARED
            if not shaped:
                self.specializer.note_assigned(adjoint, contribution)
            return [assign(adjoint, contribution, like)]
        if name in self.list_names:  # a list's adjoint is a list, added element by element
            state[adjoint] = OWNED
            return [assign(adjoint, call(self.runtime("add_each"), load(adjoint), contribution),
                           like)]
        if status == OWNED and not self.differentiable:
            # (code differentiated again adds into a new array: an in-place += there is
            # guarded against names that may share the array, which loops make many of)
            return [located(gast.AugAssign(target=store(adjoint), op=gast.Add(),
                                           value=contribution), like)]
        state[adjoint] = OWNED
        return [assign(adjoint, gast.BinOp(left=load(adjoint), op=gast.Add(),
                                           right=contribution), like)]

    def mark_aliases(self, expr, state):
        """An adjoint assigned from ``expr`` may share memory with the adjoints it reads."""
        for used in loaded_names(expr):
            if state.get(used) == OWNED:
                state[used] = SHARED

    def zeros_for(self, adjoint, like):
        primal = self.primal_of[adjoint]
        if self.specializer.is_number(primal):
            return assign(adjoint, constant(0.0), like)
        if primal in self.list_names:
            return assign(adjoint, call(self.runtime("zeros_like_each"), load(primal)), like)
        return assign(adjoint, self.zeros_like(load(primal)), like)

    def make_owned(self, adjoint, state, like):
        """Statements that give ``adjoint`` an array of its own, to update in place."""
        status = state.get(adjoint, ZERO)
        state[adjoint] = OWNED
        if status == ZERO:
            return [self.zeros_for(adjoint, like)]
        if status == SHARED and (adjoint in self.specializer.stand_ins or self.stand_in_used) and \
                self.primal_of[adjoint] not in self.list_names and \
                not self.specializer.is_number(self.primal_of[adjoint]):  # maybe the 0.0 stand-in
            shaped = self.zeros_like(load(self.primal_of[adjoint]))
            return [assign(adjoint, gast.BinOp(left=load(adjoint), op=gast.Add(), right=shaped),
                           like)]
        if status == SHARED:  # copy_of copies a list, a dict and an array alike
            copier = self.runtime("copy_of")
            return [assign(adjoint, call(copier, load(adjoint)), like)]
        return []

    def contributions(self, stmt, name, sources, state):
        """Add each source's contributions into its adjoint; the target's own adjoint last."""
        adjoint = self.adjoint(name)
        code = []
        heir = self.heir(name, sources, state)
        for source, parts in sources.items():
            if source != name:
                for part in parts:
                    code += self.accumulate(source, part, state, stmt)
        if heir is not None:  # the array is the heir's alone now: it may update it in place
            state[self.adjoint(heir)] = OWNED
            shared = self.shared_arrays.get(adjoint, {adjoint}) | \
                self.shared_arrays.get(self.adjoint(heir), {self.adjoint(heir)})
            for member in shared:
                self.shared_arrays[member] = shared
        if name in sources:  # x = f(x, ...): the adjoint of the old x replaces that of the new
            total = sources[name][0]
            for part in sources[name][1:]:
                total = gast.BinOp(left=total, op=gast.Add(), right=part)
            if not (isinstance(total, gast.Name) and total.id == adjoint):
                fresh = self.specializer.is_fresh(total, adjoint)
                if not fresh:
                    self.mark_aliases(total, state)
                self.specializer.note_assigned(adjoint, total)
                code.append(assign(adjoint, total, stmt))
                state[adjoint] = OWNED if fresh else SHARED
        else:
            state[adjoint] = ZERO
        return code

    def heir(self, name, sources, state):
        """The one operand whose adjoint may take over the adjoint array of ``name`` as is.

        ``y = x - c``: ``dx = dy``. When ``dy`` is an array of its own (OWNED) that nothing
        reads after this statement's adjoint (``y`` is bound once, outside loops), ``dx`` may
        update it in place afterwards instead of copying it first. Not in code that is
        differentiated again (``differentiable``): there ``dx = dy`` followed by
        ``dx[i] += ...`` is a write into an array another name holds, which the next
        transformation refuses.
        """
        adjoint = self.adjoint(name)
        if self.differentiable or state.get(adjoint) != OWNED or name in sources or \
                self.tape.loop_depth or name in self.params or \
                len(self.tape.definitions.get(name, [])) != 1:
            return None
        whole = [source for source, parts in sources.items() for part in parts
                 if isinstance(part, gast.Name) and part.id == adjoint]
        if len(whole) != 1 or len(sources[whole[0]]) != 1 or \
                state.get(self.adjoint(whole[0]), ZERO) != ZERO:
            return None
        return whole[0]
