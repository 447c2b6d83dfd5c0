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
