"""Input a user could write but srcgrad cannot differentiate: clear errors, never tracebacks."""
import inspect
import math

import numpy as np
import pytest

import srcgrad as sg


def line_of(function, text):
    """The file line number where ``text`` first appears in ``function``'s source."""
    lines, first = inspect.getsourcelines(function)
    for offset, line in enumerate(lines):
        if text in line:
            return first + offset
    raise AssertionError(f"{text!r} not in {function.__name__}")


def uses_try(x):
    try:
        y = np.sin(x)
    except ValueError:
        y = x
    return np.sum(y)


def uses_with(x):
    with open(__file__) as handle:  # np.errstate and warnings.catch_warnings are accepted
        y = np.log(x) + len(handle.readline()) * 0.0
    return np.sum(y)


def writes_element(x):
    y = x.T
    y[0] = 1.0
    return np.sum(y)


def calls_method(x):
    return np.sum(x.compress([True, False, True]))


def calls_builtin(x):
    return math.gamma(np.sum(x))


def writes_global(x):
    global counter
    counter = 1
    return np.sum(x)


def generator(x):
    yield x


def varargs(*xs):
    return np.sum(xs[0])


def calls_tolist(x):
    return x.tolist()[0]


def test_array_method_without_numpy_twin_is_refused_without_false_advice():
    with pytest.raises(sg.UnsupportedSyntax) as caught:
        sg.grad(calls_tolist)(np.ones(3))
    message = str(caught.value)
    assert message.startswith(f"{__file__}, line {line_of(calls_tolist, 'x.tolist(')}: ")
    assert "the array method .tolist()" in message and "np.tolist" not in message


def may_fall_off_the_end(x):
    if np.sum(x) > 0:
        return np.sum(x)


def uses_unknown_numpy_function(x):
    # np.piecewise applies the caller's own functions: no rule can say what their derivative is
    return np.sum(np.piecewise(x, [x < 0.0], [np.negative, np.exp]))


@pytest.mark.parametrize("function, text, construct", [
    (uses_try, "try:", "try/except"),
    (uses_with, "with open(", "a with block"),
    (writes_element, "y[0] = 1.0", "a write into y, which may share memory"),
    (calls_method, "x.compress(", "the array method .compress()"),
    (writes_global, "global counter", "a global statement"),
    (generator, "yield x", "a generator (yield)"),
])
def test_unsupported_construct_names_file_line_and_construct(function, text, construct):
    with pytest.raises(sg.UnsupportedSyntax) as caught:
        sg.grad(function)(np.ones(3))
    message = str(caught.value)
    assert message.startswith(f"{__file__}, line {line_of(function, text)}: ")
    assert f"srcgrad cannot differentiate {construct}" in message
    assert caught.value.lineno == line_of(function, text)
    assert caught.value.filename == __file__


def test_call_without_rule_says_how_to_register_one():
    with pytest.raises(sg.NoDerivativeRule) as caught:
        sg.grad(calls_builtin)(np.ones(3))
    message = str(caught.value)
    assert f"line {line_of(calls_builtin, 'math.gamma(')}:" in message
    assert "a call to math.gamma (math.gamma)" in message and "@srcgrad.defvjp(math.gamma)" in message


def test_numpy_function_without_rule():
    with pytest.raises(sg.NoDerivativeRule, match=r"a call to np\.piecewise \(numpy\.piecewise\), which has "
                                                 r"no derivative rule"):
        sg.grad(uses_unknown_numpy_function)(np.ones(4))


def test_a_path_without_return_is_refused():
    with pytest.raises(sg.UnsupportedSyntax, match="may_fall_off_the_end, which can end without "
                                                   "returning a value. Make every path end"):
        sg.grad(may_fall_off_the_end)(np.ones(2))


def test_differentiating_star_args_is_refused():
    with pytest.raises(sg.SrcgradError, match=r"wrt=0 does not name a parameter of "
                       r"varargs\(\*xs\).*\(\*xs is read as a constant, never differentiated\)"):
        sg.grad(varargs)(np.ones(2))


def vector_output(x):
    return x * 2.0


def test_grad_of_a_vector_output_points_to_vjp():
    with pytest.raises(sg.NonScalarOutput, match=r"vector_output to return a scalar.*shape \(3,\).*srcgrad\.vjp"):
        sg.grad(vector_output)(np.ones(3))


RUNTIME_SOURCE = "def made_at_runtime(x):\n    return np.sum(x * x * 1.5)\n"


def test_function_without_source_file_says_what_to_do():
    namespace = {"np": np}
    exec(RUNTIME_SOURCE, namespace)
    with pytest.raises(sg.SourceError, match=r"cannot read the source of made_at_runtime .*"
                                             r"srcgrad\.grad\(made_at_runtime, source=\.\.\.\)"):
        sg.grad(namespace["made_at_runtime"])(np.ones(2))


def test_source_can_be_given_for_exec_functions():
    namespace = {"np": np}
    exec(RUNTIME_SOURCE, namespace)
    gradient = sg.grad(namespace["made_at_runtime"], source=RUNTIME_SOURCE)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(gradient, [3.0, 6.0])


def test_functions_from_notebook_cells_work_through_linecache():
    import linecache
    filename = "<ipython-input-7-0123456789ab>"  # how IPython names a cell
    linecache.cache[filename] = (len(RUNTIME_SOURCE), None, RUNTIME_SOURCE.splitlines(True),
                                 filename)
    namespace = {"np": np}
    exec(compile(RUNTIME_SOURCE, filename, "exec"), namespace)
    np.testing.assert_allclose(sg.grad(namespace["made_at_runtime"])(np.ones(2)), [3.0, 3.0])


def test_lambdas_on_one_line_are_told_apart_by_position():
    twins = (lambda x: x * x, lambda x: x * x * x)  # noqa: E731
    assert sg.grad(twins[0])(2.0) == pytest.approx(4.0)
    assert sg.grad(twins[1])(2.0) == pytest.approx(12.0)


def test_wrt_must_name_a_parameter():
    with pytest.raises(sg.SrcgradError, match=r"wrt=5 does not name a parameter of vector_output\(x\)"):
        sg.grad(vector_output, wrt=5)(np.ones(3))


def test_source_requires_a_srcgrad_function():
    with pytest.raises(sg.SrcgradError, match="srcgrad.source takes a function made by"):
        sg.source(vector_output)


def discards_an_in_place_call(x):
    y = np.zeros(3)
    np.put(y, [0, 1], x[:2])
    return np.sum(y)


def test_a_call_whose_result_is_discarded_is_refused():
    with pytest.raises(sg.UnsupportedSyntax, match=r"the call np\.put\(\.\.\.\) whose result "
                                                   r"is discarded\. Srcgrad differentiates values"):
        sg.grad(discards_an_in_place_call)(np.ones(3))
