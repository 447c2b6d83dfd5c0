"""The recorded graph: node names, next_functions, AccumulateGrad, and its DOT picture."""
import numpy as np

from srcgrad.eager import tensor, to_dot


def test_node_names_and_edges():
    a = tensor([1.0, 2.0], requires_grad=True)
    b = tensor([3.0, 4.0])
    y = a * b + a
    assert y.grad_fn.name() == "AddBackward0"
    (mul, _), (accumulate, _) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and accumulate.name() == "AccumulateGrad"
    assert accumulate.variable is a
    assert mul.next_functions[0][0] is accumulate  # one AccumulateGrad per leaf
    assert mul.next_functions[1] == (None, 0)  # b does not require grad


def test_names_follow_pytorch_for_common_operations():
    x = tensor(np.ones((2, 3)), requires_grad=True)
    names = [t.grad_fn.name() for t in (
        x - 1, x / 2, x ** 2, -x, x.exp(), x.log(), x.tanh(), x.sum(), x.mean(), x.abs(),
        x @ x.T, x[0], x.reshape(3, 2), x.view(6), x.T, x.relu(), x.clamp(0, 1), x.clone(),
        x.unsqueeze(0), x[0].expand(2, 3))]
    assert names == ["SubBackward0", "DivBackward0", "PowBackward0", "NegBackward0",
                     "ExpBackward0", "LogBackward0", "TanhBackward0", "SumBackward0",
                     "MeanBackward0", "AbsBackward0", "MmBackward0", "SelectBackward0",
                     "ViewBackward0", "ViewBackward0", "PermuteBackward0", "ReluBackward0",
                     "ClampBackward1", "CloneBackward0", "UnsqueezeBackward0", "ExpandBackward0"]


def test_to_dot_draws_nodes_leaves_with_shapes_and_edges():
    w = tensor(np.ones((3, 2)), requires_grad=True)
    x = tensor(np.ones(3), requires_grad=True)
    loss = (x @ w).sum()
    dot = to_dot(loss)
    assert dot.startswith("digraph backward {") and dot.rstrip().endswith("}")
    lines = [line.strip() for line in dot.splitlines()]
    assert 'output [label="output\\n()", shape=ellipse, fillcolor=lightgreen];' in lines
    assert 'n0 [label="SumBackward0"];' in lines and 'n1 [label="MatMulBackward0"];' in lines
    leaves = sorted(line for line in lines if "AccumulateGrad" in line)
    assert any("leaf (3, 2)" in line for line in leaves) and any("leaf (3,)" in line
                                                                  for line in leaves)
    assert "n1 -> n0;" in lines and "n0 -> output;" in lines
    assert sum("-> n1;" in line for line in lines) == 2


def test_to_dot_of_a_tensor_without_history():
    dot = to_dot(tensor([1.0, 2.0]))
    assert 'output [label="output\\n(2,)"' in dot and "->" not in dot
