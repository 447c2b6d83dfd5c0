"""Generated code specialized to the shapes of the arguments it is called with.

Code for any shapes cannot know whether an operand broadcast, nor whether a value is a number or
an array, so it asks at run time: ``broadcast_like(t, ans)`` stretches a term to the result's
shape, srcgrad's ``zeros_like`` keeps the zero of a number a number. Where the shapes of the first
call's arguments settle those questions (shapes.py infers them), the generated code can say the
answer instead:

* ``broadcast_like(t, ans)`` is ``t`` where ``t`` already has ans's shape, and also where the
  elementwise arithmetic that reads it stretches it to the same shape anyway
  (``broadcast_like(dx, z) + dy`` with ``dy`` of z's shape), and so is ``expand_reduced(g, x,
  None, False)`` (a number stretched to x's shape) read by such arithmetic;
* the zero of a number is ``0.0`` and of an array ``np.zeros_like`` of it (``np.zeros_like`` of
  a number would be a NumPy 0-d array, which a CuPy array refuses to meet);
* ``np.sum(t, axis=None, keepdims=False)`` is ``np.sum(t)``.

Each rewrite keeps the shape of the expression it rewrites, so one inference over the code
before the rewrites stays true after them. Forward mode specializes its code here (see
``specialize_function``); the rewrites are the forward-mode counterparts of reverse mode's
``unbroadcast`` removal (ReverseMode.specialize), and the reader of shapes is the one both use.
"""
import gast
import numpy as np

from .. import runtime
from .analyze import assigned_names, mutated_names, nodes_in, parameter_names
from .build import call, constant, load, put_child
from .shapes import UNKNOWN, Shapes, infer_shapes, is_known

# Functions whose result is a NumPy scalar, never a 0-d array, where it has no axes.
_SCALAR_RESULTS = {np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.std, np.var,
                   np.nansum, np.nanmean, np.dot, np.vdot, np.inner, float, int, abs, len,
                   runtime.size_of}

# Reductions whose rules spell out their default options, and the defaults they can drop.
_DEFAULT_OPTIONS = {np.sum: {"axis": None, "keepdims": False},
                    np.mean: {"axis": None, "keepdims": False}}


