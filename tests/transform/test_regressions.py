"""Programs the random-program test found wrong once, kept so they stay right."""
import numpy as np

from checks import check_grad


def swap_reads_a_rebound_name(a):
    a += 0.5
    a, t0 = 0.5, a  # t0 takes the old a, although a is rebound first
    return t0


def test_tuple_assignment_reads_values_before_binding_any_name():
    check_grad(swap_reads_a_rebound_name, -1.5)


# Found by tests/transform/test_random_programs.py and reduced by hand; each one is a program of
# the language srcgrad accepts on which its gradient was wrong or it crashed.


def branch_not_taken_rebinds_to_constant(x):
    t = x * 3.0
    if x > 1.5:  # not taken at x = 0.5: t is still x * 3.0
        t = 0.8
    return t


def test_a_branch_that_rebinds_to_a_constant_keeps_the_derivative_when_not_taken():
    check_grad(branch_not_taken_rebinds_to_constant, 0.5)


def parameter_rebound_to_constant_in_branch(a):
    if a >= 0.5:  # not taken at a = -1.26
        a = 1.0
    return a


def test_a_parameter_rebound_to_a_constant_in_a_branch_not_taken():
    check_grad(parameter_rebound_to_constant_in_branch, -1.26)


def else_rebinds_to_constant(c):
    t1 = c[2]
    if c[0] > 1.5:
        pass
    else:  # taken at c[0] = 0.79: t1 no longer depends on c
        t1 = 0.8
    return t1


def test_a_branch_that_rebinds_to_a_constant_cuts_the_derivative_when_taken():
    check_grad(else_rebinds_to_constant, np.array([0.79, -0.42, -1.39]))


def array_made_in_loop_read_after_it(b):
    for i in range(2):
        t0 = b - b
    return np.sum(t0)


def slice_made_in_loop_read_after_it(b):
    for i in range(2):
        t1 = 0.5 + b[1:3]
    return np.sum(t1)


def alias_made_in_loop_indexed_in_it(b):
    for i in range(2):
        t0 = b
        t1 = t0[1]
    return t1 + np.sum(t0)


def test_an_array_assigned_in_a_loop_and_read_after_it():
    check_grad(array_made_in_loop_read_after_it, np.array([-1.49, 0.25, -0.02]))
    check_grad(slice_made_in_loop_read_after_it, np.array([-1.49, 0.25, -0.02]))
    check_grad(alias_made_in_loop_indexed_in_it, np.array([1.21, 0.11, 1.11]))


def for_over_an_array_the_body_rebinds(a):
    for e in a:  # iterates over the original a, whatever the body binds to the name
        a = a * a
    return e


def test_for_over_an_array_that_the_body_rebinds():
    check_grad(for_over_an_array_the_body_rebinds, np.array([-0.39, -0.07, -1.21]))


def while_without_trips_around_a_for(a, b):
    n = 0
    while n < 1 and b > 0.0:  # runs zero times at b = -0.94
        n = n + 1
        for i in range(2):
            t1 = a * 2.0
        a = a + t1
    return np.sum(a)


def test_a_while_loop_that_runs_zero_times_around_a_for_loop():
    check_grad(while_without_trips_around_a_for, np.array([1.19, 0.69, 1.06]), -0.94)
    check_grad(while_without_trips_around_a_for, np.array([1.19, 0.69, 1.06]), 0.5)


def break_in_an_inner_loop_over_len(b):
    for k in range(2):
        for i in range(len(b)):  # the inner loop's range and trip count are saved per outer trip
            b = b * 1.5
            if np.sum(b) > 10.0:
                break
    return np.sum(b)


def test_break_in_an_inner_loop_whose_range_is_saved():
    check_grad(break_in_an_inner_loop_over_len, np.array([-0.85, 0.99, 0.75]))


