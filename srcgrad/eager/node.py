"""Nodes of the backward graph: a rule's step, a leaf's AccumulateGrad, and their edges."""
import weakref

import gast
import numpy as np

from ..runtime import shape_of
from .errors import EagerError, GraphFreedError, InplaceModifiedError
from .pruning import pruned
from .saved import SavedSequence, describe
from .tensor import Tensor  # the package imports tensor.py first, so Tensor is defined here

# PyTorch's names for the nodes of the operations both libraries have, so that grad_fn reads the
# same (MulBackward0); other rules are named after their function (exp -> ExpBackward0).
TORCH_STYLE_NAMES = {
    "add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div", "power": "Pow",
    "negative": "Neg", "absolute": "Abs", "sum_": "Sum", "amax": "Max", "amin": "Min",
    "matmul": "MatMul", "getitem": "Index", "concatenate": "Cat", "broadcast_to": "Expand",
    "expand_dims": "Unsqueeze", "reshape": "View", "ravel": "View", "transpose": "Permute",
    "T": "Permute", "swapaxes": "Transpose", "moveaxis": "Permute", "clip": "Clamp",
    "arctan": "Atan",
}


MISSING = object()  # a parameter without a default that the call did not give
NO_EDGE = (None, 0)  # the edge of an input that needs no gradient


_named_classes = {}


def named(name, base):
    """A subclass of ``base`` called ``name``: nodes are instances of classes named as PyTorch's
    (``type(y.grad_fn).__name__ == "AddBackward0"``, which ``name()`` returns), made once."""
    cls = _named_classes.get((name, base))
    if cls is None:
        cls = _named_classes[(name, base)] = type(name, (base,), {
            "__slots__": (), "__module__": base.__module__,
            "__doc__": f"PyTorch's {name}: {base.__doc__.splitlines()[0]}"})
    return cls


def rule_node_class(name):
    """The RuleNode subclass called ``name`` (one lookup: this runs once per recorded operation
    that names its node)."""
    cls = _rule_node_classes.get(name)
    if cls is None:
        cls = _rule_node_classes[name] = named(name, RuleNode)
    return cls


_rule_node_classes = {}


def camel_case(name):
    """``log_softmax_`` -> ``LogSoftmax``."""
    return "".join(part[:1].upper() + part[1:] for part in name.strip("_").split("_"))


class Node:
    """One step of the backward graph, what ``Tensor.grad_fn`` holds.

    ``next_functions`` has one ``(node, output_nr)`` edge per differentiable input, ``(None, 0)``
    for an input that needs no gradient. ``apply`` maps the gradients of the node's outputs to
    gradients of its inputs, in the order of ``next_functions``.
    """

    __slots__ = ("__weakref__",)
    # Defaults for nodes that keep none of their own (AccumulateGrad: one is made per leaf and
    # graph, on the hot path); RuleNode and FunctionNode have slots of these names.
    next_functions = input_shapes = ()
    _pre_hooks = _retained = None

    def __init__(self, next_functions=(), input_shapes=()):
        self.next_functions = next_functions
        self.input_shapes = input_shapes  # to catch a backward that returns a wrong shape
        self._pre_hooks = None  # output_nr -> {handle id: hook}, from Tensor.register_hook
        self._retained = None  # output_nr -> weak reference to a Tensor that called retain_grad

    def name(self):
        return type(self).__name__

    def apply(self, grads, create_graph):
        raise NotImplementedError

    def release(self):
        """Free what was saved for the backward pass (after a backward without retain_graph)."""

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad(Node):
    """The end of the graph at a leaf that requires grad: adds the gradient into ``leaf.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        # No edges, shapes or hooks of its own (Node's class defaults): only the leaf.
        self.variable = variable


def accumulator_of(leaf):
    """The leaf's AccumulateGrad node; one per leaf while any graph still uses it."""
    node = leaf._accumulator() if leaf._accumulator is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._accumulator = weakref.ref(node)
    return node


def edge_of(tensor):
    """Where the gradient of ``tensor`` goes: its grad_fn, its leaf accumulator, or nowhere."""
    if tensor.grad_fn is not None:
        return (tensor.grad_fn, tensor._output_nr)
    if tensor._requires_grad:
        return (accumulator_of(tensor), 0)
    return NO_EDGE


