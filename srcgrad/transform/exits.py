"""Make break, continue and early return structured, so the adjoint can mirror every path.

The adjoint sweep runs each loop body's adjoint in full, so the primal body must also run to its
end: an exit cannot skip the saves that follow it. Exits therefore become structured code:

- after ``if c: ...; continue`` (or ``break``, or ``return``) the rest of the block moves into the
  ``else`` branch, so replaying ``if c`` selects exactly the statements the primal ran;
- ``break`` sets a flag named for the loop (``leave_loop``) that the last statement of the body
  tests, ``if leave_loop: break``: the only native break left, where it skips nothing;
- ``return v`` assigns one result variable, returned once at the end; inside a loop it also sets
  ``returned`` so the loops end and the code after them is skipped;
- only an exit nested deeper (``if a: if b: continue``) guards the rest on its flag.

Flags that end up unread are removed by the optimizer.
"""
import gast

from .analyze import nodes_in
from .build import assign, constant, load, located, replace_in_blocks
from .optimize import negate

EXITS = (gast.Break, gast.Continue, gast.Return)
BREAK, CONTINUE, RETURN = "break", "continue", "return"


class Loop:
    """The flags of the loop being lowered, named when first needed."""

    def __init__(self, names):
        self.names = names
        self._leave = self._skip = None

    @property
    def leave(self):  # set by break
        self._leave = self._leave or self.names.fresh("leave_loop")
        return self._leave

    @property
    def skip(self):  # set by continue
        self._skip = self._skip or self.names.fresh("skip_rest")
        return self._skip


def has_exits(stmts, kinds=EXITS):
    """Do ``stmts`` contain an exit that leaves them (a nested loop keeps its break/continue)?"""
    for stmt in stmts:
        if isinstance(stmt, kinds):
            return True
        if isinstance(stmt, gast.If) and has_exits(stmt.body + stmt.orelse, kinds):
            return True
        if isinstance(stmt, (gast.For, gast.While)) and has_exits(stmt.body, (gast.Return,)):
            return True
    return False


def always_exits(stmts):
    """Does every path through ``stmts`` end in break, continue or return?"""
    for stmt in stmts:
        if isinstance(stmt, EXITS):
            return True
        if isinstance(stmt, gast.If) and always_exits(stmt.body) and always_exits(stmt.orelse):
            return True
    return False


def ends_in_return(stmts):
    """Does every path through ``stmts`` end with a return (or a raise, which leaves no value
    to return: ``if ok: return x`` then ``raise ValueError(...)``)?"""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (gast.Return, gast.Raise)):
        return True
    if isinstance(last, gast.If):
        return ends_in_return(last.body) and ends_in_return(last.orelse)
    return False


def always_raises(stmts):
    """Does every path through ``stmts`` end with a raise?"""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, gast.Raise):
        return True
    return isinstance(last, gast.If) and always_raises(last.body) and always_raises(last.orelse)


def raise_guards(stmts):
    """``if c: a else: ...; raise E`` -> ``if not c: ...; raise E`` then ``a``: a branch that
    always raises becomes a guard clause, so the code after the if is what the adjoint
    mirrors (a path that raises reaches no adjoint; merging it with the other branch would
    only reset adjoints it never holds)."""
    return replace_in_blocks(stmts, _as_guard_clause)


def _as_guard_clause(stmt):
    if not (isinstance(stmt, gast.If) and stmt.orelse):
        return [stmt]
    body_raises, else_raises = always_raises(stmt.body), always_raises(stmt.orelse)
    if else_raises and not body_raises:
        return [located(gast.If(test=negate(stmt.test), body=stmt.orelse, orelse=[]), stmt)] + \
            stmt.body
    if body_raises and not else_raises:
        return [located(gast.If(test=stmt.test, body=stmt.body, orelse=[]), stmt)] + stmt.orelse
    return [stmt]


