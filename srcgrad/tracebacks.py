"""Tracebacks that point at the user's code: srcgrad's own frames hidden, generated lines mapped back.

Two kinds of exception leave a call into srcgrad:

- srcgrad's own errors (:class:`~srcgrad.errors.SrcgradError`). What the user needs is the message,
  which names their file and line; the twenty frames of the transformer that found the problem
  are noise. :func:`present` makes sure the message names a location and drops those frames, so
  the message follows the user's call directly (Python 3.11 and newer; on 3.10 the one frame
  that re-raises it stays). ``SRCGRAD_TRACEBACK=full`` in the environment keeps every frame.
- An exception raised by the user's own code as it runs inside generated code (a shape mismatch,
  a bad index). Its traceback ends in a generated file such as ``<srcgrad grad of loss #1>``,
  whose lines Python's default hook cannot show before 3.13. :func:`note_user_line` attaches the
  user's file, line and source line as an exception note (and, on 3.10, which prints no notes,
  to the message as well); :func:`hide_own_frames` keeps the user's, generated and library
  frames and drops srcgrad's.
"""
from __future__ import annotations

import os
import sys
import types
from typing import Any, Optional, Tuple

from .errors import SrcgradError
from .transform.emit import LINE_ORIGINS, user_location

# Generated file name -> (the user's file, the user's function name).
_USER_FILES: dict[str, Tuple[str, str]] = {}

# From 3.11 on, a bare ``raise`` does not add the re-raising frame to the traceback.
_BARE_RAISE_HIDES_FRAME = sys.version_info >= (3, 11)


def register(generated_function: Any, user_file: str, user_name: str) -> None:
    """Remember which user file and function a generated function was made from."""
    code = getattr(generated_function, "__code__", None)
    if code is not None:
        _USER_FILES[code.co_filename] = (user_file, user_name)


def full_tracebacks() -> bool:
    """Whether the user asked to see srcgrad's internal frames (for debugging srcgrad itself)."""
    return os.environ.get("SRCGRAD_TRACEBACK", "").lower() == "full"


def user_line(tb: Optional[types.TracebackType]) -> Optional[Tuple[str, int, str, str]]:
    """(file, line, source text, function name) of the user line behind the innermost generated
    frame in ``tb``, or None when the traceback passes through no generated code."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        origin = LINE_ORIGINS.get(filename, {}).get(tb.tb_lineno)
        if origin is not None:
            user_file, user_name = _USER_FILES.get(filename, (filename, "?"))
            found = (user_file, origin[0], origin[1], user_name)
        tb = tb.tb_next
    return found


def present(error: SrcgradError, fallback: Optional[Tuple[str, int]] = None) -> bool:
    """Make ``error`` name the user's file and line, and hide srcgrad's frames.

    The location is the user line behind the innermost generated frame, else ``fallback`` (the
    differentiated function's ``def`` line, or the caller's line). Returns True when a bare
    ``raise`` now shows the message right after the user's call; False on Python 3.10, where the
    caller should ``raise error.with_traceback(None)`` instead.
    """
    line = user_line(error.__traceback__)
    if error.filename is not None and _is_own(error.filename):
        # found in srcgrad's own code (a runtime helper walked at second order): the user's
        # line behind the generated code that called it is the place to name
        outside = user_line_outside_package(error.__traceback__) or fallback
        if outside is not None:
            error.relocate(*outside[:2])
    if line is not None and not _is_own(line[0]):
        error.locate(line[0], line[1])
    elif fallback is not None:
        error.locate(*fallback)
    if full_tracebacks():
        return True
    error.__traceback__ = None
    return _BARE_RAISE_HIDES_FRAME


def note_user_line(error: BaseException) -> None:
    """Attach the user's file, line and source line to an exception raised in generated code."""
    if getattr(error, "__srcgrad_noted__", False) or isinstance(error, SrcgradError):
        return
    line = user_line(error.__traceback__)
    if line is None:
        return
    user_file, lineno, text, name = line
    note = (f"srcgrad: raised in the generated derivative, at this line of yours:\n"
            f'  File "{user_file}", line {lineno}, in {name}\n    {text}')
    try:
        error.__srcgrad_noted__ = True  # type: ignore[attr-defined]
    except AttributeError:
        return  # an exception type with __slots__: leave it alone
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:  # 3.10 prints no notes: keep them as 3.11 would, and say it in the message too
        error.__notes__ = [*getattr(error, "__notes__", []), note]  # type: ignore[attr-defined]
        if len(error.args) == 1 and isinstance(error.args[0], str):
            error.args = (f"{error.args[0]}\n{note}",)


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _is_own(filename: str) -> bool:
    """Is ``filename`` one of srcgrad's own source files?"""
    return os.path.abspath(filename).startswith(_PACKAGE)


def user_line_outside_package(tb: Optional[types.TracebackType]) -> Optional[Tuple[str, int]]:
    """The user's (file, line) behind the innermost generated frame that was not made from
    srcgrad's own code, following code generated from generated code back to the user's."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in LINE_ORIGINS:
            user_file, lineno = user_location(filename, tb.tb_lineno)
            if user_file is not None and lineno is not None and not _is_own(user_file):
                found = (user_file, lineno)
        tb = tb.tb_next
    return found


def hide_own_frames(error: BaseException) -> None:
    """Drop srcgrad's frames between the user's call and the generated code from the traceback
    of an exception raised as generated code ran, so it reads: the user's call, the generated
    line, what failed below it. An exception that did not come through generated code (a bug in
    srcgrad itself) keeps its whole traceback."""
    if full_tracebacks() or error.__traceback__ is None:
        return
    entries = []
    tb: Optional[types.TracebackType] = error.__traceback__
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    generated = [k for k, entry in enumerate(entries)
                 if entry.tb_frame.f_code.co_filename in LINE_ORIGINS]
    if not generated:
        return
    last = generated[-1]
    kept = [entry for k, entry in enumerate(entries)
            if k >= last or not entry.tb_frame.f_code.co_filename.startswith(_PACKAGE)]
    for earlier, later in zip(kept, kept[1:] + [None]):
        earlier.tb_next = later
    head = entries[0]
    if head is not kept[0]:
        # 3.10 re-raises the traceback it caught, whose first entry is the boundary's frame
        head.tb_next = kept[0]
    error.__traceback__ = kept[0]


def caller_location(tb: Optional[types.TracebackType]) -> Optional[Tuple[str, int]]:
    """The file and line of the call that entered srcgrad, from the boundary's traceback entry."""
    if tb is None or tb.tb_frame.f_back is None:
        return None
    frame = tb.tb_frame.f_back
    return frame.f_code.co_filename, frame.f_lineno


__all__ = ["caller_location", "full_tracebacks", "hide_own_frames", "note_user_line", "present",
           "register", "user_line"]
