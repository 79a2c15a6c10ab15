"""Derivatives checked against finite differences: ``gradcheck`` and ``gradgradcheck``.

Reverse mode (VJPs) and forward mode (JVPs) are compared with
``chainrule.numerical``, the NumPy-only oracle, element by element and along
seeded random directions, with tolerances scaled to the inputs' dtype. A
failure names the mode, the worst element and both values.
"""

from .first_order import gradcheck
from .options import default_tolerances
from .report import GradcheckError, Mismatch
from .second_order import gradgradcheck

__all__ = ["GradcheckError", "Mismatch", "default_tolerances", "gradcheck", "gradgradcheck"]
