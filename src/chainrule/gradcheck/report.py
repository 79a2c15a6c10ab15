"""What gradcheck found, told in words: which mode, which element, both values.

A failed check is only useful if it says where to look. ``Mismatch`` holds
the worst disagreement of one mode (its input, output and input indices, or
its random direction, and both values); ``GradcheckError`` carries it, so a
test can read the numbers instead of parsing the message.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GradcheckError", "Mismatch", "reference_phrase"]

# How each numerical method is named in a message, with its verb.
_REFERENCE = {
    "central": "central differences give",
    "forward": "forward differences give",
    "backward": "backward differences give",
    "richardson": "Richardson extrapolation gives",
    "complex": "the complex step gives",
}


def reference_phrase(method: str) -> str:
    """``"central differences give"`` and the like, for the numerical method used."""
    return _REFERENCE[method]


class GradcheckError(AssertionError):
    """Automatic differentiation and finite differences disagree.

    ``mismatch`` is the worst disagreement found (a :class:`Mismatch`), or
    ``None`` when the error was raised without one.
    """

    def __init__(self, message: str, mismatch: Mismatch | None = None) -> None:
        super().__init__(message)
        self.mismatch = mismatch


def _index(index: tuple[int, ...]) -> str:
    # plain ints, so the message reads (1,) rather than (np.int64(1),)
    return str(tuple(int(i) for i in index))


@dataclass
class Mismatch:
    """The worst disagreement of one mode in one check.

    ``mode`` is ``"reverse"`` or ``"forward"`` (``"reverse-over-reverse"`` and
    ``"forward-over-reverse"`` in gradgradcheck). An element check fills
    ``input`` (which argument), ``output_index`` and ``input_index``; a
    random-direction check fills ``direction`` (its number, from 0) and, in
    forward mode, ``output_index``. ``analytic`` is what AD gave, ``numeric``
    what the finite differences gave, ``excess`` how far ``|analytic -
    numeric|`` exceeds the tolerance. At a kink ``one_sided`` holds the
    backward and forward differences the value was also compared with.
    """

    mode: str
    analytic: float
    numeric: float
    excess: float
    input: int | None = None
    output_index: tuple[int, ...] = ()
    input_index: tuple[int, ...] = ()
    direction: int | None = None
    one_sided: tuple[float, float] | None = None

    def sentence(self, method: str, seed: int) -> str:
        """Where and what: ``input 0, output index (1,), input index (1,): reverse mode ...``."""
        ref = reference_phrase(method)
        if self.direction is None:
            return (f"input {self.input}, output index {_index(self.output_index)}, input index "
                    f"{_index(self.input_index)}: {self.mode} mode gives {self.analytic:.10g}, "
                    f"{ref} {self.numeric:.10g}")
        where = f"random direction {self.direction} (seed {seed})"
        if self.mode.startswith("reverse"):
            return (f"{where}: {self.mode} mode gives u^T J v = {self.analytic:.10g} (u a random "
                    f"cotangent), {ref} u . d/dt f(x + t v) = {self.numeric:.10g}")
        return (f"{where}, output index {_index(self.output_index)}: {self.mode} mode gives "
                f"J v = {self.analytic:.10g}, {ref} d/dt f(x + t v) = {self.numeric:.10g}")

    def one_sided_text(self) -> str:
        """The kink clause of a message (empty away from kinks)."""
        if self.one_sided is None:
            return ""
        left, right = self.one_sided
        return (f"; one-sided differences give {left:.10g} and {right:.10g}, "
                "and the evaluation touched a kink")
