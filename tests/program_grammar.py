"""Random small programs in the language srcgrad differentiates, for differential testing.

A :class:`ProgramGenerator` writes one module holding ``def f(...)`` (and, with the ``helpers``
feature, module-level helper functions) from a grammar of the supported language. Every choice it
makes goes through a *chooser*: :class:`HypothesisChooser` (inside ``@given``, so failures shrink to
small programs) or :class:`RandomChooser` (a seed, for looking at samples)::

    python tests/program_grammar.py --count 5 --seed 1 [--extra]

Programs are well defined by construction:

* every name is bound before it is read on every path, and keeps one shape (a Python float, or a
  1-D array of length 3 or 2) for the whole function;
* divisions are by ``1.0 + e * e``, ``2.0 + np.cos(e)``, ``1.5 + np.tanh(e)`` or a constant;
  ``np.exp`` sees ``np.tanh``/``np.sin`` of something or ``-e * e``; ``np.log`` and ``np.sqrt`` see
  ``1.0 + e * e``; powers are small integers;
* loops are bounded: ``range`` of a small constant (or of ``len``/``.shape[0]`` of a length-3
  vector), nested at most twice; a ``while`` always carries a counter, ``n0 < K and <data>``;
* no array is ever changed in place while another name (or a list, or a running ``for``) can see
  it: an augmented assignment on an array that might be aliased is written ``t = t + e`` instead
  (srcgrad documents ``+=`` as rebinding), and element writes go only to arrays created for them.

Branch conditions (``if``, ``a if c else b``, the masks of ``e[v > c]``), ``np.maximum``/``np.abs``
and ``np.clip`` are not smooth where their two sides meet; the test decides whether a drawn
input is far enough from those places by running :func:`instrument` 's version of the program,
which records every margin.
"""
import argparse
import ast
import os
import random
from dataclasses import dataclass, field

import numpy as np

LENGTH = 3  # the length of every vector parameter

#: Features the generator uses by default: the language srcgrad supports today.
DEFAULT_FEATURES = frozenset({
    # parameters
    "float_params",      # Python float parameters
    "vector_params",     # 1-D float64 array parameters of length 3
    # statements
    "assign",            # t = expr (a new local)
    "reassign",          # x = expr(x, ...) (rebinding a parameter or local)
    "augassign",         # x += e, x -= e, x *= e
    "tuple_assign",      # p, q = e1, e2 and swaps p, q = q, p
    "if",                # if cond: ...
    "elif",              # ... elif cond: ...
    "else",              # ... else: ...
    "for",               # for i in range(k) (k small and constant, or len(v))
    "nested_loops",      # a loop inside a loop (depth 2 at most)
    "while",             # n0 = 0; while n0 < K and <data condition>: n0 += 1; ...
    "for_over_array",    # for e in v: (the elements of a 1-D array)
    # expressions
    "arith",             # + - *
    "divide",            # e / (1.0 + d * d) and friends
    "power",             # e ** 2, e ** 3
    "negate",            # -e
    "trig",              # np.sin, np.cos, np.arctan
    "tanh",              # np.tanh
    "exp",               # np.exp(np.tanh(e)), np.exp(np.sin(e)), np.exp(-e * e)
    "log",               # np.log(1.0 + e * e)
    "sqrt",              # np.sqrt(1.0 + e * e)
    "reductions",        # np.sum, np.mean
    "dot",               # np.dot(v, w) of equal-length vectors
    "index",             # v[0], v[-1], v[i] with a loop index
    "slice",             # v[1:], v[:2], v[::2], v[::-1], ...
    "fancy_index",       # v[[0, 2, 2]]
    "broadcast",         # floats mixed with arrays in one operation
    "maximum",           # np.maximum(e, c) (inputs near the kink are skipped)
    "abs",               # np.abs(e) (inputs near the kink are skipped)
    # once extra, on by default since main passes them in every mode (issue #11)
    "break",             # if cond: break (inside a loop)
    "continue",          # if cond: continue (inside a loop)
    "early_return",      # if cond: return expr (anywhere, loops included)
    "helpers",           # module-level def h0(u, v): ... called from f (and later helpers)
    "subscript_write",   # y0 = np.zeros(3) / y0 = v * 1.0; y0[i] = e; y0[1] += e
    "aliased_calls",     # inner(t, t), t = inner(t, t) in loops and branches; h0(t, t)
    "overwrite_loop",    # for i in range(k): a = a * a * a (a parameter rebound in a loop)
    "walrus",            # if (w0 := np.sum(x)) > 0.3: ... (w0 used inside and after)
    "global_scale",      # SCALE = 2.0 at module level, read by f; rebound between two checks
    "matrix",            # m0 = np.outer(u, v) / M.copy() / M * 1.0; m0[:, 0] = m0[:, 0] * s;
                         # m0[0, :] = ...; m0[i, j] = ...; for i ...: m0 = m0 + 1.0; reductions
    "where",             # np.where(v > 0.3, e, 1.0), np.where(v < c, 1.0, -1.0) * e
    "copy_buffer",       # y0 = v.copy(); y0[i] = e (a copy made before element writes)
})

#: Off by default: constructs where main still gives wrong derivatives (test_trust.py holds the
#: reproducers: pullbacks of list appends called twice, np.dot of a matrix in a loop).
#: Move a name into DEFAULT_FEATURES once they pass; SRCGRAD_EXTRA_FEATURES=1 turns them all on for a run,
#: SRCGRAD_EXTRA_FEATURES=break,helpers only those named.
EXTRA_FEATURES = frozenset({
    "list_append",       # l0 = []; for ...: l0.append(e); ... np.stack(l0) / sum(l0)
    "tuple_args",        # pair_product((x, y)), pair_sum([x, y]): the helper indexes/unpacks p
    # These two pass on their own, but turning them on changes the default run's derandomized
    # programs, and the new sequence meets test_trust.py::test_jvp_of_a_dead_write_into_a_copy
    "slice_write",       # y0[1:] = y0[1:] * e; y0[::2] += e; y0[:2] = v[1:] (on buffers)
    "iteration",         # for i in reversed(range(k)) / range(k - 1, -1, -1);
                         # for i, e0 in enumerate(v)
    "unpack_loop",       # for e0, e1 in zip(v, w) / np.stack((v, w), axis=1): unpacked items
    # Constructs real code uses that the grammar lacked (session 6, issue trust)
    "mask_index",        # np.sum(e[v > 0.3]): boolean-mask selection of a vector (summed)
    "newaxis",           # np.sum(u[:, None] * w, axis=0), np.sum(u[:, None] * w[None, :])
    "step_slice",        # v[::-2], v[-1:0:-1], v[-3:-1], v[2::-1]: steps and negative bounds
    "clip",              # np.clip(e, -0.7, 1.0) (inputs near either bound are skipped)
    "ifexp",             # (e1 if cond else e2): a conditional expression
    "closure",           # def g0(z): return <e of z and f's names>; t = g0(e) (a nested def)
})

