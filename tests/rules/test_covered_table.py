"""The README's table of covered functions is generated from the rule table; this test fails
when they disagree. ``python tests/rules/test_covered_table.py`` prints the section to paste."""
import pathlib
import re

import pytest

from srcgrad.rules import VJP_RULES
from srcgrad.rules.registry import qualified_name

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"

FAMILIES = [  # (title, the rule modules of that family)
    ("Elementwise", ("arithmetic", "ufuncs", "elementwise")),
    ("Reductions and scans", ("reductions", "statistics", "scans")),
    ("Linear algebra", ("linalg",)),
    ("Shapes, joining, order and indexing", ("shape", "arrays")),
    ("SciPy (registered when SciPy imports)", ("scipy_special",)),
]

# Primitives srcgrad stands in for what the user writes.
SPELLED = {"transpose_attribute": "x.T", "astype": "x.astype", "item_of": "x.item()", "einsum_of": "numpy.einsum",
           "broadcast_arrays_of": "numpy.broadcast_arrays", "meshgrid_of": "numpy.meshgrid",
           "r_join": "numpy.r_[...]", "c_join": "numpy.c_[...]", "getitem": "x[index]",
           "psi": "scipy.special.digamma (psi)", "conjugate": "numpy.conj (conjugate)",
           "absolute": "numpy.abs (absolute)",
           "svd_values": "numpy.linalg.svd(compute_uv=False)",
           "qr_r": "numpy.linalg.qr(mode='r')", "qr_complete": "numpy.linalg.qr(mode='complete')",
           "gradients_along": "numpy.gradient(axis=(i, j, ...))"}
OPERATORS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**", "neg": "- (unary)",
             "pos": "+ (unary)", "matmul": "@", "mod": "%", "getitem": "x[index]"}


def public_name(primitive):
    name = qualified_name(primitive)
    module, _, short = name.rpartition(".")
    if module == "operator":
        return OPERATORS.get(short, name)
    if module.startswith("srcgrad"):
        return SPELLED.get(short)
    return SPELLED.get(short, name)


def covered_functions():
    """{family title: sorted public names} for every rule srcgrad ships."""
    table = {title: set() for title, _ in FAMILIES}
    for primitive, rule in VJP_RULES.items():
        module = rule.function.__module__
        if not module.startswith("srcgrad.rules."):
            continue
        name = public_name(primitive)
        for title, modules in FAMILIES:
            if module.rpartition(".")[2] in modules and name is not None:
                table[title].add(name)
    return {title: sorted(names, key=str.lower) for title, names in table.items()}


def section():
    table = covered_functions()
    total = sum(len(names) for names in table.values())
    lines = ["## Covered functions", "",
             f"Every function below has a reverse rule and a forward rule in `srcgrad/rules/` "
             f"({total} in all), with second derivatives through both. The transformer uses "
             f"them; the eager Tensor calls the same rules for every call NumPy hands it (ufuncs, "
             f"and functions that dispatch on their arguments), which leaves out SciPy's "
             f"functions written in Python (`logsumexp`, `softmax`, `scipy.stats`, "
             f"`scipy.linalg`), `np.r_`/`np.c_`, `np.full` and `np.asarray`. In transformed "
             f"code, array methods that mirror them (`x.var()`, `x.std(axis=0)`, `x.cumsum()`, `x.diagonal()`, "
             f"`x.repeat(2)` ...) map to the same rules. Generated from the rule table by "
             f"`tests/rules/test_covered_table.py`, which fails when they disagree.", "",
             "| Family | Count | Functions |", "| --- | ---: | --- |"]
    for title, names in table.items():
        lines.append(f"| {title} | {len(names)} | " + ", ".join(f"`{n}`" for n in names) + " |")
    return "\n".join(lines) + "\n" + AUDIT


# The speed audit of issue #12, written by hand (its examples are pinned by
# tests/transform/test_golden_source.py::test_generated_source_of_rules_is_unchanged).
AUDIT = """
### What the rules generate

Audited by reading `srcgrad.source(srcgrad.grad(f), *args)` (specialized to the arguments) for
one example per family; the examples' generated code is pinned in `tests/transform/golden/rules_*.txt`.

| Family | Example | What the generated adjoint does | Verdict |
| --- | --- | --- | --- |
| Elementwise | `np.tanh(x) * np.exp(x) + np.arctan2(x, 2.0) + np.maximum(x, 0.0)` | one NumPy expression per term, reusing the saved `tanh(x)` and `exp(x)`; constants folded (`g / (x * x + 4.0) * 2.0`); `maximum` gives half the adjoint to ties through two `np.where` | as written by hand |
| Reductions and scans | `np.mean(x, axis=0)`, `np.cumsum(x, axis=1)`, `np.max(x)`, `np.var(x, axis=1)` | `mean` scales the adjoint at the reduced size, then stretches it as a view (fixed here: it scaled the full-size array twice); `var` is `g[:, None] * (x - mean) * (2 / n)`; `cumsum` is a reversed cumsum | fine; `expand_reduced(g, x, None, False)` of a number and a no-op `np.reshape(..., shape_of(x))` after `cumsum` along an axis remain: cheap views, folded only by the forward specializer so far (reverse.py's specialization could fold them too) |
| Linear algebra | `np.tanh(x @ w)`, `np.trace(w.T @ w)`, `np.linalg.svd(w, compute_uv=False)` | `g @ w.T` and `x.T @ g` for 2-D operands; `svd(compute_uv=False)` is `(u * g) @ vh` from one thin SVD | fine; `matmul_adjoint_left/right` stay where a product's operand is a transposed view (`w.T @ w`), and `trace_adjoint` builds the diagonal mask where `g * np.eye(n)` would do: small helpers, no copies of large arrays |
| Shapes, joining, indexing | `np.concatenate`, `x[:, :2]`, `np.transpose(x)[0]`, `x.reshape(-1)[::2]`, `np.where` | `split_like` gives views of the adjoint; slices add in place (`dx[:, :2] += ...`); `np.where(c, g, 0.0)` | fine; the condition `x > 0` is computed again rather than saved, `reshape_to` and `inverse_permutation(None)` are one-line helpers where `np.reshape`/`np.transpose` would do |
| SciPy | `logsumexp(x, axis=1)`, `expit(x)`, `erf(x)` | `g * expit * (1 - expit)`, `g * 2/sqrt(pi) * exp(-x * x)`; `logsumexp` is `exp(x - lse) * g` | fixed here: a rule's `weights if b is None else weights * b` left `weights if True else ...` in the code; constant conditional expressions now fold when the code is written out |
"""


def readme_section():
    text = README.read_text()
    match = re.search(r"^## Covered functions\n.*?(?=^## )", text, flags=re.M | re.S)
    return None if match is None else match.group(0).rstrip("\n") + "\n"


def test_readme_table_matches_the_rules():
    pytest.importorskip("scipy")  # the SciPy row lists the rules registered with SciPy
    assert readme_section() == section(), (
        "README's '## Covered functions' differs from the rule table; regenerate it with "
        "python tests/rules/test_covered_table.py")


def test_the_table_sits_just_before_eager_mode():
    text = README.read_text()
    assert text.index("## Covered functions") < text.index("## Eager mode")
    between = text[text.index("## Covered functions"):text.index("## Eager mode")]
    assert between.count("\n## ") == 0


if __name__ == "__main__":
    print(section())