class ExitLowering:
    """Rewrites one function body; see the module docstring."""

    def __init__(self, parsed, names):
        self.parsed = parsed
        self.names = names
        self.result = None
        self.returned = None

    def function(self, body):
        """The lowered body, ending in its only ``return``."""
        early = [n for s in body[:-1] for n in nodes_in(s) if isinstance(n, EXITS)]
        if isinstance(body[-1], gast.Return) and not any(isinstance(n, gast.Return)
                                                         for n in early):
            # One return, at the end: only loops with break or continue need lowering.
            return raise_guards(
                (self.block(body[:-1], loop=None)[0] if early else body[:-1]) + body[-1:])
        if not ends_in_return(body):
            raise self.parsed.unsupported(
                body[-1], f"{self.parsed.name}, which can end without returning a value",
                "make every path end with a return statement")
        self.result = self.names.fresh("result")
        self.returned = self.names.fresh("returned")
        returns = [n for s in body for n in nodes_in(s) if isinstance(n, gast.Return)]
        last = max(returns, key=lambda n: getattr(n, "lineno", 0), default=body[-1])
        lowered, _, _ = self.block(body, loop=None)
        first = body[0]
        final = located(gast.Return(value=load(self.result)), last)
        return [located(assign(self.returned, constant(False)), first)] + \
            raise_guards(lowered) + [final]

    def block(self, stmts, loop):
        """(lowered statements, kinds of exit that may leave them, whether one always does)."""
        out, kinds = [], set()
        for index, stmt in enumerate(stmts):
            rest = stmts[index + 1:]
            if isinstance(stmt, EXITS):
                out += self.exit(stmt, loop)
                return out, kinds | {self.kind(stmt)}, True
            if isinstance(stmt, gast.If) and has_exits([stmt]):
                lowered, more, always = self.if_statement(stmt, rest, loop)
                return out + lowered, kinds | more, always
            if isinstance(stmt, gast.If):
                stmt.body = self.block(stmt.body, loop)[0]
                stmt.orelse = self.block(stmt.orelse, loop)[0]
            elif isinstance(stmt, (gast.For, gast.While)):
                out += self.loop(stmt)
                if has_exits(stmt.body, (gast.Return,)) or self.sets_returned(stmt):
                    guarded, more, _ = self.block(rest, loop)
                    if guarded:
                        out.append(self.guard(guarded, [self.returned], stmt))
                    return out, kinds | more | {RETURN}, False
                continue
            out.append(stmt)
        return out, kinds, False

    @staticmethod
    def kind(stmt):
        return {gast.Break: BREAK, gast.Continue: CONTINUE}.get(type(stmt), RETURN)

    def exit(self, stmt, loop):
        """What replaces an exit statement: the flag it sets (and the result it assigns)."""
        if isinstance(stmt, gast.Break):
            return [located(assign(loop.leave, constant(True)), stmt)]
        if isinstance(stmt, gast.Continue):
            return [located(assign(loop.skip, constant(True)), stmt)]
        return [located(assign(self.result, stmt.value), stmt),
                located(assign(self.returned, constant(True)), stmt)]

    def flag_of(self, kind, loop):
        return {BREAK: loop and loop.leave, CONTINUE: loop and loop.skip}.get(kind, self.returned)

    def if_statement(self, stmt, rest, loop):
        body_always, else_always = always_exits(stmt.body), always_exits(stmt.orelse)
        if body_always and not else_always:  # the rest runs exactly when the else goes on
            body, kinds, _ = self.block(stmt.body, loop)
            orelse, more, always = self.block(stmt.orelse + rest, loop)
            stmt.body, stmt.orelse = body, orelse
            return [stmt], kinds | more, always
        if else_always and not body_always:
            orelse, kinds, _ = self.block(stmt.orelse, loop)
            body, more, always = self.block(stmt.body + rest, loop)
            stmt.body, stmt.orelse = body, orelse
            return [stmt], kinds | more, always
        body, body_kinds, _ = self.block(stmt.body, loop)
        orelse, else_kinds, _ = self.block(stmt.orelse, loop)
        stmt.body, stmt.orelse = body, orelse
        kinds = body_kinds | else_kinds
        if body_always and else_always:
            return [stmt], kinds, True  # the rest is unreachable
        guarded, more, _ = self.block(rest, loop)  # an exit deeper inside: guard on flags
        out = [stmt]
        if guarded:
            out.append(self.guard(guarded, sorted({self.flag_of(k, loop) for k in kinds}), stmt))
        return out, kinds | more, False

    def guard(self, stmts, flags, like):
        """``if not (flag or ...): stmts``."""
        tests = [load(f) for f in flags]
        test = tests[0] if len(tests) == 1 else gast.BoolOp(op=gast.Or(), values=tests)
        return located(gast.If(test=negate(test), body=stmts,
                               orelse=[]), like)

    def loop(self, stmt):
        """A loop whose body runs to its end; its last statement leaves when a flag says so."""
        loop = Loop(self.names)
        last = stmt.body[-1] if stmt.body else None
        trailing_break = isinstance(last, gast.If) and not last.orelse and \
            len(last.body) == 1 and isinstance(last.body[0], gast.Break)
        if trailing_break:  # `if c: break` at the very end skips nothing: it stays as written
            stmt.body = stmt.body[:-1]
        body, kinds, _ = self.block(stmt.body, loop)
        stops = [f for k, f in ((BREAK, loop.leave), (RETURN, self.returned)) if k in kinds]
        prefix = []
        if CONTINUE in kinds:
            body = [located(assign(loop.skip, constant(False)), stmt)] + body
        if BREAK in kinds:
            prefix.append(located(assign(loop.leave, constant(False)), stmt))
        if stops:
            tests = [load(f) for f in stops]
            test = tests[0] if len(tests) == 1 else gast.BoolOp(op=gast.Or(), values=tests)
            body.append(located(gast.If(test=test, body=[located(gast.Break(), stmt)],
                                        orelse=[]), stmt))
        if trailing_break:
            body.append(last)
        stmt.body = body
        return prefix + [stmt]

    def sets_returned(self, stmt):
        return any(isinstance(n, gast.Name) and n.id == self.returned and
                   isinstance(n.ctx, gast.Store) for n in nodes_in(stmt))
