"""Programs: a function traced into straight-line code, printed, optimized, compiled.

``make_program(f)(*args)`` records the primitives ``f`` applies (``trace``);
passes rewrite the program (``passes``); ``source`` prints it as NumPy code
and compiles it; ``jit`` caches compiled programs per call signature.
"""

from chainrule.program.jit import jit
from chainrule.program.trace import Program, Tracer, make_program

__all__ = ["Program", "Tracer", "jit", "make_program"]