class RuleLayout:
    """How a rule's parameters map to saved arguments and to its returned adjoints (per rule)."""

    __slots__ = ("rule", "index_of_param", "adjoint_position", "single", "node_name",
                 "reads_result", "defaults_in_order", "option_indices", "value_reads",
                 "_checked", "several", "arity", "node_class", "complete_from")

    def __init__(self, rule, several=False):
        self.rule = rule
        self.several = several  # the primitive returns a list or tuple of arrays
        self.arity = len(rule.params)
        self.index_of_param = {name: i for i, name in enumerate(rule.params)}
        if rule.accumulates:  # adds into the adjoint of its first parameter only
            self.adjoint_position = {0: 0}
        else:
            self.adjoint_position = {self.index_of_param[name]: k
                                     for k, name in enumerate(rule.differentiable)}
        self.single = rule.accumulates or len(rule.differentiable) == 1
        # Per parameter: its default, or MISSING for one the call must give.
        self.defaults_in_order = [rule.defaults.get(name, MISSING) for name in rule.params]
        self.option_indices = [i for i in range(len(rule.params))
                               if i not in self.adjoint_position]
        # The fewest positional arguments a call may give: the parameters after them have
        # defaults (so that such a call needs no binding by name).
        self.complete_from = max([i + 1 for i, d in enumerate(self.defaults_in_order)
                                  if d is MISSING], default=0)
        self.node_name = f"{TORCH_STYLE_NAMES.get(rule.name) or camel_case(rule.name)}Backward0"
        self.node_class = rule_node_class(self.node_name)
        self.reads_result = _reads_result(rule)
        self.value_reads = _value_reads(rule)
        self._checked = {}

    def checked(self, active):
        """Which saved values to guard against in-place changes, as (parameter indices, whether
        the result is among them, whether that is every parameter), and the rule's function
        computing only the wanted adjoints, when the adjoints of the differentiable parameters
        whose bits are set in ``active`` are wanted. As PyTorch, a value whose numbers the wanted
        adjoints never read (only its shape, or nothing) may change in place."""
        found = self._checked.get(active)
        if found is None:
            if self.value_reads is None:  # the rule's source could not be read: guard all
                names = set(self.rule.params) | {"ans"}
            else:
                names = set()
                for k, reads in enumerate(self.value_reads):
                    if active >> k & 1:
                        names |= reads
            indices = frozenset(self.index_of_param[n] for n in names if n in self.index_of_param)
            wanted = frozenset(k for k in range(len(self.rule.differentiable))
                               if active >> k & 1)
            found = self._checked[active] = (indices, "ans" in names,
                                             len(indices) == len(self.rule.params),
                                             pruned(self.rule, wanted))
        return found


# Helpers that read only the shape (or dtype) of the argument at these positions, not its values.
SHAPE_ONLY = {"unbroadcast": (1,), "broadcast_like": (1,), "expand_reduced": (1,),
              "shape_of": (0,), "size_of": (0,), "ndim_of": (0,), "cast_like": (1,),
              "zeros_like": (0,), "ones_like": (0,), "split_like": (1,), "reshape_to": (1,),
              "matmul_adjoint_left": (1,), "matmul_adjoint_right": (2,)}


def _value_reads(rule):
    """Per differentiable parameter (the adjoint returned for it), the names of the parameters
    (and ``ans``) whose values the rule reads to compute it; None if the source is unknown."""
    try:
        tree = rule.tree
    except (OSError, TypeError):
        return None
    shape_only = set()
    for call in gast.walk(tree):
        if isinstance(call, gast.Call):
            function = call.func
            name = getattr(function, "id", None) or getattr(function, "attr", None)
            for position in SHAPE_ONLY.get(name, ()):
                if position < len(call.args) and isinstance(call.args[position], gast.Name):
                    shape_only.add(id(call.args[position]))

    def reads(node, local):
        names = set()
        for n in gast.walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and \
                    id(n) not in shape_only:
                names |= local.get(n.id, {n.id})
        return names

    local = {}  # a local name -> the parameters its value was computed from
    returned = None
    for statement in tree.body:
        if isinstance(statement, gast.Assign):
            found = reads(statement.value, local)
            for target in statement.targets:
                for n in gast.walk(target):
                    if isinstance(n, gast.Name):
                        local[n.id] = found
        elif isinstance(statement, gast.Return):
            returned = statement.value
        else:  # an accumulating rule's statement (add_at(dx, index, g)): one adjoint
            returned = statement
    count = 1 if rule.accumulates else len(rule.differentiable)
    if returned is None:
        return [set() for _ in range(count)]
    if count > 1 and isinstance(returned, gast.Tuple) and len(returned.elts) == count:
        parts = returned.elts
    else:
        parts = [returned] * count
    return [reads(part, local) for part in parts]


def _reads_result(rule):
    """Whether the rule's body reads ``ans`` (its values or its shape); for most (add, mul,
    getitem ...) the result is not saved at all."""
    try:
        tree = rule.tree
    except (OSError, TypeError):  # no source to read: assume it does
        return True
    return any(isinstance(n, gast.Name) and n.id == "ans" and isinstance(n.ctx, gast.Load)
               for n in gast.walk(tree))


