"""The errors of the symbolic engine: one base class, each naming what went wrong."""

from __future__ import annotations


class SymbolicError(ValueError):
    """Base of every error the symbolic engine raises on bad input."""


class ParseError(SymbolicError):
    """Text that is not an expression; shows where the problem is with a caret.

    >>> from chainrule.symbolic import parse
    >>> parse("2 * (x + 1")
    Traceback (most recent call last):
      ...
    chainrule.symbolic.errors.ParseError: expected ')' to close the '(' at position 4, ...
      2 * (x + 1
                ^
    """

    def __init__(self, message: str, text: str, position: int) -> None:
        self.message = message
        self.text = text
        self.position = position
        super().__init__(f"{message} (position {position})\n{_excerpt(text, position)}")


class SymbolicZeroDivisionError(SymbolicError, ZeroDivisionError):
    """An exact division by zero found while simplifying."""


class MissingVariableError(SymbolicError, KeyError):
    """Evaluation was not given a value for a variable the expression uses."""

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0])


def _excerpt(text: str, position: int, width: int = 60) -> str:
    """The part of ``text`` around ``position`` on one line, a caret under it."""
    start = max(0, position - width // 2)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    line = text[start:end]
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(text) else ""
    # control characters would break the caret alignment; show them escaped
    shown = "".join(c if c.isprintable() else "?" for c in line)
    return f"  {prefix}{shown}{suffix}\n  {' ' * (len(prefix) + position - start)}^"