#: Module-level helpers the ``aliased_calls`` and ``tuple_args`` features call.
FIXED_HELPERS = {
    "inner": "def inner(a, b):\n    return a * b\n",
    "pair_product": "def pair_product(p):\n    return p[0] * p[1]\n",
    "pair_sum": "def pair_sum(p):\n    u, v = p\n    return u + 2.0 * v\n",
}
MATRIX = (LENGTH, LENGTH)   # the shape of a matrix parameter and of every m0

ALL_FEATURES = DEFAULT_FEATURES | EXTRA_FEATURES


def enabled_features(environ=None):
    """DEFAULT_FEATURES, plus the extras that SRCGRAD_EXTRA_FEATURES asks for."""
    environ = os.environ if environ is None else environ
    value = environ.get("SRCGRAD_EXTRA_FEATURES", "").strip()
    if value.lower() in ("", "0", "no", "false"):
        return DEFAULT_FEATURES
    if value.lower() in ("1", "all", "yes", "true"):
        return ALL_FEATURES
    names = {name.strip() for name in value.split(",") if name.strip()}
    unknown = names - ALL_FEATURES
    if unknown:
        raise ValueError(f"SRCGRAD_EXTRA_FEATURES names unknown features {sorted(unknown)}; "
                         f"known: {sorted(ALL_FEATURES)}")
    return DEFAULT_FEATURES | frozenset(names)


# --------------------------------------------------------------------------------------------
# Choosers: every decision is an integer, so that Hypothesis shrinks towards option 0 (simplest).

class Chooser:
    def integer(self, low, high):
        raise NotImplementedError

    def pick(self, options):
        options = list(options)
        return options[self.integer(0, len(options) - 1)]

    def weighted(self, pairs):
        """One option of ``[(weight, option), ...]``; shrinks towards the first one."""
        pairs = [(w, o) for w, o in pairs if w > 0]
        total = sum(w for w, _ in pairs)
        r = self.integer(0, total - 1)
        for weight, option in pairs:
            if r < weight:
                return option
            r -= weight
        raise AssertionError("unreachable")

    def flip(self, p):
        """True with probability ``p``; shrinks towards False."""
        return self.integer(0, 999) >= 1000 - round(1000 * p)


class RandomChooser(Chooser):
    def __init__(self, seed=None):
        self.rng = random.Random(seed)

    def integer(self, low, high):
        return self.rng.randint(low, high)


class HypothesisChooser(Chooser):
    def __init__(self, draw):
        from hypothesis import strategies as st
        self.draw, self.st = draw, st

    def integer(self, low, high):
        # Hypothesis favours the ends of a small range, which makes programs small and samey;
        # a wide draw folded into the range is closer to uniform and still shrinks to ``low``.
        return low + self.draw(self.st.integers(0, 2 ** 16 - 1)) % (high - low + 1)


# --------------------------------------------------------------------------------------------
# Expressions: text, precedence, and the name an expression is a view of (bare name or slice).

ADD, MUL, UNARY, POW, ATOM = 1, 2, 3, 4, 5


@dataclass
class Expr:
    text: str
    prec: int = ATOM
    view_of: str = None  # the expression is this name or a basic slice of it (shares memory)


def wrap(e, minimum):
    return e.text if e.prec >= minimum else f"({e.text})"


def binop(a, op, b):
    prec = ADD if op in "+-" else MUL
    return Expr(f"{wrap(a, prec)} {op} {wrap(b, prec + 1)}", prec)


def call(name, *args):
    return Expr(f"{name}({', '.join(a.text if isinstance(a, Expr) else a for a in args)})")


def const(value):
    return Expr(repr(float(value)), ATOM if value >= 0 else UNARY)


CONSTANTS = (0.5, 2.0, 1.5, 0.3, 1.0, 3.0, -0.7, 0.1, -1.2, 0.8)


# --------------------------------------------------------------------------------------------
# Scopes

@dataclass
class Loop:
    kind: str                  # "for", "while"
    exits: bool = False        # a break/continue targets this loop


@dataclass
class Scope:
    vars: dict                         # name -> 0 (scalar) or a vector length
    indices: list = field(default_factory=list)   # (name, bound): range loop variables
    loops: list = field(default_factory=list)     # enclosing loops, innermost last
    depth: int = 0                     # nesting of compound statements

    def copy(self):
        return Scope(dict(self.vars), list(self.indices), list(self.loops), self.depth)


@dataclass
class Helper:
    name: str
    params: list      # shapes
    returns: int      # shape