class RuleNode(Node):
    """The backward step of a primitive: calls its rule from ``srcgrad.rules`` on the saved values.

    With ``create_graph`` the rule runs on Tensors, so the backward pass is itself recorded.
    """

    __slots__ = ("next_functions", "input_shapes", "_pre_hooks", "_retained", "layout", "saved",
                 "tensors", "saved_output", "slots", "guard")

    def __init__(self, layout, values):
        # One of these is made per recorded operation: the loop below is the tape's main cost,
        # so it makes no calls it can avoid (edges and saved tensors are written out here).
        self.layout = layout
        self.saved_output = None
        differentiable = layout.adjoint_position
        # ``values``: what the rule reads back, in the order of its parameters (Tensors kept as
        # they are, sequences of Tensors as SavedSequence). ``tensors``: per Tensor among them,
        # (parameter index, the Tensor, its array and its version now), so that an in-place
        # change before the backward pass is caught. One slot per differentiable Tensor:
        # (parameter index, position in a sequence argument or None), with its edge.
        # ``active``: a bit per differentiable parameter whose adjoint is wanted (an input that
        # requires grad); which saved values are guarded follows from it (``guard``, from a
        # cache per rule), checked at backward time.
        tensors, slots, edges, shapes = [], [], [], []
        active = 0
        for i, value in enumerate(values):
            if isinstance(value, Tensor):
                tensors.append((i, value, value._data, value._counter[0]))
                k = differentiable.get(i)
                if k is not None:
                    if value.grad_fn is not None:
                        edges.append((value.grad_fn, value._output_nr))
                        active |= 1 << k
                    elif value._requires_grad:  # a leaf: accumulator_of(value) written out
                        reference = value._accumulator
                        accumulator = reference() if reference is not None else None
                        if accumulator is None:
                            accumulator = AccumulateGrad(value)
                            value._accumulator = weakref.ref(accumulator)
                        edges.append((accumulator, 0))
                        active |= 1 << k
                    else:
                        edges.append(NO_EDGE)
                    slots.append((i, None))
                    shapes.append(value._data.shape)
            elif type(value) in (list, tuple) and any(isinstance(e, Tensor) for e in value):
                values[i] = SavedSequence(value)
                k = differentiable.get(i)
                if k is not None:
                    for j, item in enumerate(value):
                        edge = edge_of(item) if isinstance(item, Tensor) else NO_EDGE
                        slots.append((i, j))
                        edges.append(edge)
                        shapes.append(shape_of(item))
                        if edge[0] is not None:
                            active |= 1 << k
        self.saved, self.tensors, self.slots = values, tensors, slots
        self.guard = layout._checked.get(active) or layout.checked(active)
        self.next_functions, self.input_shapes = tuple(edges), tuple(shapes)
        self._pre_hooks = self._retained = None

    def apply(self, grads, create_graph):
        if self.saved is None:
            raise GraphFreedError()
        # As PyTorch, only values whose numbers the wanted adjoints read are checked for
        # in-place changes; the others are read for their shapes only.
        checked, result_checked, all_checked, function = self.guard
        args = list(self.saved)
        for i, tensor, data, version in self.tensors:
            if tensor._counter[0] != version and (all_checked or i in checked):
                raise InplaceModifiedError(describe(data), self.name(), tensor._counter[0],
                                           version)
            args[i] = tensor if create_graph else data
        if len(self.tensors) != len(args):  # sequences of Tensors among the arguments
            for i, value in enumerate(args):
                if type(value) is SavedSequence:
                    args[i] = value.unpack(self, create_graph, all_checked or i in checked)
        if isinstance(self.saved_output, tuple):  # several results: the rule takes a list of
            ans = [saved.unpack(self, create_graph) for saved in self.saved_output]
            grads = [[g if g is not None else np.zeros_like(out)  # adjoints, zeros for unused
                      for g, out in zip(list(grads) + [None] * len(ans), ans)]]
        else:
            ans = (None if self.saved_output is None else
                   self.saved_output.unpack(self, create_graph, result_checked))
        rule = self.layout.rule
        if rule.accumulates:
            adjoint = np.zeros_like(args[0])
            function(adjoint, grads[0], ans, *args)
            adjoints = (adjoint,)
        else:
            adjoints = function(grads[0], ans, *args)
            if self.layout.single:
                adjoints = (adjoints,)
            elif not isinstance(adjoints, tuple) or len(adjoints) != len(rule.differentiable):
                raise EagerError(
                    f"the derivative rule {rule.name} must return a tuple of "
                    f"{len(rule.differentiable)} adjoints, one per parameter without a default "
                    f"({', '.join(rule.differentiable)}; None for one that has no derivative)")
        position = self.layout.adjoint_position
        result = []
        for i, j in self.slots:
            adjoint = adjoints[position[i]]
            result.append(adjoint if j is None or adjoint is None else adjoint[j])
        return result

    def release(self):
        # Without a guarded Tensor nothing is freed, and a second backward pass works (PyTorch
        # frees what it saved, and these nodes saved nothing it would).
        if self.saved is None:
            return
        checked, result_checked, all_checked, _ = self.guard
        frees = all_checked or (result_checked and self.saved_output is not None)
        if not frees:
            for i, *_ in self.tensors:
                if i in checked:
                    frees = True
                    break
            else:
                if len(self.tensors) != len(self.saved):  # sequences of Tensors
                    frees = any(type(v) is SavedSequence and i in checked
                                for i, v in enumerate(self.saved))
        if frees:
            self.saved, self.saved_output, self.tensors = None, None, ()
