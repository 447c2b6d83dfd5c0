"""Programs the random-program test found wrong once, kept so they stay right."""
import numpy as np

from checks import check_grad


def swap_reads_a_rebound_name(a):
    a += 0.5
    a, t0 = 0.5, a  # t0 takes the old a, although a is rebound first
    return t0


def test_tuple_assignment_reads_values_before_binding_any_name():
    check_grad(swap_reads_a_rebound_name, -1.5)