class Context:
    """Per-function bookkeeping: fresh names, aliased arrays, element-writable buffers."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.counts = {}
        self.tainted = set()   # arrays that may share memory with another name
        self.buffers = set()   # arrays created for element writes; never aliased

    def fresh(self, stem=None):
        stem = stem or self.prefix
        k = self.counts.get(stem, 0)
        self.counts[stem] = k + 1
        return f"{stem}{k}"


@dataclass
class Program:
    source: str            # the whole module
    name: str              # the function to differentiate
    params: list           # (name, shape) pairs
    args: list             # the input values, in order
    features: frozenset    # the features this program uses
    rebind: dict = field(default_factory=dict)   # module globals to change between two checks

    def copy_args(self):
        return [np.array(a, dtype=np.float64) if np.ndim(a) else float(a) for a in self.args]

    def describe(self):
        args = ", ".join(f"{n}={_format_arg(a)}" for (n, _), a in zip(self.params, self.args))
        rebind = (f"\n# then, with {self.rebind} set on the module: the same checks again"
                  if self.rebind else "")
        return (f"{self.source}\n# {self.name}({args})\n"
                f"# features used: {', '.join(sorted(self.features)) or '-'}{rebind}")

    def reproducer(self):
        """A standalone script that checks this program in every mode (run from the repo root)."""
        args = ", ".join(_format_arg(a) for a in self.args)
        check = f"    check_grads({self.name}, {args}, rtol=1e-4, atol=1e-6)\n"
        rebinds = "".join(f"    {k} = {v!r}\n" for k, v in self.rebind.items())
        return (f"{self.source}\n\nif __name__ == '__main__':\n"
                f"    import sys; sys.path.insert(0, 'tests')\n"
                f"    from checks import check_grads\n" + check
                + (rebinds + check if rebinds else ""))


def _format_arg(a):
    if np.ndim(a) == 2:
        return f"np.array({np.asarray(a, dtype=float).tolist()!r})"
    if np.ndim(a):
        return "np.array([" + ", ".join(repr(float(v)) for v in np.asarray(a)) + "])"
    return repr(float(a))


# --------------------------------------------------------------------------------------------
# The generator

class ProgramGenerator:
    """Writes one random program; ``features`` limits the constructs it uses."""

    MAX_STATEMENTS = 8     # statements in f's body, nested ones included
    MAX_DEPTH = 3          # nesting of if/for/while
    MAX_LOOP_DEPTH = 2

    def __init__(self, chooser, features=None, max_statements=None):
        self.c = chooser
        self.max_statements = max_statements or self.MAX_STATEMENTS
        self.features = DEFAULT_FEATURES if features is None else frozenset(features)
        unknown = self.features - ALL_FEATURES
        if unknown:
            raise ValueError(f"unknown features {sorted(unknown)}")
        self.used = set()
        self.helpers = []
        self.ctx = None
        self.remaining = 0
        self.favor = None
        self.max_depth = self.MAX_DEPTH
        self._current_return = 0
        self.fixed_helpers = set()   # names of FIXED_HELPERS the program calls
        self.scale = False           # the module defines SCALE
        self.matrix_param = None     # the name of f's matrix parameter, if it has one

    def on(self, feature):
        return feature in self.features

    def use(self, feature):
        self.used.add(feature)

    # ---------------------------------------------------------------- programs

    def program(self):
        kinds = [k for k, f in ((0, "float_params"), (LENGTH, "vector_params")) if self.on(f)]
        if not kinds:
            raise ValueError("enable float_params or vector_params")
        count = self.c.integer(1, 3)
        params = [("abc"[k], self.c.pick(kinds[::-1])) for k in range(count)]
        for _, shape in params:
            self.use("vector_params" if shape else "float_params")
        parts = ["import numpy as np", ""]
        rebind = {}
        if self.on("global_scale") and self.c.flip(0.3):
            self.use("global_scale")
            self.scale = True
            parts[1:1] = ["", "SCALE = 2.0"]
            rebind = {"SCALE": 3.0}
        if self.on("helpers") and self.c.flip(0.6):
            for _ in range(self.c.integer(1, 2)):
                parts.append(self.helper())
                parts.append("")
        scope_params = dict(params)
        if self.on("matrix") and self.c.flip(0.4):
            self.matrix_param = "m"
            params.append(("m", MATRIX))
        budget = self.c.integer(2, self.max_statements)
        body = self.function_body(scope_params, prefix="t", budget=budget)
        for name in sorted(self.fixed_helpers):
            parts.append(FIXED_HELPERS[name])
        signature = ", ".join(name for name, _ in params)
        parts.append(f"def f({signature}):")
        parts.extend(body)
        args = [self.value(shape) for _, shape in params]
        return Program("\n".join(parts) + "\n", "f", params, args, frozenset(self.used),
                       rebind)

    def value(self, shape):
        draw = lambda: self.c.integer(-150, 150) / 100.0
        if shape == MATRIX:
            return np.array([[draw() for _ in range(LENGTH)] for _ in range(LENGTH)])
        if shape:
            return np.array([draw() for _ in range(shape)])
        return draw()

    def helper(self):
        self.use("helpers")
        name = f"h{len(self.helpers)}"
        count = self.c.integer(1, 2)
        shapes = [self.c.pick((0, LENGTH)) for _ in range(count)]
        params = dict(zip("uvw", shapes))
        returns = self.c.pick(sorted(set(shapes) | {0}))
        body = self.function_body(params, prefix="s", budget=4, max_depth=1, returns=returns)
        self.helpers.append(Helper(name, shapes, returns))
        return "\n".join([f"def {name}({', '.join(params)}):"] + body)

    def function_body(self, params, prefix, budget, max_depth=None, returns=0):
        saved = (self.ctx, self.remaining, self.max_depth, self._current_return)
        self._current_return = returns
        self.ctx = Context(prefix)
        self.ctx.tainted.update(n for n, s in params.items() if s)
        self.remaining = budget
        self.max_depth = self.MAX_DEPTH if max_depth is None else max_depth
        scope = Scope(dict(params))
        lines = self.block(scope, minimum=1 if budget > 4 else 0)
        ret = self.final_return(scope, returns)
        lines.append((0, ret))
        text = [" " * (4 * (indent + 1)) + (line() if callable(line) else line)
                for indent, line in lines]
        self.ctx, self.remaining, self.max_depth, self._current_return = saved
        return text

    def final_return(self, scope, shape):
        if shape:
            e = self.expr(scope, shape, self.c.integer(1, 2))
            if e.view_of:
                e = binop(e, "*", const(1.0))
            return f"return {e.text}"
        names = sorted(scope.vars, key=self._recency, reverse=True)
        terms = []
        for name in names[:self.c.integer(1, 3)]:
            n = scope.vars[name]
            if n == 0:
                terms.append(Expr(name))
            else:
                terms.append(self.c.weighted([
                    (3, call("np.sum", name)),
                    (1, call("np.sum", binop(Expr(name), "*", Expr(name)))),
                    (1 if self.on("trig") else 0, call("np.mean", call("np.sin", name))),
                    (1 if self.on("dot") else 0, call("np.dot", name, name)),
                ]))
        if self.c.flip(0.3):
            terms.append(self.scalar_term(scope, self.c.integer(1, 2)))
        e = terms[0]
        for t in terms[1:]:
            e = binop(e, self.c.pick("+-*") if self.on("arith") else "+", t)
        return f"return {e.text}"

    def _recency(self, name):
        # locals created later sort later (t10 after t9); parameters first
        digits = "".join(ch for ch in name if ch.isdigit())
        return (1, int(digits)) if digits else (0, 0)

    # ---------------------------------------------------------------- statements

    def block(self, scope, minimum=1):
        lines = []
        count = self.c.integer(minimum, 4 if scope.depth == 0 else 2)
        for _ in range(count):
            if self.remaining <= 0:
                break
            self.remaining -= 1
            lines.extend(self.statement(scope))
        if not lines and minimum:
            lines.extend(self.assign_new(scope))
        return lines

    def statement(self, scope):
        in_loop = bool(scope.loops)
        nest = scope.depth < self.max_depth and self.remaining > 0
        loop_ok = nest and len(scope.loops) < (self.MAX_LOOP_DEPTH if self.on("nested_loops")
                                               else 1)
        vectors3 = [n for n, s in scope.vars.items() if s == LENGTH
                    and n not in self.ctx.buffers]
        buffers = [n for n in scope.vars if n in self.ctx.buffers]
        kind = self.c.weighted([
            (5 if self.on("assign") else 0, "assign"),
            (4 if self.on("reassign") else 0, "reassign"),
            (2 if self.on("augassign") else 0, "augassign"),
            (1 if self.on("tuple_assign") else 0, "tuple"),
            (3 if self.on("if") and nest else 0, "if"),
            (3 if self.on("for") and loop_ok else 0, "for"),
            (1 if self.on("for_over_array") and loop_ok and vectors3 else 0, "for_over"),
            (2 if self.on("while") and loop_ok else 0, "while"),
            (1 if self.on("break") and in_loop else 0, "break"),
            (1 if self.on("continue") and in_loop else 0, "continue"),
            (1 if self.on("early_return") else 0, "return"),
            (1 if self.on("subscript_write") else 0, "buffer"),
            (3 if self.on("subscript_write") and buffers else 0, "write"),
            (2 if self.on("list_append") and loop_ok and self.on("for") else 0, "list"),
            (1 if self.on("aliased_calls") and loop_ok else 0, "alias_loop"),
            (1 if self.on("overwrite_loop") and loop_ok else 0, "overwrite"),
            (1 if self.on("closure") and scope.depth == 0 else 0, "closure"),
            (2 if self.on("matrix") and nest and len(scope.loops) < self.MAX_LOOP_DEPTH
             and (self.matrix_param or self.can_make(scope, LENGTH)) else 0, "matrix"),
            (1, "assign"),   # so that some statement is always possible
        ])
        return getattr(self, f"stmt_{kind}")(scope)

    def assign_new(self, scope):
        return self.stmt_assign(scope)

    def stmt_assign(self, scope):
        self.use("assign")
        shape = self.new_shape(scope)
        name = self.ctx.fresh()
        e = self.rhs(scope, shape, name)
        scope.vars[name] = shape
        return [(0, f"{name} = {e.text}")]

    def new_shape(self, scope):
        options = [(3, 0)]
        if self.can_make(scope, LENGTH):
            options.append((3, LENGTH))
        if self.can_make(scope, 2) and self.on("slice"):
            options.append((1, 2))
        return self.c.weighted(options)

    def rhs(self, scope, shape, target, depth=None):
        """An expression for ``target = ...``; records aliasing when it is a view."""
        e = self.expr(scope, shape, self.c.integer(1, 2) if depth is None else depth)
        if shape and e.view_of:
            if e.view_of in self.ctx.buffers:
                e = binop(e, "*", const(1.0))
            else:
                self.ctx.tainted.update((e.view_of, target))
        return e

    def reassignable(self, scope):
        return [n for n in scope.vars if n not in self.ctx.buffers]

    def stmt_reassign(self, scope):
        names = self.reassignable(scope)
        if not names:
            return self.stmt_assign(scope)
        self.use("reassign")
        name = self.c.pick(names)
        shape = scope.vars[name]
        self.favor = name
        try:
            e = self.rhs(scope, shape, name)
        finally:
            self.favor = None
        return [(0, f"{name} = {e.text}")]

    def stmt_augassign(self, scope):
        names = list(scope.vars)
        if not names:
            return self.stmt_assign(scope)
        self.use("augassign")
        name = self.c.pick(names)
        shape = scope.vars[name]
        op = self.c.pick("+-*")
        value_shape = shape if not shape or not self.on("broadcast") or self.c.flip(0.6) else 0
        if value_shape != shape:
            self.use("broadcast")
        e = self.expr(scope, value_shape, self.c.integer(0, 2))
        ctx = self.ctx

        def render():
            if name in ctx.tainted:   # in place would change an alias: rebind
                return f"{name} = {binop(Expr(name), op, e).text}"
            return f"{name} {op}= {e.text}"
        return [(0, render)]

    def stmt_tuple(self, scope):
        self.use("tuple_assign")
        names = self.reassignable(scope)
        pairs = [(p, q) for p in names for q in names
                 if p < q and scope.vars[p] == scope.vars[q]]
        if pairs and self.c.flip(0.4):
            p, q = self.c.pick(pairs)
            if scope.vars[p]:
                self.ctx.tainted.update((p, q))
            return [(0, f"{p}, {q} = {q}, {p}")]
        targets, values = [], []
        for _ in range(2):
            if names and self.c.flip(0.5):
                name = self.c.pick(names)
                if name in [n for n, _ in targets]:
                    name = self.ctx.fresh()
                    shape = self.new_shape(scope)
                else:
                    shape = scope.vars[name]
            else:
                name, shape = self.ctx.fresh(), self.new_shape(scope)
            targets.append((name, shape))
        for name, shape in targets:
            values.append(self.rhs(scope, shape, name, self.c.integer(0, 2)))
        for name, shape in targets:
            scope.vars[name] = shape
        left = ", ".join(n for n, _ in targets)
        right = ", ".join(v.text for v in values)
        return [(0, f"{left} = {right}")]

    def stmt_if(self, scope):
        self.use("if")
        branches = [("if", self.condition(scope))]
        if self.on("walrus") and self.c.flip(0.3):
            self.use("walrus")
            name = self.ctx.fresh("w")
            term = self.scalar_term(scope, self.c.integer(0, 1))
            op = self.c.pick(["<", ">", "<=", ">="])
            branches[0] = ("if", f"({name} := {term.text}) {op} "
                                 f"{const(self.c.pick(CONSTANTS)).text}")
            scope.vars[name] = 0   # bound whichever branch runs
        for _ in range(self.c.integer(0, 2) if self.on("elif") else 0):
            self.use("elif")
            branches.append(("elif", self.condition(scope)))
        has_else = self.on("else") and self.c.flip(0.6)
        if has_else:
            self.use("else")
            branches.append(("else", None))
        lines, scopes, first_new = [], [], {}
        for k, (keyword, cond) in enumerate(branches):
            inner = scope.copy()
            inner.depth += 1
            body = self.block(inner)
            new = {n: s for n, s in inner.vars.items() if n not in scope.vars}
            if k == 0:
                first_new = new
            elif first_new and self.c.flip(0.6):
                # define the first branch's new names on this path too, so they survive the if
                for name, shape in first_new.items():
                    if name not in inner.vars and self.can_make(inner, shape):
                        e = self.rhs(inner, shape, name, self.c.integer(0, 2))
                        inner.vars[name] = shape
                        body.append((0, f"{name} = {e.text}"))
            header = f"{keyword} {cond}:" if cond else "else:"
            lines.append((0, header))
            lines.extend((indent + 1, text) for indent, text in body)
            scopes.append(inner)
        if has_else:
            common = set.intersection(*(set(s.vars) for s in scopes))
            for name in common - set(scope.vars):
                scope.vars[name] = scopes[0].vars[name]
        return lines

    def loop_block(self, scope, inner, loop):
        inner.depth += 1
        inner.loops.append(loop)
        if len(scope.loops) >= 1:
            self.use("nested_loops")
        return self.block(inner)

    def after_loop(self, scope, inner, loop, drop=()):
        """A for loop runs at least once: names it binds stay, unless an exit may skip them."""
        if loop.exits:
            return
        for name, shape in inner.vars.items():
            if name not in scope.vars and name not in drop:
                scope.vars[name] = shape

    def range_header(self, scope, var):
        vectors = [n for n, s in scope.vars.items() if s == LENGTH]
        k = self.c.integer(1, 3)
        form = self.c.weighted([(4, "k"), (1, "start"), (1 if vectors else 0, "len"),
                                (1 if vectors else 0, "shape")])
        if form == "start" and k >= 2:
            return f"for {var} in range(1, {k}):", k
        if self.on("iteration") and self.c.flip(0.3):
            self.use("iteration")
            text = self.c.pick([f"reversed(range({k}))", f"range({k} - 1, -1, -1)",
                                f"range(0, {k}, 2)"])
            return f"for {var} in {text}:", k
        if form in ("len", "shape"):
            v = self.c.pick(vectors)
            text = f"len({v})" if form == "len" else f"{v}.shape[0]"
            return f"for {var} in range({text}):", LENGTH
        return f"for {var} in range({k}):", k

    def index_name(self, scope):
        taken = {n for n, _ in scope.indices}
        return next(n for n in "ijk" if n not in taken)

    def stmt_for(self, scope, prelude=None):
        self.use("for")
        var = self.index_name(scope)
        header, bound = self.range_header(scope, var)
        inner = scope.copy()
        inner.indices.append((var, bound))
        loop = Loop("for")
        body = (prelude(inner) if prelude else []) + self.loop_block(scope, inner, loop)
        self.after_loop(scope, inner, loop)
        return [(0, header)] + [(indent + 1, text) for indent, text in body]

    def stmt_for_over(self, scope):
        self.use("for_over_array")
        if self.c.flip(0.7):
            names = [n for n, s in scope.vars.items() if s and n not in self.ctx.buffers]
            source = self.c.pick(names)
            length = scope.vars[source]
            self.ctx.tainted.add(source)   # no in-place change while iterating over it
        else:
            length = self.c.pick([LENGTH] + ([2] if self.on("slice") else []))
            e = self.expr(scope, length, 1)
            if e.view_of:
                if e.view_of in self.ctx.buffers:
                    e = binop(e, "*", const(1.0))
                else:
                    self.ctx.tainted.add(e.view_of)
            source = e.text
        var = self.ctx.fresh("e")
        # The eager Tensor, as PyTorch, yields views of the rows: `e0 += x` would write into the
        # array iterated over (a NumPy array yields copies). Items are rebound: e0 = e0 + x.
        self.ctx.tainted.add(var)
        inner = scope.copy()
        inner.vars[var] = 0
        header = f"for {var} in {source}:"
        partners = [n for n, s in scope.vars.items() if s == length and n != source
                    and n not in self.ctx.buffers] if length == LENGTH else []
        if self.on("unpack_loop") and partners and self.c.flip(0.4):
            self.use("unpack_loop")  # each item unpacked into two numbers
            partner = self.c.pick(partners)
            self.ctx.tainted.add(partner)
            other = self.ctx.fresh("e")
            self.ctx.tainted.add(other)
            inner.vars[other] = 0
            pairs = f"zip({source}, {partner})" if self.c.flip(0.5) else \
                f"np.stack(({source}, {partner}), axis=1)"
            header = f"for {var}, {other} in {pairs}:"
        elif self.on("iteration") and self.c.flip(0.3):
            self.use("iteration")
            index = self.index_name(scope)
            inner.indices.append((index, length))
            header = f"for {index}, {var} in enumerate({source}):"
        loop = Loop("for")
        body = self.loop_block(scope, inner, loop)
        self.after_loop(scope, inner, loop, drop=[n for n, _ in inner.indices])
        return [(0, header)] + [(i + 1, t) for i, t in body]

    def stmt_while(self, scope):
        self.use("while")
        counter = self.ctx.fresh("n")
        bound = self.c.integer(1, 3)
        data = self.condition(scope, allow_int=False)
        cond = (f"{counter} < {bound} and {data}" if self.c.flip(0.7)
                else f"{data} and {counter} < {bound}")
        inner = scope.copy()
        loop = Loop("while")
        step = f"{counter} += 1" if self.c.flip(0.5) else f"{counter} = {counter} + 1"
        body = [(0, step)] + self.loop_block(scope, inner, loop)
        # a while loop may run zero times: names it binds do not survive it
        return [(0, f"{counter} = 0"), (0, f"while {cond}:")] + \
            [(i + 1, t) for i, t in body]

    def stmt_break(self, scope, keyword="break"):
        self.use(keyword)
        scope.loops[-1].exits = True
        return [(0, f"if {self.condition(scope)}:"), (1, keyword)]

    def stmt_continue(self, scope):
        return self.stmt_break(scope, "continue")

    def stmt_return(self, scope):
        self.use("early_return")
        shape = self._current_return
        if shape:
            e = self.expr(scope, shape, self.c.integer(0, 2))
            if e.view_of:
                e = binop(e, "*", const(1.0))
        else:
            e = self.scalar_term(scope, self.c.integer(0, 2))
        return [(0, f"if {self.condition(scope)}:"), (1, f"return {e.text}")]

    def stmt_buffer(self, scope):
        self.use("subscript_write")
        name = self.ctx.fresh("y")
        copyable = [n for n, s in scope.vars.items() if s == LENGTH]
        if copyable and self.on("copy_buffer") and self.c.flip(0.4):
            self.use("copy_buffer")
            text = f"{self.c.pick(copyable)}.copy()"
        elif self.can_make(scope, LENGTH) and self.c.flip(0.5):
            e = binop(self.expr(scope, LENGTH, self.c.integer(0, 1)), "*", const(1.0))
            text = e.text
        else:
            text = f"np.zeros({LENGTH})"
        self.ctx.buffers.add(name)
        scope.vars[name] = LENGTH
        return [(0, f"{name} = {text}")]

    def stmt_write(self, scope):
        self.use("subscript_write")
        name = self.c.pick([n for n in scope.vars if n in self.ctx.buffers])
        if self.on("slice_write") and self.c.flip(0.4):
            self.use("slice_write")
            index, length = self.c.pick([("1:", 2), ("::2", 2), (":2", 2), ("-2:", 2), (":", 3)])
            form = self.c.integer(0, 2)
            if form == 0:
                e = self.expr(scope, 0, self.c.integer(0, 1))
                return [(0, f"{name}[{index}] = {name}[{index}] * {wrap(e, MUL + 1)}")]
            if form == 1:
                op = self.c.pick(["+=", "-=", "*="])
                e = self.expr(scope, 0, self.c.integer(0, 1))
                return [(0, f"{name}[{index}] {op} {e.text}")]
            if self.can_make(scope, length):
                e = self.expr(scope, length, self.c.integer(0, 1))
                if e.view_of == name:
                    e = binop(e, "*", const(1.0))
                return [(0, f"{name}[{index}] = {e.text}")]
        index = self.index_text(scope, LENGTH)
        op = self.c.weighted([(3, "="), (2, "+="), (1, "-="), (1, "*=")])
        e = self.expr(scope, 0, self.c.integer(0, 2))
        return [(0, f"{name}[{index}] {op} {e.text}")]

    def stmt_alias_loop(self, scope):
        """for i in range(k): t = inner(t, t) (the adjoint of both arguments goes to one name)."""
        self.use("aliased_calls")
        self.fixed_helpers.add("inner")
        names = self.reassignable(scope)
        if not names:
            return self.stmt_assign(scope)
        name = self.c.pick(names)
        var = self.index_name(scope)
        k = self.c.integer(1, 2)
        body = [(1, f"{name} = inner({name}, {name})")]
        if self.c.flip(0.3):
            body = [(1, f"if {self.condition(scope)}:"), (2, f"{name} = inner({name}, {name})")]
        return [(0, f"for {var} in range({k}):")] + body

    def stmt_overwrite(self, scope):
        """for i in range(k): a = a * a * a: the loop overwrites a parameter (or local)."""
        self.use("overwrite_loop")
        names = self.reassignable(scope)
        if not names:
            return self.stmt_assign(scope)
        params = [n for n in names if len(n) == 1]
        name = self.c.pick(params or names)
        var = self.index_name(scope)
        k = self.c.integer(1, 3)
        text = self.c.pick(["{n} * {n} * {n}", "{n} * {n} * 0.8", "np.sin({n}) * {n} + 0.5",
                            "{n} * np.tanh({n})"]).format(n=name)
        return [(0, f"for {var} in range({k}):"), (1, f"{name} = {text}")]

    def stmt_matrix(self, scope):
        """A 3x3 array made for element writes, written by rows, columns and elements, reduced."""
        self.use("matrix")
        name = self.ctx.fresh("m")
        vectors = [n for n, s in scope.vars.items() if s == LENGTH]
        forms = []
        if self.matrix_param:
            forms += [f"{self.matrix_param}.copy()", f"{self.matrix_param} * 1.0"]
        if self.can_make(scope, LENGTH):
            forms += ["outer"]
        form = self.c.pick(forms)
        if form == "outer":
            u = self.expr(scope, LENGTH, self.c.integer(0, 1))
            v = self.expr(scope, LENGTH, 0) if self.c.flip(0.5) else u
            form = f"np.outer({u.text}, {v.text})"
        lines = [(0, f"{name} = {form}")]
        scalar = lambda: self.expr(scope, 0, self.c.integer(0, 1)).text
        for _ in range(self.c.integer(1, 3)):
            j, k = self.c.integer(0, LENGTH - 1), self.c.integer(0, LENGTH - 1)
            kind = self.c.pick(["column", "row", "element", "row_vector", "rebind_loop",
                                "element_loop"])
            if kind == "column":
                lines.append((0, f"{name}[:, {j}] = {name}[:, {j}] * {wrap(Expr(scalar(), ADD), MUL)}"))
            elif kind == "row":
                lines.append((0, f"{name}[{j}, :] = {name}[{j}, :] * "
                                 f"{wrap(Expr(scalar(), ADD), MUL)} + {wrap(Expr(scalar(), ADD), MUL)}"))
            elif kind == "element":
                lines.append((0, f"{name}[{j}, {k}] = {scalar()}"))
            elif kind == "row_vector" and self.can_make(scope, LENGTH):
                lines.append((0, f"{name}[{j}, :] = "
                                 f"{self.expr(scope, LENGTH, self.c.integer(0, 1)).text}"))
            elif kind == "element_loop":
                var = self.index_name(scope)
                lines += [(0, f"for {var} in range({LENGTH}):"),
                          (1, f"{name}[{var}, {j}] = {name}[{var}, {j}] * {wrap(Expr(scalar(), ADD), MUL)}")]
            else:
                var = self.index_name(scope)
                lines += [(0, f"for {var} in range({self.c.integer(1, 2)}):"),
                          (1, f"{name} = {name} + {wrap(Expr(scalar(), ADD), ADD + 1)}")]
        result = self.ctx.fresh()
        if vectors and self.c.flip(0.4):
            v = self.c.pick(vectors)
            text = self.c.pick([f"{name}[:, {self.c.integer(0, 2)}] * 1.0",
                                f"np.sum({name}, axis=0)", f"np.dot({name}, {v})"])
            scope.vars[result] = LENGTH
        else:
            text = self.c.pick([f"np.sum({name})", f"np.sum({name} * {name}) / 9.0",
                                f"{name}[{self.c.integer(0, 2)}, {self.c.integer(0, 2)}]",
                                f"np.mean(np.tanh({name}))"])
            scope.vars[result] = 0
        return lines + [(0, f"{result} = {text}")]

    def stmt_closure(self, scope):
        """A nested function reading f's names, called right after it is defined."""
        self.use("closure")
        name = self.ctx.fresh("g")
        shape = self.new_shape(scope)
        inner = scope.copy()
        inner.vars = {"z": shape, **scope.vars}
        inner.depth += 1
        body = self.expr(inner, shape, self.c.integer(1, 2))
        if body.view_of:
            body = binop(body, "*", const(1.0))
        result = self.ctx.fresh()
        calls = [call(name, self.expr(scope, shape, self.c.integer(0, 1)))
                 for _ in range(self.c.integer(1, 2))]
        value = calls[0] if len(calls) == 1 else binop(calls[0], self.c.pick("+*"), calls[1])
        scope.vars[result] = shape
        return [(0, f"def {name}(z):"), (1, f"return {body.text}"),
                (0, f"{result} = {value.text}")]

    def stmt_list(self, scope):
        self.use("list_append")
        lst = self.ctx.fresh("l")
        item_shape = self.c.pick([0] + ([LENGTH] if self.can_make(scope, LENGTH) else []))
        def prelude(inner):
            e = self.expr(inner, item_shape, self.c.integer(0, 2))
            if e.view_of:
                if e.view_of in self.ctx.buffers:
                    e = binop(e, "*", const(1.0))
                else:
                    self.ctx.tainted.add(e.view_of)
            return [(0, f"{lst}.append({e.text})")]

        loop_lines = self.stmt_for(scope, prelude)
        result = self.ctx.fresh()
        if item_shape:
            text = self.c.pick([f"np.sum(np.stack({lst}), axis=0)", f"sum({lst})",
                                f"np.mean(np.stack({lst}), axis=0)", f"np.stack({lst})[0]"])
        else:
            text = self.c.pick([f"np.sum(np.stack({lst}))", f"sum({lst})",
                                f"np.mean(np.stack({lst}))", f"np.stack({lst})[-1]"])
        scope.vars[result] = item_shape
        return [(0, f"{lst} = []")] + loop_lines + [(0, f"{result} = {text}")]

    # ---------------------------------------------------------------- conditions

    def condition(self, scope, allow_int=True):
        c = self.comparison(scope, allow_int)
        if self.c.flip(0.15):
            c = f"({c} {self.c.pick(['and', 'or'])} {self.comparison(scope, allow_int)})"
        return c

    def comparison(self, scope, allow_int):
        op = self.c.pick(["<", ">", "<=", ">="])
        if allow_int and scope.indices and self.c.flip(0.15):
            var, bound = self.c.pick(scope.indices)
            return f"{var} {op} {self.c.integer(0, max(bound - 1, 0))}"
        left = self.scalar_term(scope, self.c.integer(0, 1))
        right = None if self.c.flip(0.6) else self.expr(scope, 0, 0)
        if right is None or right.text == left.text:   # x < x is never far from its kink
            right = const(self.c.pick(CONSTANTS))
        return f"{left.text} {op} {right.text}"

    def scalar_term(self, scope, depth):
        """A scalar expression that involves data where possible (for conditions, returns)."""
        vectors = [n for n, s in scope.vars.items() if s]
        if vectors and self.on("reductions") and self.c.flip(0.5):
            v = self.expr(scope, self.c.pick(sorted({scope.vars[n] for n in vectors})), depth)
            return call(self.c.pick(["np.sum", "np.mean"]), v)
        return self.expr(scope, 0, depth, data=True)

    # ---------------------------------------------------------------- expressions

    def can_make(self, scope, shape):
        if shape == 0:
            return True
        lengths = {s for s in scope.vars.values() if s}
        if shape in lengths:
            return True
        if shape == 2 and LENGTH in lengths and self.on("slice"):
            return True
        # (a helper returning a vector needs a vector argument itself: no help here)
        return shape == LENGTH and bool(lengths) and self.on("fancy_index")

    def expr(self, scope, shape, depth, data=False):
        if depth <= 0 or self.c.flip(0.25):
            return self.leaf(scope, shape, data)
        vec = shape != 0
        f = self.on
        kind = self.c.weighted([
            (4 if f("arith") else 0, "arith"),
            (1 if f("divide") else 0, "divide"),
            (1 if f("power") else 0, "power"),
            (1 if f("negate") else 0, "negate"),
            (2 if f("trig") else 0, "trig"),
            (2 if f("tanh") else 0, "tanh"),
            (1 if f("exp") else 0, "exp"),
            (1 if f("log") else 0, "log"),
            (1 if f("sqrt") else 0, "sqrt"),
            (2 if f("reductions") and not vec and self._has_vectors(scope) else 0, "reduce"),
            (2 if f("dot") and not vec and self._has_vectors(scope) else 0, "dot"),
            (1 if f("maximum") else 0, "maximum"),
            (1 if f("abs") else 0, "abs"),
            (1 if f("helpers") and self._callable(scope, shape) else 0, "helper"),
            (1 if f("aliased_calls") else 0, "inner"),
            (1 if f("tuple_args") else 0, "pack"),
            (2 if f("where") and vec else 0, "where"),
            (1 if f("mask_index") and not vec and LENGTH in scope.vars.values() else 0, "mask"),
            (1 if f("newaxis") and shape in (0, LENGTH) and LENGTH in scope.vars.values()
             else 0, "newaxis"),
            (1 if f("clip") else 0, "clip"),
            (1 if f("ifexp") else 0, "ifexp"),
            (1, "leaf"),
        ])
        sub = lambda s=shape, d=depth - 1: self.expr(scope, s, d)
        if kind == "leaf":
            return self.leaf(scope, shape, data)
        if kind == "arith":
            self.use("arith")
            op = self.c.pick("+-*")
            a_shape, b_shape = self.operand_shapes(shape)
            a = self.expr(scope, a_shape, depth - 1)
            b = self.expr(scope, b_shape, depth - 1)
            return binop(a, op, b)
        if kind == "divide":
            self.use("divide")
            if self.c.flip(0.2):
                return binop(sub(), "/", const(self.c.pick([2.0, 3.0, 1.5, -0.7])))
            a_shape, b_shape = self.operand_shapes(shape)
            a = self.expr(scope, a_shape, depth - 1)
            b = self.expr(scope, b_shape, depth - 1)
            bw = wrap(b, ATOM)
            denominator = self.c.pick([f"1.0 + {bw} * {bw}", f"2.0 + np.cos({b.text})",
                                       f"1.5 + np.tanh({b.text})", f"1.0 + {bw} ** 2"])
            return binop(a, "/", Expr(denominator, ADD))
        if kind == "power":
            self.use("power")
            return Expr(f"{wrap(sub(), ATOM)} ** {self.c.pick([2, 3])}", POW)
        if kind == "negate":
            self.use("negate")
            return Expr(f"-{wrap(sub(), UNARY)}", UNARY)
        if kind in ("trig", "tanh"):
            self.use(kind)
            name = "np.tanh" if kind == "tanh" else self.c.pick(["np.sin", "np.cos",
                                                                "np.arctan"])
            return call(name, sub())
        if kind == "exp":
            self.use("exp")
            e = sub()
            inner = self.c.pick([f"np.tanh({e.text})", f"np.sin({e.text})",
                                 f"-{wrap(e, ATOM)} ** 2",
                                 f"-{wrap(e, ATOM)} * {wrap(e, ATOM)}"])
            return call("np.exp", inner)
        if kind in ("log", "sqrt"):
            self.use(kind)
            e = sub()
            square = self.c.pick([f"{wrap(e, MUL + 1)} * {wrap(e, MUL + 1)}",
                                  f"{wrap(e, ATOM)} ** 2"])
            return call(f"np.{kind}", f"1.0 + {square}")
        if kind == "reduce":
            self.use("reductions")
            return call(self.c.pick(["np.sum", "np.mean"]),
                        self.expr(scope, self._vector_shape(scope), depth - 1))
        if kind == "dot":
            self.use("dot")
            n = self._vector_shape(scope)
            return call("np.dot", self.expr(scope, n, depth - 1), self.expr(scope, n, depth - 1))
        if kind == "maximum":
            self.use("maximum")
            name = self.c.pick(["np.maximum", "np.minimum"])
            if self.c.flip(0.6):
                return call(name, sub(), const(self.c.pick(CONSTANTS)))
            a_shape, b_shape = self.operand_shapes(shape)
            return call(name, self.expr(scope, a_shape, depth - 1),
                        self.expr(scope, b_shape, depth - 1))
        if kind == "abs":
            self.use("abs")
            return call("np.abs", sub())
        if kind == "helper":
            self.use("helpers")
            h = self.c.pick([h for h in self.helpers if h.returns == shape
                             and all(self.can_make(scope, s) for s in h.params)])
            if (self.on("aliased_calls") and len(h.params) > 1 and len(set(h.params)) == 1
                    and self.c.flip(0.4)):
                self.use("aliased_calls")
                a = self.leaf(scope, h.params[0])
                return call(h.name, *([a] * len(h.params)))
            return call(h.name, *(self.expr(scope, s, min(depth - 1, 1)) for s in h.params))
        if kind == "inner":
            self.use("aliased_calls")
            self.fixed_helpers.add("inner")
            a = self.leaf(scope, shape) if self.c.flip(0.6) else sub()
            return call("inner", a, a)
        if kind == "pack":
            self.use("tuple_args")
            helper = self.c.pick(["pair_product", "pair_sum"])
            self.fixed_helpers.add(helper)
            a_shape, b_shape = self.operand_shapes(shape)
            a = self.expr(scope, a_shape, depth - 1)
            b = self.expr(scope, b_shape, depth - 1)
            packed = f"({a.text}, {b.text})" if self.c.flip(0.6) else f"[{a.text}, {b.text}]"
            return call(helper, packed)
        if kind == "where":
            self.use("where")
            test = self.leaf(scope, shape)
            e = sub()
            op = self.c.pick(["<", ">"])
            c = const(self.c.pick(CONSTANTS)).text
            number = const(self.c.pick(CONSTANTS)).text
            form = self.c.integer(0, 2)
            if form == 0:
                return call("np.where", f"{test.text} {op} {c}", e.text, number)
            if form == 1:
                return call("np.where", f"{test.text} {op} {c}", number, e.text)
            return binop(call("np.where", f"{test.text} {op} {c}", "1.0", "-1.0"), "*", e)
        if kind == "mask":
            self.use("mask_index")
            v = self._favored([n for n, s in scope.vars.items() if s == LENGTH])
            e = self.expr(scope, LENGTH, depth - 1)
            op = self.c.pick(["<", ">", "<=", ">="])
            c = const(self.c.pick(CONSTANTS)).text
            return call("np.sum", f"{wrap(e, ATOM)}[{v} {op} {c}]")
        if kind == "newaxis":
            self.use("newaxis")
            u = self.expr(scope, LENGTH, depth - 1)
            w = self.expr(scope, LENGTH, depth - 1)
            right = self.c.pick([wrap(w, MUL + 1), f"{wrap(w, ATOM)}[None, :]"])
            product = f"{wrap(u, ATOM)}[:, None] * {right}"
            if shape:
                return call("np.sum", product, f"axis={self.c.integer(0, 1)}")
            return call("np.sum", product)
        if kind == "clip":
            self.use("clip")
            low, high = self.c.pick([(-0.7, 1.0), (-1.2, 0.5), (0.1, 1.5), (-0.7, 0.3)])
            return call("np.clip", sub(), const(low), const(high))
        if kind == "ifexp":
            self.use("ifexp")
            a, b = sub(), sub()
            return Expr(f"({a.text} if {self.condition(scope)} else {b.text})")
        raise AssertionError(kind)

    def operand_shapes(self, shape):
        if shape and self.on("broadcast"):
            shapes = self.c.weighted([(4, (shape, shape)), (1, (0, shape)), (1, (shape, 0))])
            if 0 in shapes:
                self.use("broadcast")
            return shapes
        return shape, shape

    def _has_vectors(self, scope):
        return any(s for s in scope.vars.values())

    def _vector_shape(self, scope):
        lengths = sorted({s for s in scope.vars.values() if s})
        if LENGTH in lengths and self.on("slice"):
            lengths = sorted(set(lengths) | {2})
        return self.c.pick(lengths[::-1])

    def _callable(self, scope, shape):
        return any(h.returns == shape and all(self.can_make(scope, s) for s in h.params)
                   for h in self.helpers)

    def index_text(self, scope, length):
        indices = [(n, b) for n, b in scope.indices if b <= length]
        if indices and self.c.flip(0.6):
            return self.c.pick(indices)[0]
        return str(self.c.integer(-length, length - 1))

    def leaf(self, scope, shape, data=False):
        names = [n for n, s in scope.vars.items() if s == shape]
        if shape == 0:
            vectors = [n for n, s in scope.vars.items() if s] if self.on("index") else []
            options = [
                (0 if data and (names or vectors) else 1, "const"),
                (4 if names else 0, "name"),
                (3 if vectors else 0, "index"),
                (1 if scope.indices and not data else 0, "loopvar"),
            ]
            kind = self.c.weighted(options)
            if kind == "name":
                return Expr(self._favored(names))
            if kind == "index":
                self.use("index")
                v = self._favored(vectors)
                return Expr(f"{v}[{self.index_text(scope, scope.vars[v])}]")
            if kind == "loopvar":
                var, _ = self.c.pick(scope.indices)
                return binop(const(self.c.pick([0.5, 0.1, 0.3])), "*", Expr(var))
            if self.scale and self.c.flip(0.3):
                return Expr("SCALE")
            return const(self.c.pick(CONSTANTS))
        sources = [n for n, s in scope.vars.items() if s == LENGTH]
        all_vectors = [n for n, s in scope.vars.items() if s]
        options = [(5 if names else 0, "name"),
                   (2 if shape == 2 and sources and self.on("slice") else 0, "slice2"),
                   (1 if shape == LENGTH and sources and self.on("slice") else 0, "slice3"),
                   (1 if all_vectors and self.on("fancy_index") else 0, "fancy")]
        kind = self.c.weighted(options)
        if kind == "name":
            name = self._favored(names)
            return Expr(name, view_of=name)
        if kind == "slice2":
            self.use("slice")
            v = self._favored(sources)
            steps = ["::-2", "-1:0:-1", "-3:-1", "2:0:-1"] if self.on("step_slice") else []
            s = self.c.pick(["1:", ":2", "::2", "-2:", ":-1", "1:3"] + steps)
            if s in steps:
                self.use("step_slice")
            return Expr(f"{v}[{s}]", view_of=v)
        if kind == "slice3":
            self.use("slice")
            v = self._favored(sources)
            steps = ["2::-1", "-1::-1", "-3:"] if self.on("step_slice") else []
            s = self.c.pick(["::-1", ":"] + steps)
            if s in steps:
                self.use("step_slice")
            return Expr(f"{v}[{s}]", view_of=v)
        self.use("fancy_index")
        v = self._favored(all_vectors)
        n = scope.vars[v]
        picks = [self.c.integer(0, n - 1) for _ in range(shape)]
        return Expr(f"{v}[{picks}]")

    def _favored(self, names):
        if self.favor in names and self.c.flip(0.5):
            return self.favor
        return self.c.pick(names)


