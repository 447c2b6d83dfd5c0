"""What a derivative variable holds while code is generated: the holding states of both modes.

``ZERO``: nothing yet (no code reads it; a contribution is assigned, not added). ``SHARED``: a
value that may be the same array as another variable's, so it is never updated in place.
``OWNED``: a fresh array of its own, which the generated code may update in place. Reverse mode
tracks adjoints this way and forward mode tangents, so branches and loops get explicit zeros
only where paths disagree.
"""
ZERO, SHARED, OWNED = "zero", "shared", "owned"


def same_states(left, right):
    """Do two paths leave every derivative variable in the same holding state?"""
    return all(left.get(k, ZERO) == right.get(k, ZERO) for k in set(left) | set(right))


def merged_state(left, right):
    """The holding state after two paths meet, both holding something."""
    return left if left == right else SHARED


def widen_entry(entry, exit_state, carried=None, restart_from_number=()):
    """One step of a loop body's fixed point: raise the holding states the body is entered
    with (``entry``, updated in place) to cover those one pass over it leaves (``exit_state``),
    since the next iteration enters with those. Returns whether any state changed.

    A variable that held nothing and now holds a value will hold an array of its own; one that
    was owned but comes out shared is shared. ``carried``: where given, only these variables
    are read by a later iteration (others are the body's temporaries); ``restart_from_number``:
    variables that start each pass from a plain 0.0 (their value may not exist yet), which
    are then no arrays of their own.
    """
    changed = False
    for name in set(entry) | set(exit_state):
        before, after = entry.get(name, ZERO), exit_state.get(name, ZERO)
        if before == ZERO and after != ZERO and (carried is None or name in carried):
            entry[name], changed = OWNED, True
        elif before == OWNED and (after == SHARED or
                                  after == ZERO and name in restart_from_number):
            entry[name], changed = SHARED, True
    return changed
