"""Reverse mode where the primal changes a value in place: element writes, list appends and
pops, and the indexing reads whose adjoint adds into a part of an array.

The primal saves what an element write overwrites and the adjoint puts it back, so the adjoint
of earlier statements sees the array as they saw it; an append is undone by a pop and a pop by
an append.
"""
import gast

from ..runtime import unbroadcast
from .analyze import loaded_names, nodes_in
from .build import assign, call, clone, constant, expr_stmt, load, located, store, subscript
from .holding import OWNED, ZERO
from .inline import inline_rule
from .mode import appended_list, popped_list


class InPlaceAdjoints:
    """The methods of ReverseMode for statements that change a value in place."""

    def append(self, stmt, state):
        """``items.append(v)``: the adjoint takes the last element off both lists again."""
        items, value = appended_list(stmt)
        state = dict(state)
        pop_item = expr_stmt(call(gast.Attribute(value=load(items), attr="pop", ctx=gast.Load())),
                             stmt)
        code = [pop_item]  # the list as it was before, for the adjoint of earlier statements
        adjoint = self.adjoint(items)
        if items in self.varied and state.get(adjoint, ZERO) != ZERO:
            if adjoint in self.specializer.stand_ins:
                # a list first bound in a loop: the 0.0 standing in for its adjoint reaches
                # the list of the iteration before, whose adjoint is zeros of its length
                code.insert(0, assign(adjoint, call(self.runtime("items_adjoint"), load(adjoint),
                                                    load(items)), stmt))
            last = call(gast.Attribute(value=load(adjoint), attr="pop", ctx=gast.Load()))
            if isinstance(value, gast.Name) and value.id in self.varied:
                code += self.accumulate(value.id, last, state, stmt)
            else:
                code.append(expr_stmt(last, stmt))
        read = set().union(*(loaded_names(s) for s in code))
        if items not in stmt.sg_rebound_before:
            read.discard(items)  # the same list throughout: appends are undone in place
        pushes, pops, recompute = self.tape.serve_reads(read, stmt.sg_changed_from, stmt)
        return pushes + [stmt], pops + recompute + code, state

    def pop_statement(self, stmt, state):
        """``x = items.pop()``: the adjoint appends x back, and its adjoint to the list's."""
        name, items = stmt.targets[0].id, popped_list(stmt.value)
        state = dict(state)
        code = []
        adjoint, list_adjoint = self.adjoint(name), self.adjoint(items)
        live = name in self.varied and state.get(adjoint, ZERO) != ZERO
        if items in self.varied and (live or state.get(list_adjoint, ZERO) != ZERO):
            if state.get(list_adjoint, ZERO) == ZERO:
                code.append(assign(list_adjoint, call(self.runtime("zeros_like_each"),
                                                      load(items)), stmt))
            part = load(adjoint) if live else \
                call(self.runtime("zeros_like_each"), load(name)) if name in self.list_names \
                else self.zeros_like(load(name))
            code.append(expr_stmt(call(gast.Attribute(value=load(list_adjoint), attr="append",
                                                      ctx=gast.Load()), part), stmt))
            state[list_adjoint] = OWNED
        code.append(expr_stmt(call(gast.Attribute(value=load(items), attr="append",
                                                  ctx=gast.Load()), load(name)), stmt))
        state[adjoint] = ZERO
        read = set().union(*(loaded_names(s) for s in code))
        if items not in stmt.sg_rebound_before:
            read.discard(items)
        new = {name} & read
        pushes_after, pops_after, recompute = self.tape.serve_reads(new, stmt.sg_changed_after, stmt)
        pushes, pops, recompute_old = self.tape.serve_reads(read - new, stmt.sg_changed_from, stmt)
        return pushes + [stmt] + pushes_after, pops_after + pops + recompute + recompute_old + \
            code, state

    def element_write(self, stmt, state):
        """``y[i] = v``: v gets the adjoint of y[i], which then restarts from zero.

        The write changes y in place, so the primal saves the elements it overwrites and the
        adjoint puts them back: the adjoint of earlier statements then sees y as they saw it.
        """
        target, value = stmt.targets[0], stmt.value
        array, index = target.value.id, target.slice
        state = dict(state)
        code = []
        adjoint = self.adjoint(array) if array in self.varied else None
        if adjoint and state.get(adjoint, ZERO) != ZERO:
            code += self.make_owned(adjoint, state, stmt)
            if isinstance(value, gast.Name) and value.id in self.varied:
                written = subscript(load(adjoint), clone(index))
                if state.get(self.adjoint(value.id), ZERO) == ZERO:
                    written = call(self.runtime("copy_of"), written)  # it is zeroed next
                part = self.specializer.specialize(call(self.binder.bind("unbroadcast", unbroadcast),
                                            written, load(value.id)))
                code += self.accumulate(value.id, part, state, stmt, fresh=True)
            code.append(located(gast.Assign(
                targets=[gast.Subscript(value=load(adjoint), slice=clone(index),
                                        ctx=gast.Store())],
                value=constant(0.0), type_comment=None), stmt))
        old_elements = call(self.runtime("copy_of"), subscript(load(array),
                                                                 clone(index)))
        save = expr_stmt(self.tape.stack_call("append", old_elements), stmt)
        restore = located(gast.Assign(
            targets=[gast.Subscript(value=load(array), slice=clone(index),
                                    ctx=gast.Store())],
            value=self.tape.stack_call("pop"), type_comment=None), stmt)
        read = set().union(*(loaded_names(s) for s in code + [restore]))
        if array not in stmt.sg_rebound_before:
            read.discard(array)  # the same array throughout: its contents are restored below
        pushes, pops, recompute = self.tape.serve_reads(read, stmt.sg_changed_from, stmt)
        # The array's binding comes back first (pushed last), then its elements go back into it.
        return [save] + pushes + [stmt], pops + [restore] + recompute + code, state

    def accumulating_rule(self, stmt, rule, bindings, name, previous, state):
        """Indexing reads: add the adjoint into a slice of the operand's adjoint, in place."""
        operand = bindings[rule.differentiable[0]]
        source = original_name(operand.id, name, previous)
        code = []
        if source == name:  # x = x[i]
            scratch = self.names.fresh("d" + name + "_prev")
            code.append(assign(scratch, self.zeros_like(load(previous)), stmt))
            accumulator = scratch
        else:
            accumulator = self.adjoint(source)
            code += self.make_owned(accumulator, state, stmt)
        bindings["dx"] = load(accumulator)
        if source in self.list_names and rule.function.__name__ != "field_rule":
            # items[k]: replace the element, never add in place
            element = subscript(load(accumulator), clone(bindings["index"]))
            total = call(self.runtime("add_each"), element, bindings["g"]) \
                if name in self.list_names else \
                gast.BinOp(left=element, op=gast.Add(), right=bindings["g"])  # (a container)
            update = gast.Assign(targets=[gast.Subscript(value=load(accumulator),
                                                         slice=clone(bindings["index"]),
                                                         ctx=gast.Store())],
                                 value=total, type_comment=None)
            code.append(located(update, stmt))
            state[self.adjoint(name)] = ZERO
            return code
        body, _ = inline_rule(rule, bindings, (), self.names, self.binder)
        code += [located(self.basic_index_update(s), stmt) for s in body]
        if source == name:
            code.append(assign(self.adjoint(name), load(scratch), stmt))
            state[self.adjoint(name)] = OWNED
        else:
            state[self.adjoint(name)] = ZERO
        return code

    def basic_index_update(self, stmt):
        """``add_at(d, i, g)`` -> ``d[i] += g`` when ``i`` cannot repeat an element (loop
        counters, and names the shapes know are numbers: one number picks one element, or for
        a bool all of them once, as add_at does; a float fails in both)."""
        value = getattr(stmt, "value", None)
        numbers = {name for name, shape in self.shapes.items() if shape == ()} \
            if self.shapes is not None else set()
        if (isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) and len(value.args) == 3
                and _is_basic_index(value.args[1], self.integer_names | numbers)):
            target, index, g = value.args
            return gast.AugAssign(target=gast.Subscript(value=target, slice=index,
                                                        ctx=gast.Store()),
                                  op=gast.Add(), value=g)
        if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) and len(value.args) == 3:
            value.args[1] = self.index_value(value.args[1])  # x[:, [0, 2]]: a value to pass
            if isinstance(value.args[0], gast.Name):  # d = add_at(d, i, g): a value, which a
                return gast.Assign(targets=[store(value.args[0].id)], value=value,  # second
                                   type_comment=None)  # derivative can differentiate again
        if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) and len(value.args) == 4 \
                and isinstance(value.args[0], gast.Name):  # d = add_field(d, x, name, g)
            return gast.Assign(targets=[store(value.args[0].id)], value=value, type_comment=None)
        return stmt

    def index_value(self, index):
        """An index as a value (``(slice(None), [0, 2])``), to pass to add_at."""
        if isinstance(index, gast.Tuple):
            return gast.Tuple(elts=[self.index_value(e) for e in index.elts], ctx=gast.Load())
        if isinstance(index, gast.Slice):
            parts = [index.lower, index.upper, index.step]
            return call(self.binder.bind("slice", slice),
                        *[p if p is not None else constant(None) for p in parts])
        return index


