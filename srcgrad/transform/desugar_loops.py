"""Desugaring of loops and comprehensions: loops that unpack items (enumerate, zip, nested
targets), loops over a dict's entries, and comprehensions hoisted into loops."""
import gast

from .analyze import assigned_names
from .build import (as_load_expr, assign, call, clone, load, located, nodes_in,
                    statements_in_order, store, subscript)
from .parse import dotted_name
from .scope import resolve


def _target_hint(target):
    """A name for the item a loop target unpacks: ``W_b`` for ``W, b``."""
    if isinstance(target, gast.Name):
        return target.id
    if isinstance(target, (gast.Tuple, gast.List)):
        return "_".join(_target_hint(e) for e in target.elts)
    return "item"


def has_comprehension(node):
    return any(isinstance(n, (gast.ListComp, gast.GeneratorExp, gast.SetComp, gast.DictComp))
               for n in nodes_in(node))


class LoopDesugaring:
    """The methods of Desugar for loops (``self.parsed``, ``self.names``, ``self.assignment``
    and ``self.block`` come from Desugar)."""

    def hoist_comprehensions(self, expr, loops, stmt):
        """``[f(v) for v in xs if c]`` -> a list built by a loop before the statement."""
        desugar = self

        class Hoist(gast.NodeTransformer):
            def visit_ListComp(self, node):
                # Only the iterable runs before the loop: a comprehension inside the element
                # or a condition reads the loop variable, so it stays in the loop's body (which
                # the statement walker hoists again, inside the loop).
                for generator in node.generators:
                    generator.iter = self.visit(generator.iter)
                return desugar.comprehension(node, loops, stmt)

            visit_GeneratorExp = visit_ListComp

            def visit_SetComp(self, node):
                raise desugar.parsed.unsupported(stmt, "a set comprehension",
                                                 "build a list with a for loop")

            visit_DictComp = visit_SetComp

        return Hoist().visit(expr)

    def comprehension(self, node, loops, stmt):
        if len(node.generators) != 1 or node.generators[0].is_async:
            raise self.parsed.unsupported(stmt, "a comprehension with several for clauses",
                                          "write the nested for loops out")
        generator = node.generators[0]
        items = self.names.fresh("items")
        renamed = {}
        for target in gast.walk(generator.target):  # the loop variable stays inside
            if isinstance(target, gast.Name):
                renamed[target.id] = self.names.fresh(target.id)
                target.id = renamed[target.id]
        for part in [node.elt] + generator.ifs:
            for name in gast.walk(part):
                if isinstance(name, gast.Name) and name.id in renamed:
                    name.id = renamed[name.id]
        append = located(gast.Expr(value=call(gast.Attribute(value=load(items), attr="append",
                                                              ctx=gast.Load()), node.elt)), stmt)
        body = [append]
        for condition in reversed(generator.ifs):
            if has_comprehension(condition):  # hoisted from an assignment inside the loop
                name = self.names.fresh("keep")
                body = [located(assign(name, condition), stmt),
                        located(gast.If(test=load(name), body=body, orelse=[]), stmt)]
            else:
                body = [located(gast.If(test=condition, body=body, orelse=[]), stmt)]
        loop = located(gast.For(target=generator.target, iter=generator.iter, body=body,
                                orelse=[], type_comment=None), stmt)
        loops.append([located(assign(items, gast.List(elts=[], ctx=gast.Load())), stmt), loop])
        return load(items)

    def dict_loop(self, stmt):
        """A loop over a dict's entries becomes a loop over its keys that reads each entry:
        ``for k, v in d.items()`` -> ``for k in d.keys(): v = d[k]``; ``for v in d.values()``
        likewise (``for k in d``, which iterates a list's items too, waits for the activity
        analysis: loops_over_dict_keys). The keys carry no derivative, the entries do (``d[k]``'s
        adjoint goes to the entry). Returns the statements to run before the loop."""
        iterable, target = stmt.iter, stmt.target
        method = iterable.func.attr if isinstance(iterable, gast.Call) and \
            isinstance(iterable.func, gast.Attribute) and not iterable.args and \
            not iterable.keywords else None
        if method not in ("items", "values") or method == "items" and not (
                isinstance(target, (gast.Tuple, gast.List)) and len(target.elts) == 2 and
                isinstance(target.elts[0], gast.Name)):
            return []
        prefix = []
        mapping = iterable.func.value
        if not isinstance(mapping, gast.Name) or mapping.id in assigned_names(stmt.body):
            name = self.names.fresh((dotted_name(mapping) or "entries").replace(".", "_"))
            prefix.append(located(assign(name, mapping), stmt))
            mapping = load(name)
        if method == "items":
            key, value = target.elts
        else:
            key, value = store(self.names.fresh(_target_hint(target) + "_key")), target
        read = subscript(clone(mapping), load(key.id))
        if isinstance(value, gast.Name):
            entry = [located(assign(value.id, read), stmt)]
        else:  # for k, (W, b) in layers.items()
            item = self.names.fresh(_target_hint(value))
            entry = [located(assign(item, read), stmt)] + self.unpacked(value, item, stmt)
        stmt.body = entry + stmt.body
        stmt.target = store(key.id)
        stmt.iter = call(gast.Attribute(value=clone(mapping), attr="keys", ctx=gast.Load()))
        return prefix

    def unpacking_loop(self, stmt):
        """``for i, x in enumerate(xs)`` / ``for a, b in zip(xs, ys)`` / ``for W, b in layers``
        -> a counted loop; returns the statements to run before it. Python evaluates the
        iterable once, before the loop: so does the counted loop (``xs`` rebound in the body
        does not change what it runs over)."""
        function = resolve(stmt.iter.func, self.parsed.namespace, set()) \
            if isinstance(stmt.iter, gast.Call) else None
        targets = stmt.target.elts if isinstance(stmt.target, gast.Tuple) else []
        rebound = assigned_names(stmt.body) | assigned_names(stmt.target)
        prefix = []

        def evaluated_once(sequence, hint):
            if isinstance(sequence, gast.Name) and sequence.id not in rebound:
                return sequence
            name = self.names.fresh(hint + "_items")
            prefix.append(located(assign(name, as_load_expr(sequence)), stmt))
            return load(name)

        if targets and (
                isinstance(stmt.iter, (gast.Name, gast.Attribute, gast.Subscript, gast.List,
                                       gast.Tuple)) or
                isinstance(stmt.iter, gast.Call) and function not in (enumerate, zip)):
            # for W, b in layers  ->  for layers_index in range(len(layers)):
            #                             W, b = layers[layers_index]
            # (an expression, np.stack((u, v), axis=1), is evaluated once into a name first)
            hint = _target_hint(stmt.target) \
                if isinstance(stmt.iter, (gast.Call, gast.List, gast.Tuple)) \
                else dotted_name(stmt.iter).replace(".", "_")
            sequence = evaluated_once(stmt.iter, hint)
            index = self.names.fresh(hint + "_index")
            item = self.names.fresh(_target_hint(stmt.target))  # W_b = layers[i]
            take = assign(item, subscript(sequence, load(index)))
            stmt.body = self.assignment(located(take, stmt)) + \
                self.unpacked(stmt.target, item, stmt) + stmt.body
            stmt.target, stmt.iter = store(index), call("range", call("len", clone(sequence)))
            return prefix
        keywords = {k.arg: k.value for k in getattr(stmt.iter, "keywords", [])}
        if not targets or function not in (enumerate, zip) or \
                function is enumerate and set(keywords) - {"start"} or \
                function is zip and keywords:
            raise self.parsed.unsupported(
                stmt, "a for loop that unpacks several names from this iterable",
                "loop over range(len(...)), enumerate(...) or zip(...) and index inside the loop")
        sequences = stmt.iter.args
        start = None
        if function is enumerate:
            if not 1 <= len(sequences) <= 2 or "start" in keywords and len(sequences) == 2 or \
                    len(targets) != 2 or not isinstance(targets[0], gast.Name):
                raise self.parsed.unsupported(stmt, "enumerate with these targets",
                                              "write for i, x in enumerate(xs)")
            start = sequences[1] if len(sequences) == 2 else keywords.get("start")
            counter = targets[0].id
            index = counter if start is None else self.names.fresh(counter + "_index")
            inner = sequences[0]
            if isinstance(inner, gast.Call) and not inner.keywords and \
                    resolve(inner.func, self.parsed.namespace, set()) is zip and \
                    isinstance(targets[1], (gast.Tuple, gast.List)) and \
                    len(targets[1].elts) == len(inner.args):
                # for i, (a, b) in enumerate(zip(xs, ys)): a = xs[i], b = ys[i]
                items = [(t, evaluated_once(seq, _target_hint(t)))
                         for t, seq in zip(targets[1].elts, inner.args)]
            else:
                items = [(targets[1], evaluated_once(inner, _target_hint(targets[1])))]
        else:
            if len(sequences) != len(targets):
                raise self.parsed.unsupported(stmt, "zip whose targets do not match its inputs")
            index = self.names.fresh(_target_hint(stmt.target) + "_index")
            items = [(t, evaluated_once(seq, _target_hint(t))) for t, seq in zip(targets, sequences)]
        lengths = [call("len", clone(seq)) for _, seq in items]
        count = lengths[0] if len(lengths) == 1 else call("min", *lengths)
        stmt.target = store(index)
        stmt.iter = call("range", count)
        body = []
        if start is not None:  # enumerate(xs, 1): the counter runs from start
            body.append(located(assign(counter, gast.BinOp(left=load(index), op=gast.Add(),
                                                           right=start)), stmt))
        for target, sequence in items:
            if isinstance(target, gast.Name):
                body.append(located(assign(target.id, subscript(clone(sequence), load(index))),
                                    stmt))
            else:  # for i, (W, b) in enumerate(layers): the item first, then its parts
                item = self.names.fresh(_target_hint(target))
                body.append(located(assign(item, subscript(clone(sequence), load(index))), stmt))
                body += self.unpacked(target, item, stmt)
        stmt.body = body + stmt.body
        return prefix

    def unpacked(self, target, item, stmt):
        """``W, b = item``, normalized; a nested target, ``(a, b), c``, one level at a time."""
        if isinstance(target, gast.Name):
            return self.assignment(located(assign(target.id, load(item)), stmt))
        if not isinstance(target, (gast.Tuple, gast.List)) or \
                any(isinstance(e, gast.Starred) for e in target.elts):
            raise self.parsed.unsupported(stmt, "this loop target",
                                          "loop over plain names and unpack inside the loop")
        parts, nested = [], []
        for element in target.elts:
            if isinstance(element, gast.Name):
                parts.append(store(element.id))
            else:
                part = self.names.fresh(_target_hint(element))
                parts.append(store(part))
                nested.append((element, part))
        unpack = gast.Assign(targets=[gast.Tuple(elts=parts, ctx=gast.Store())],
                             value=load(item), type_comment=None)
        out = self.assignment(located(unpack, stmt))
        for element, part in nested:
            out += self.unpacked(element, part, stmt)
        return out



def loops_over_dict_keys(body, activity):
    """``for k in params`` whose body reads ``params[k]``, where ``params`` carries a derivative:
    ``params`` must be a dict (a list of differentiated values cannot be indexed by its own
    items), so the loop runs over ``params.keys()``, names without a derivative. Returns whether
    a loop changed (the activity is then propagated again)."""
    changed = False
    for node in statements_in_order(body):
        if not (isinstance(node, gast.For) and isinstance(node.iter, gast.Name) and
                isinstance(node.target, gast.Name) and activity.is_varied(node.iter)):
            continue
        mapping, key = node.iter.id, node.target.id
        if mapping in assigned_names(node.body) or key in assigned_names(node.body):
            continue
        if any(isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name) and
               n.value.id == mapping and isinstance(n.slice, gast.Name) and n.slice.id == key
               for stmt in node.body for n in nodes_in(stmt)):
            node.iter = call(gast.Attribute(value=load(mapping), attr="keys", ctx=gast.Load()))
            changed = True
    return changed
