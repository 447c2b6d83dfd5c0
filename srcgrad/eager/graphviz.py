"""A picture of the backward graph: Graphviz DOT text, for ``dot -Tpng``."""
from .engine import topological_order
from .node import AccumulateGrad, edge_of


def to_dot(tensor):
    """DOT text of the graph behind ``tensor``: one box per node, named as ``grad_fn`` shows it,
    leaves with their shapes, arrows in the direction the values flowed."""
    lines = ["digraph backward {",
             '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];']
    output_label = f"output\\n{_shape(tensor.shape)}"
    lines.append(f'  output [label="{output_label}", shape=ellipse, fillcolor=lightgreen];')
    root, _ = edge_of(tensor)
    if root is None:
        lines.append("}")
        return "\n".join(lines) + "\n"
    order = topological_order([root])
    ids = {node: f"n{k}" for k, node in enumerate(order)}
    for node in order:
        if isinstance(node, AccumulateGrad):
            label = f"AccumulateGrad\\nleaf {_shape(node.variable.shape)}"
            lines.append(f'  {ids[node]} [label="{label}", fillcolor=lightblue];')
        else:
            lines.append(f'  {ids[node]} [label="{node.name()}"];')
    for node in order:
        for child, _ in node.next_functions:
            if child is not None:
                lines.append(f"  {ids[child]} -> {ids[node]};")
    lines.append(f"  {ids[root]} -> output;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _shape(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
