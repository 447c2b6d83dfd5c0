"""srcgrad.checkpoint_range: a loop cut into about sqrt(n) checkpointed segments. The derivatives
are those of the same loop over range, in every mode; the derivative keeps one state per
segment; what it cannot hold is refused at the user's line."""
import tracemalloc

import numpy as np
import pytest

import srcgrad as sg
from checks import check_grads


def oscillator(x, v, dt, w, n):
    for t in sg.checkpoint_range(n):
        x_next = x + dt * v
        v = v - dt * np.sin(x) * w * (1.0 + 0.1 * t)
        x = x_next
    return np.sum(x * v)


def oscillator_plain(x, v, dt, w, n):
    for t in range(n):
        x_next = x + dt * v
        v = v - dt * np.sin(x) * w * (1.0 + 0.1 * t)
        x = x_next
    return np.sum(x * v)


def decay(x, dt, n):
    for _ in sg.checkpoint_range(n):
        x = x + dt * np.tanh(x) * x
    return np.sum(x * x)


def stepped(x, dt, first, last, stride):
    total = 0.0
    for t in sg.checkpoint_range(first, last, stride):
        x = np.sin(x) * dt * t + x
        total = total + np.sum(x) * t
    return total + np.sum(x * x)


def stepped_plain(x, dt, first, last, stride):
    total = 0.0
    for t in range(first, last, stride):
        x = np.sin(x) * dt * t + x
        total = total + np.sum(x) * t
    return total + np.sum(x * x)


X = np.array([0.3, -0.5, 1.0])
V = np.array([0.1, -0.2, 0.4])


@pytest.mark.parametrize("n", [0, 1, 2, 7, 13])
def test_every_mode_against_finite_differences(n):
    check_grads(decay, X, 0.1, n, order=2, eager=True)
    check_grads(oscillator, X, V, 0.1, 0.7, n, order=1, eager=True)


@pytest.mark.parametrize("n", [0, 1, 7])
def test_second_order_is_right_or_refused_as_for_the_loop_over_range(n):
    """The Hessian of a loop goes through the segment's adjoint; where srcgrad cannot take it
    again (an in-place update of an adjoint that another name shares), it refuses, as it does
    for the same loop over range: never a wrong number."""
    args = (X, V, 0.1, 0.7, n)
    for position in (0, 1, 2, 3):
        try:
            hessian = sg.hessian(oscillator, wrt=position)(*args)
        except sg.UnsupportedSyntax as error:
            assert "srcgrad cannot differentiate" in str(error)
            with pytest.raises(sg.UnsupportedSyntax):
                sg.hessian(oscillator_plain, wrt=position)(*args)
            continue
        gradient = sg.grad(oscillator, wrt=position)
        step = 1e-6
        x = np.asarray(args[position], dtype=float)
        columns = []
        for k in range(x.size):
            shifted = [list(args), list(args)]
            for sign, moved in zip((1, -1), shifted):
                value = x.copy().reshape(-1)
                value[k] += sign * step
                moved[position] = value.reshape(x.shape) if x.ndim else float(value[0])
            columns.append((np.asarray(gradient(*shifted[0])) -
                            np.asarray(gradient(*shifted[1]))) / (2 * step))
        expected = np.stack(columns, axis=-1).reshape(np.shape(hessian))
        np.testing.assert_allclose(hessian, expected, rtol=1e-5, atol=1e-7)


def _flat(values):
    return np.concatenate([np.ravel(v) for v in (_flat(v) if isinstance(v, tuple) else v
                                                 for v in values)])