def array_from_one_loop_sliced_in_another(c):
    for i in range(2):
        t0 = np.sin(c)
    for k in range(2):
        t1 = t0[::-1]  # the adjoint of t0 is added into by index
    return np.sum(t1)


def array_from_one_loop_iterated_in_another(c):
    for i in range(2):
        t0 = np.sin(c)
    for e in t0:
        t1 = e * 2.0
    return e + t1


def test_an_array_from_one_loop_read_by_index_in_a_later_loop():
    check_grad(array_from_one_loop_sliced_in_another, np.array([-0.98, 0.48, -1.28]))
    check_grad(array_from_one_loop_iterated_in_another, np.array([-0.98, 0.48, -1.28]))


def swap_in_a_loop(b, c):
    for i in range(1, 3):
        t0 = b
        c, t0 = t0, c  # after two trips t0 is b and c does not matter
    return np.sum(t0)


def test_a_swap_in_a_loop_gives_a_gradient_of_the_arguments_shape():
    check_grad(swap_in_a_loop, np.array([-1.4, 0.74, -0.95]), np.array([-1.49, -0.4, 1.34]))


def tuple_in_a_loop_reads_the_name_it_rebinds(a):
    for j in range(2):
        a, t1 = a[[0, 0, 0]], a
    return np.sum(t1)


def test_a_tuple_assignment_in_a_loop_that_reads_the_name_it_rebinds():
    check_grad(tuple_in_a_loop_reads_the_name_it_rebinds, np.array([-1.5, 0.3, 0.7]))


def times_one_then_index(a, c):
    t0 = c[-2]
    y0 = c * 1.0  # the adjoint of c is that of y0 (a read-only broadcast), so c's is copied
    return t0 - np.sum(y0) + a


def test_an_adjoint_that_simplifies_to_a_view_is_copied_before_an_indexed_update():
    check_grad(times_one_then_index, 0.68, np.array([0.07, -0.75, -0.51]))


def double_negation_then_slice(a, b):
    t0 = np.sin(b[1:])
    b = --b  # the two negations of the adjoint must not cancel into a read-only broadcast view
    return np.sum(t0) + a + np.sum(b)


def double_negation_then_fancy_index(a, b):
    t0 = -b[[0, 0]]
    b = --b
    return np.sum(t0) + a + np.sum(b)


def test_a_double_negation_keeps_the_adjoint_a_writable_array():
    check_grad(double_negation_then_slice, -1.5, np.array([-1.5, -1.2, -0.5]))
    check_grad(double_negation_then_fancy_index, -1.5, np.array([-1.5, -1.2, -0.5]))


def times_one_then_write(a):
    y0 = a * 1.0  # a new array: the write below must not reach a
    y0[-3] = 0.5
    return np.sum(np.tanh(a)) + np.sum(y0)


def test_a_product_with_one_stays_a_copy_in_the_generated_code():
    check_grad(times_one_then_write, np.array([-1.5, -1.2, -0.4]))


def returns_early_from_a_loop(u):
    for i in range(2):
        if np.sum(np.tanh(u)) > 1.5:
            return np.mean(np.tanh(u))  # tanh_u exists only when this return runs
    return np.sum(u * u)


def calls_a_helper_that_may_return_early(c):
    return np.mean(np.sin(c)) * returns_early_from_a_loop(c[1] * c)


def test_a_pullback_does_not_need_values_of_paths_that_did_not_run():
    check_grad(calls_a_helper_that_may_return_early, np.array([1.1, -0.38, -0.7]))
    check_grad(calls_a_helper_that_may_return_early, np.array([1.1, 2.0, 0.7]))


def index_and_broadcast(a, b):
    t0 = a[-3] + 0.5
    return t0 + np.sum(np.tanh(b + a))  # da takes over d(b + a), which db still reads


def test_a_value_is_not_moved_past_an_update_of_an_array_it_shares():
    check_grad(index_and_broadcast, np.array([-1.5, -1.2, 0.4]), -1.5)