def original_name(name, target, previous):
    """The name an operand had in the primal: ``x`` for ``x_prev`` in ``x = f(x)``."""
    return target if previous and name == previous else name


def range_loop_targets(body):
    """Loop variables that run over ``range(...)``: integers, so ``x[i]`` picks one element."""
    found = set()
    for node in nodes_in(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.For) and isinstance(node.iter, gast.Call) and \
                isinstance(node.iter.func, gast.Name) and node.iter.func.id == "range":
            found.add(node.target.id)
    return found


def _is_basic_index(index, integer_names):
    """Does indexing with ``index`` select each element at most once (no fancy indexing)?"""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return all(isinstance(part, gast.Slice) or _is_integer(part, integer_names) or
               (isinstance(part, gast.Constant) and part.value in (None, Ellipsis))
               for part in parts)


def _is_integer(expr, integer_names):
    """An int for sure: int constants and loop counters combined with + - * // %."""
    if isinstance(expr, gast.Constant):
        return type(expr.value) is int
    if isinstance(expr, gast.Name):
        return expr.id in integer_names
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, (gast.USub, gast.UAdd)):
        return _is_integer(expr.operand, integer_names)
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Add, gast.Sub, gast.Mult,
                                                             gast.FloorDiv, gast.Mod)):
        return _is_integer(expr.left, integer_names) and _is_integer(expr.right, integer_names)
    return False
