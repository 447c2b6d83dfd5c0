"""Whether operations on Tensors are recorded: no_grad, enable_grad, set_grad_enabled."""
import functools
import threading



class _ThreadState(threading.local):
    """Per thread: whether operations are recorded, whether inference mode is on. The defaults
    are class attributes, so that reading them is a plain attribute lookup (the tape reads
    ``enabled`` on every operation; getattr with a default cost a third of a microsecond)."""

    enabled = True
    inference = False


_state = _ThreadState()


def is_grad_enabled():
    """True when new operations on Tensors that require grad are recorded (the default)."""
    return _state.enabled


def _set_enabled(flag):
    _state.enabled = bool(flag)


class _GradMode:
    """A context manager and decorator that sets the grad mode and restores the previous one.

    As a decorator it works with and without parentheses (``@no_grad()``, ``@no_grad``).
    """

    enabled = True

    def __new__(cls, *args):
        if cls in (no_grad, enable_grad) and len(args) == 1 and callable(args[0]):
            return cls()(args[0])  # bare @no_grad: the decorated function
        return super().__new__(cls)

    def __enter__(self):
        self._previous = is_grad_enabled()
        _set_enabled(self.enabled)
        return self

    def __exit__(self, *exc_info):
        _set_enabled(self._previous)
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def with_mode(*args, **kwargs):
            with self.__class__():
                return function(*args, **kwargs)
        return with_mode


class no_grad(_GradMode):
    """Do not record operations: ``with srcgrad.no_grad(): w -= lr * w.grad``."""

    enabled = False


class enable_grad(_GradMode):
    """Record operations again, inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches recording off now; as a context manager it restores
    the previous mode on exit (the same behaviour as PyTorch's)."""

    def __init__(self, mode):
        self._previous = is_grad_enabled()
        self.enabled = bool(mode)
        _set_enabled(self.enabled)  # a plain call takes effect at once

    def __enter__(self):
        return self  # the mode was already set by __init__; __exit__ restores _previous

    def __call__(self, function):
        # Used as a decorator, the constructor's immediate switch must not outlive the definition.
        _set_enabled(self._previous)
        mode = self.enabled

        @functools.wraps(function)
        def with_mode(*args, **kwargs):
            with set_grad_enabled(mode):
                return function(*args, **kwargs)
        return with_mode


class inference_mode(_GradMode):  # noqa: N801  (PyTorch's name)
    """No recording, as ``no_grad`` (srcgrad keeps no other state that inference could skip);
    ``inference_mode(False)`` records again."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self.enabled = not self.mode

    def __enter__(self):
        self._previous_inference = is_inference_mode_enabled()
        _state.inference = self.mode
        return super().__enter__()

    def __exit__(self, *exc_info):
        _state.inference = self._previous_inference
        return super().__exit__(*exc_info)

    def __call__(self, function):
        mode = self.mode

        @functools.wraps(function)
        def with_mode(*args, **kwargs):
            with inference_mode(mode):
                return function(*args, **kwargs)
        return with_mode


def is_inference_mode_enabled():
    return _state.inference