class Specializer:
    """Rewrites the expressions of generated code for values of known shapes.

    ``shapes``: name -> shape (shapes.py) for every name of the code, UNKNOWN where not known;
    ``resolve``: the object a name or attribute of the generated code names (``np.sum``, a
    runtime helper), None for a local variable; ``np_name``: NumPy's name in the code.
    """

    def __init__(self, shapes, resolve, np_name, written=frozenset(), body=None):
        self.shapes = shapes
        self.resolve = resolve
        self.np_name = np_name
        self.written = written  # names changed element by element: their zeros stay arrays
        self.reader = Shapes(lambda name: shapes.get(name, UNKNOWN), resolve)
        self.zero_dimensional = set()  # names that may hold a NumPy 0-d array
        if body is not None:
            self.find_zero_dimensional(body)

    # -- which values may be NumPy 0-d arrays --------------------------------------------------
    def maybe_zero_dimensional(self, expr):
        """May ``expr`` be a NumPy 0-d array? Arithmetic, ufuncs and reductions make NumPy
        scalars of 0-d operands; array functions such as ``np.where`` make 0-d arrays."""
        if isinstance(expr, (gast.Constant, gast.BinOp, gast.UnaryOp, gast.Compare)):
            return False
        if isinstance(expr, gast.Name):
            return expr.id in self.zero_dimensional
        if isinstance(expr, gast.Subscript):  # x[...] of a 0-d array is one; x[i] is a scalar
            return any(isinstance(n, gast.Constant) and n.value is Ellipsis
                       for n in nodes_in(expr.slice))
        if isinstance(expr, gast.Attribute):
            return self.maybe_zero_dimensional(expr.value)
        if isinstance(expr, gast.IfExp):
            return self.maybe_zero_dimensional(expr.body) or \
                self.maybe_zero_dimensional(expr.orelse)
        function = self.called(expr)
        if function is None:
            return True
        if isinstance(function, np.ufunc) or function in _SCALAR_RESULTS:
            return False
        if function in (runtime.broadcast_like, runtime.copy_of, runtime.zeros_like) and \
                expr.args:  # broadcast_like: a 0-d array only for a 0-d array like one
            return all(self.maybe_zero_dimensional(a) for a in expr.args[:2])
        return True

    def find_zero_dimensional(self, body):
        """The names of ``body`` that may hold a NumPy 0-d array, to a fixed point."""
        bindings = []
        for node in nodes_in(gast.Module(body=body, type_ignores=[])):
            if isinstance(node, gast.Assign):
                for target in node.targets:
                    if isinstance(target, gast.Name):
                        bindings.append((target.id, node.value))
                    elif not isinstance(target, gast.Subscript):
                        self.zero_dimensional |= assigned_names(target)
            elif isinstance(node, gast.For) and not isinstance(node.target, gast.Name):
                self.zero_dimensional |= assigned_names(node.target)
            elif isinstance(node, (gast.With, gast.NamedExpr, gast.AnnAssign)):
                self.zero_dimensional |= assigned_names(node)
        changed = True
        while changed:
            changed = False
            for name, value in bindings:
                if name not in self.zero_dimensional and self.maybe_zero_dimensional(value):
                    self.zero_dimensional.add(name)
                    changed = True

    def shape(self, expr):
        shape = self.reader.of(expr)
        return UNKNOWN if shape is None else shape

    def called(self, node):
        """The object a call calls (``broadcast_like``, ``np.sum``), or None."""
        if not isinstance(node, gast.Call):
            return None
        try:
            return self.resolve(node.func)
        except TypeError:
            return None

    # -- one expression ------------------------------------------------------------------------
    def expression(self, expr):
        """``expr`` with every rewrite its shapes allow (see the module docstring)."""
        specializer = self

        class Rewrite(gast.NodeTransformer):
            def visit_Call(self, node):
                self.generic_visit(node)
                return specializer.call(node)

            def visit_BinOp(self, node):
                self.generic_visit(node)
                return specializer.stretched_by_arithmetic(node)

            def visit_Compare(self, node):
                self.generic_visit(node)
                return specializer.stretched_by_arithmetic(node)

        return Rewrite().visit(expr)

    def call(self, node):
        function = self.called(node)
        if function is runtime.broadcast_like and len(node.args) == 2 and not node.keywords:
            term, like = node.args
            shape = self.shape(term)
            # Of a number, only where the term is not a NumPy 0-d array (np.where of numbers
            # makes one), which broadcast_like turns into a number.
            if is_known(shape) and shape == self.shape(like) and \
                    (shape != () or not self.maybe_zero_dimensional(term)):
                return term
        elif function is runtime.zeros_like and len(node.args) == 1 and not node.keywords:
            return self.zeros(node.args[0]) or node
        else:
            try:
                defaults = _DEFAULT_OPTIONS.get(function)
            except TypeError:  # an unhashable callable
                defaults = None
            if defaults:
                node.keywords = [k for k in node.keywords
                                 if not (k.arg in defaults and isinstance(k.value, gast.Constant)
                                         and k.value.value is defaults[k.arg])]
        return node

    def zeros(self, expr):
        """The zero derivative of ``expr``: ``0.0`` for a number, ``np.zeros_like`` for an
        array; None where its shape is not known."""
        shape = self.shape(expr)
        if not isinstance(shape, tuple) or \
                isinstance(expr, gast.Name) and expr.id in self.written:
            return None
        if shape == ():
            return constant(0.0)
        return call(gast.Attribute(value=load(self.np_name), attr="zeros_like", ctx=gast.Load()),
                    expr)

    def stretched_by_arithmetic(self, node):
        """``broadcast_like(t, like) * u`` -> ``t * u`` (and ``expand_reduced(g, x, None,
        False) * u`` -> ``g * u``) where the result has the same shape either way: elementwise
        arithmetic stretches ``t`` as the helper would have, without a full-size copy."""
        if isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            fields = [("left", None), ("right", None)]
        elif isinstance(node, gast.Compare) and len(node.comparators) == 1:
            fields = [("left", None), ("comparators", 0)]
        else:
            return node
        target = self.shape(node)
        if not is_known(target):
            return node
        for field, index in fields:
            operand = getattr(node, field) if index is None else getattr(node, field)[index]
            stretched = self.unstretched(operand)
            if stretched is None:
                continue
            put_child(node, field, index, stretched)
            if self.shape(node) != target:
                put_child(node, field, index, operand)
        return node

    def unstretched(self, expr):
        """The value ``expr`` stretches to another shape, where elementwise arithmetic could
        stretch it instead (``broadcast_like(t, like)``; ``expand_reduced(g, x, axis,
        keepdims)`` with keepdims True or over every axis); else None."""
        function = self.called(expr)
        if function is runtime.broadcast_like and len(expr.args) == 2 and not expr.keywords:
            return expr.args[0]
        if function is runtime.expand_reduced and len(expr.args) == 4 and not expr.keywords:
            axis, keepdims = expr.args[2], expr.args[3]
            if isinstance(keepdims, gast.Constant) and keepdims.value is True or \
                    isinstance(axis, gast.Constant) and axis.value is None:
                return expr.args[0]
        return None

    # -- a whole function ----------------------------------------------------------------------
    def function(self, function_def):
        """Rewrite the expressions of every statement of ``function_def`` in place."""
        for node in nodes_in(function_def):
            if isinstance(node, (gast.Assign, gast.AugAssign, gast.Return, gast.Expr)) and \
                    node.value is not None:
                node.value = self.expression(node.value)
        return function_def


def specialize_function(function_def, parameter_shapes, known_shapes, resolve, np_name,
                        user_call=None):
    """Specialize generated code (``function_def``, rewritten in place) to its arguments' shapes.

    ``parameter_shapes``: the shape of each parameter of the generated function;
    ``known_shapes``: shapes already inferred for names of the code (the primal's, from the
    user's function), kept as they are; the shapes of the other names (derivatives, a rule's
    temporaries) are inferred from the generated code itself, where a name bound to values of
    different shapes (a number standing in for an array's zero) is UNKNOWN.
    ``resolve(expr, local_names)``: the object a name or attribute names.
    """
    local_names = set(parameter_names(function_def)) | assigned_names(function_def.body)
    fixed = {name: shape for name, shape in known_shapes.items() if name in local_names}
    shapes = infer_shapes(function_def.body, {**parameter_shapes, **fixed},
                          lambda expr: resolve(expr, local_names), local_names, user_call,
                          fixed=set(fixed))
    return Specializer(shapes, lambda expr: resolve(expr, local_names), np_name,
                       mutated_names(function_def.body), function_def.body
                       ).function(function_def)