@pytest.mark.parametrize("n", [0, 1, 5, 11, 30])
def test_the_same_numbers_as_the_loop_over_range(n):
    """n reaches the derivative only when it runs: one generated code serves every n."""
    args = (X, V, 0.1, 0.7, n)
    for make in (lambda f: sg.grad(f, wrt=(0, 1, 3)), lambda f: sg.value_and_grad(f, wrt=(0, 2))):
        got, want = make(oscillator)(*args), make(oscillator_plain)(*args)
        np.testing.assert_allclose(_flat(got), _flat(want), rtol=1e-12, atol=1e-15)
    value, tangent = sg.jvp(oscillator, wrt=(0, 3))(*args, V, 0.5)
    value_plain, tangent_plain = sg.jvp(oscillator_plain, wrt=(0, 3))(*args, V, 0.5)
    assert value == pytest.approx(value_plain, rel=1e-13)
    assert tangent == pytest.approx(tangent_plain, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("bounds", [(2, 11, 3), (10, -3, -2), (5, 5, 1), (0, 17, 1)])
def test_start_stop_step_and_a_state_the_body_reads_after_the_loop(bounds):
    args = (X, 0.05) + bounds
    check_grads(stepped, *args, wrt=(0, 1), order=2, eager=True)
    np.testing.assert_allclose(sg.grad(stepped)(*args), sg.grad(stepped_plain)(*args),
                               rtol=1e-12)


def with_segments(x, dt, n, k):
    for t in sg.checkpoint_range(n, segments=k):
        x = x * np.cos(dt * t) + dt
    return np.sum(x ** 3)


@pytest.mark.parametrize("k", [1, 2, 5, 17, 40])
def test_any_number_of_segments_gives_the_same_gradient(k):
    want = sg.grad(with_segments)(X, 0.2, 17, None)
    np.testing.assert_allclose(sg.grad(with_segments)(X, 0.2, 17, k), want, rtol=1e-13)


def test_at_run_time_it_is_range():
    assert sg.checkpoint_range(5) == range(5)
    assert list(sg.checkpoint_range(2, 11, 3)) == [2, 5, 8]
    assert list(sg.checkpoint_range(3, segments=2)) == [0, 1, 2]
    assert oscillator(X, V, 0.1, 0.7, 9) == oscillator_plain(X, V, 0.1, 0.7, 9)
    with pytest.raises(ValueError, match="segments"):
        sg.checkpoint_range(5, segments=0)
    with pytest.raises(TypeError):
        sg.checkpoint_range(2.5)


def test_segments_cover_the_steps_in_order():
    from srcgrad.checkpoint import checkpoint_segments
    for bounds in [(0,), (1,), (7,), (100,), (10_000,), (3, 50, 4), (20, -7, -3)]:
        parts = checkpoint_segments(*bounds)
        assert [t for part in parts for t in part] == list(range(*bounds))
        count = len(range(*bounds))
        assert len(parts) <= int(np.ceil(np.sqrt(count))) + 1
        assert all(len(part) <= int(np.ceil(np.sqrt(count))) for part in parts)


def two_arrays(x, y, a, n):
    count = 0
    for t in sg.checkpoint_range(n):
        x, y = y * a, np.sin(x) + 0.01 * t
        count = count + 1
    return np.sum(x * y) + count


def test_several_arrays_and_a_counter_travel_as_one_state():
    for n in (0, 1, 6):
        check_grads(two_arrays, X, V, 0.9, n, order=2, eager=True)
    code = sg.source(sg.grad(two_arrays, wrt=(0, 1, 2)), X, V, 0.9, 6)
    main = code.split("\n\n\ndef ")[0]
    assert "x_y_count = [x, y, 0]" in main  # count = 0, carried with the arrays
    assert "for segment in checkpoint_segments(n):" in main
    assert "def two_arrays_segment_adjoint(dresult, steps, x_y_count, a):" in code


def test_the_derivative_keeps_one_state_per_segment():
    code = sg.source(sg.grad(decay), X, 0.1, 100)
    main = code.split("\n\n\ndef ")[0]
    assert main.count("stack.append(") == 1  # the segment's argument, once per segment
    assert "x = decay_segment(segment, x, dt)" in main
    assert "decay_segment_adjoint(dx, segment, x_prev, dt)" in main
    assert "def decay_segment_adjoint(dx, steps, x, dt):" in code


def _peak(function, *args):
    function(*args)  # generated and specialized first
    tracemalloc.start()
    function(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def decay_plain(x, dt, n):
    for _ in range(n):
        x = x + dt * np.tanh(x) * x
    return np.sum(x * x)


def test_saved_memory_grows_as_the_square_root_of_the_steps():
    x = np.linspace(-1.0, 1.0, 4000)  # 32 kB a state: the arrays dominate what is measured
    short, long = 100, 1600
    loop = [_peak(sg.grad(decay), x, 0.01, n) for n in (short, long)]
    assert loop[1] / loop[0] < 8  # sqrt(16) = 4; saving every step would be 16
    assert _peak(sg.grad(decay_plain), x, 0.01, long) / loop[1] > 10
    two = [_peak(sg.grad(oscillator), x, x, 0.01, 0.5, n) for n in (short, long)]
    assert two[1] / two[0] < 8


def nested(x, dt, n, m):
    for i in range(m):
        for _ in sg.checkpoint_range(n):
            x = np.tanh(x + dt * i)
    return np.sum(x)


def inside_segment(x, dt, n, m):
    for _ in sg.checkpoint_range(n):
        for _ in sg.checkpoint_range(m):
            x = np.tanh(x) + dt
    return np.sum(x * x)


def test_inside_another_loop_and_inside_another_checkpoint_range():
    check_grads(nested, X, 0.3, 5, 3, order=2, eager=True)
    check_grads(inside_segment, X, 0.3, 4, 9, order=2, eager=True)


def make_closure(scale):
    def integrate(x, n):
        for _ in sg.checkpoint_range(n):
            x = x + scale * np.sin(x)
        return np.sum(x)
    return integrate


def test_a_closure_variable_read_in_the_loop():
    check_grads(make_closure(0.25), X, 6, order=2, eager=True)


def augmented(x, w, n):
    for t in sg.checkpoint_range(n):
        x += w * np.sin(x) * (1.0 + 0.1 * t)
    return np.sum(x * x)


def augmented_plain(x, w, n):
    for t in range(n):
        x += w * np.sin(x) * (1.0 + 0.1 * t)
    return np.sum(x * x)


def skipping(x, w, n):
    total = 0.0
    for t in sg.checkpoint_range(n):
        if t % 3 == 0:
            continue
        x = x + w * np.sin(x)
        total = total + np.sum(x)
        for k in range(3):
            if k == 1:
                break
            x = x * 1.01
    return total + np.sum(x)


def test_x_plus_equals_in_the_body_changes_no_array_of_the_caller():
    """The primal runs each segment as Python; x += ... there is x = x + ..., as srcgrad reads
    it, so the state the derivative keeps (and the caller's x) is never changed in place."""
    x = X.copy()
    check_grads(augmented, x, 0.3, 7, order=1)  # checks that no argument changed
    np.testing.assert_array_equal(x, X)
    np.testing.assert_allclose(sg.grad(augmented)(X, 0.3, 7), sg.grad(augmented_plain)(X, 0.3, 7),
                               rtol=1e-13)


def counted_index(x, w, n):
    count = 0
    for _ in sg.checkpoint_range(n):
        x = x * w[int(count) % 3]
        count = count + 1
    return np.sum(x) + count


def test_a_counter_the_loop_carries_indexes_through_int():
    check_grads(counted_index, X, np.array([0.9, 1.1, 0.7]), 7, order=2, eager=True)


def test_continue_and_an_inner_loop_with_break():
    check_grads(skipping, X, 0.3, 8, order=1, eager=True)


# -- refused at the user's line -------------------------------------------------------------------

def breaks(x, n):
    for _ in sg.checkpoint_range(n):
        x = x * 0.5
        if np.sum(x) < 0.1:
            break
    return np.sum(x)


def returns(x, n):
    for _ in sg.checkpoint_range(n):
        x = x * 0.5
        if np.sum(x) < 0.1:
            return np.sum(x)
    return np.sum(x)


def appends(x, n):
    values = []
    for _ in sg.checkpoint_range(n):
        x = x * 0.5
        values.append(x)
    return np.sum(np.stack(values))


def step_read_after(x, n):
    t = 0
    for t in sg.checkpoint_range(n):
        x = x * 0.5
    return np.sum(x) * t


def unbound_state(x, n):
    for t in sg.checkpoint_range(n):
        if t == 0:
            total = x
        else:
            total = total + x
    return np.sum(total)


def nested_helper(x, n):
    def step(u):
        return u * 0.5
    for _ in sg.checkpoint_range(n):
        x = step(x)
    return np.sum(x)


def shared_update(x, n):
    y = x
    for _ in sg.checkpoint_range(n):
        x += 1.0
    return np.sum(y * x)


def _line_of(function, text):
    import inspect
    lines, first = inspect.getsourcelines(function)
    return first + next(i for i, line in enumerate(lines) if line.strip().startswith(text))


@pytest.mark.parametrize("function, at, words", [
    (breaks, "break", "a break inside a loop over srcgrad.checkpoint_range"),
    (returns, "return np.sum(x)", "a return inside a loop over srcgrad.checkpoint_range"),
    (appends, "values.append(x)", "a change in place of values"),
    (step_read_after, "for t in", "the step t of a loop over srcgrad.checkpoint_range, read "
                                  "after the loop"),
    (unbound_state, "for t in", "total, which a loop over srcgrad.checkpoint_range carries"),
    (nested_helper, "for _ in", "step, a nested function of yours"),
    (shared_update, "x += 1.0", "x += ... inside a loop over srcgrad.checkpoint_range, where x "
                                "may share its array with y"),
])
def test_what_a_segment_cannot_hold_is_refused_at_its_line(function, at, words):
    for make in (sg.grad, sg.value_and_grad, sg.jvp):
        with pytest.raises(sg.UnsupportedSyntax) as raised:
            make(function)(X, 4, *([X] if make is sg.jvp else []))
        message = str(raised.value)
        assert words in message
        assert f"{__file__}, line {_line_of(function, at)}" in message
    # The function itself runs: at run time checkpoint_range is range.
    assert np.isfinite(breaks(X, 4))


def test_a_standalone_module_of_it_is_refused_not_written_broken():
    """A segment is not importable from the user's module: ``show --out`` says so."""
    from srcgrad.export import module_source
    with pytest.raises(sg.SrcgradError, match="cannot be imported in a standalone module"):
        module_source(sg.grad(decay), X, 0.1, 9)