# --------------------------------------------------------------------------------------------
# Instrumentation: the margins of every comparison and kink the program passes through.

class _Instrument(ast.NodeTransformer):
    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) != 1:
            return node
        op = type(node.ops[0]).__name__
        return ast.copy_location(ast.Call(
            func=ast.Name("__compare", ast.Load()),
            args=[node.left, node.comparators[0], ast.Constant(op)], keywords=[]), node)

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                and f.value.id == "np" and f.attr in ("maximum", "minimum", "abs", "clip")):
            return ast.copy_location(ast.Call(
                func=ast.Name(f"__kink_{f.attr}", ast.Load()), args=node.args,
                keywords=node.keywords), node)
        return node


_OPS = {"Lt": lambda a, b: a < b, "Gt": lambda a, b: a > b, "LtE": lambda a, b: a <= b,
        "GtE": lambda a, b: a >= b, "Eq": lambda a, b: a == b, "NotEq": lambda a, b: a != b}


def _is_integer(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def instrument(source, name):
    """Compile ``source`` with comparisons and kinks that record their margins.

    Returns ``(function, margins)``: calling the function appends ``(what, margin, scale)`` for
    every comparison between floats and every ``np.maximum``/``np.minimum``/``np.abs`` element.
    """
    tree = _Instrument().visit(ast.parse(source))
    ast.fix_missing_locations(tree)
    margins = []

    def compare(a, b, op):
        if not (_is_integer(a) and _is_integer(b)):
            margins.append(("comparison", float(np.min(np.abs(np.subtract(a, b)))),
                            float(max(np.max(np.abs(a)), np.max(np.abs(b)), 1.0))))
        return _OPS[op](a, b)

    def kink(name, function):
        def wrapped(a, b=None, c=None):
            if c is not None:   # np.clip(a, b, c): kinks at both bounds
                d = np.minimum(np.abs(np.subtract(a, b)), np.abs(np.subtract(a, c)))
                margins.append((name, float(np.min(d)), float(max(np.max(np.abs(a)), 1.0))))
                return function(a, b, c)
            if b is None:
                d, s = np.abs(a), np.abs(a)
            else:
                d = np.abs(np.subtract(a, b))
                s = np.maximum(np.abs(a), np.abs(b))
            margins.append((name, float(np.min(d)), float(max(np.max(s), 1.0))))
            return function(a) if b is None else function(a, b)
        return wrapped

    namespace = {"__compare": compare, "__kink_maximum": kink("np.maximum", np.maximum),
                 "__kink_minimum": kink("np.minimum", np.minimum),
                 "__kink_abs": kink("np.abs", np.abs), "__kink_clip": kink("np.clip", np.clip),
                 "__name__": "instrumented"}
    exec(compile(tree, "<instrumented>", "exec"), namespace)
    return namespace[name], margins


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extra", action="store_true", help="enable EXTRA_FEATURES too")
    options = parser.parse_args(argv)
    features = ALL_FEATURES if options.extra else DEFAULT_FEATURES
    for k in range(options.count):
        program = ProgramGenerator(RandomChooser(options.seed * 100003 + k), features).program()
        print(f"# ---- program {k}\n{program.describe()}\n")


if __name__ == "__main__":
    main()
