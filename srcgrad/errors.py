"""The errors a user can meet: each names the user's file, line and construct, and says what to do."""


class SrcgradError(Exception):
    """Base class of every error srcgrad raises on purpose."""


class SourceError(SrcgradError):
    """A function's source code cannot be read, so it cannot be transformed."""


class UnsupportedSyntax(SrcgradError):
    """The function uses a construct the transformer does not handle."""

    def __init__(self, construct, filename, lineno, advice=""):
        self.construct, self.filename, self.lineno = construct, filename, lineno
        where = f"{filename}, line {lineno}" if lineno else filename
        message = f"{where}: srcgrad cannot differentiate {construct}"
        if advice:
            message += f". {advice[:1].upper()}{advice[1:]}"
        super().__init__(message)


class NoDerivativeRule(UnsupportedSyntax):
    """An active value flows into a function that has no derivative rule."""


class NonScalarOutput(SrcgradError, ValueError):
    """`grad` was asked for the gradient of a function whose output is not a scalar."""


class InputTypeError(SrcgradError, TypeError):
    """An argument to differentiate with respect to is not a real floating-point value."""
