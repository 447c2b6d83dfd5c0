"""The holding states of a loop's adjoints are worked out before its body is generated
(holding_flow.py), so each loop body is generated once, nested loops included; the code is the
same as when the fixed point was found by generating the body again and again."""
import numpy as np
import pytest

import srcgrad as sg
from checks import check_grads
from srcgrad.transform import reverse


def nested_loops(W, x, h0):
    h = h0
    total = 0.0
    for t in range(x.shape[0]):
        z = np.tanh(W @ h + x[t])
        for k in range(2):
            z = z * 0.5 + np.sin(z)
        acc = 0.0
        j = 0
        while j < 2:
            acc = acc + np.sum(z * h)
            j = j + 1
        h = z
        total = total + acc
    return total + np.sum(h ** 2)


def carried_through_a_branch(x, n):
    y = x
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s = s + np.sum(np.sin(y))
        else:
            y = y * 1.1
    return s


def appends_and_stacks(x):
    items = []
    for i in range(3):
        x = np.cos(x) + 0.1 * i
        items.append(x)
    return np.sum(np.stack(items) ** 2)


@pytest.fixture
def generated_statements(monkeypatch):
    """Counts, per statement of the normalized function, how often reverse mode generates it."""
    counts = {}
    statement = reverse.ReverseMode.statement

    def counting(self, stmt, state):
        counts[id(stmt)] = counts.get(id(stmt), 0) + 1
        return statement(self, stmt, state)

    monkeypatch.setattr(reverse.ReverseMode, "statement", counting)
    monkeypatch.setenv("SRCGRAD_CACHE", "0")
    return counts


CASES = [
    (nested_loops, (np.eye(3) * 0.4, np.arange(12.0).reshape(4, 3) / 10, np.ones(3) * 0.2),
     (0, 2)),
    (carried_through_a_branch, (np.array([0.3, -0.2]), 4), 0),
    (appends_and_stacks, (np.array([0.5, 1.5]),), 0),
]


@pytest.mark.parametrize("function, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_each_loop_body_is_generated_once(generated_statements, function, args, wrt):
    sg.grad(function, wrt=wrt)(*args)
    assert generated_statements and set(generated_statements.values()) == {1}


@pytest.mark.parametrize("function, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_the_code_of_such_loops_gives_the_right_derivatives(function, args, wrt):
    check_grads(function, *args, wrt=wrt, order=2)
