"""Reading the recorded graph back to a person: traces, drawings, comparisons."""

from chainrule.explain.compare import Comparison, compare
from chainrule.explain.dot import draw, render_dot, to_dot
from chainrule.explain.graph_text import graph_text
from chainrule.explain.trace import Explanation, Step, explain

__all__ = ["Comparison", "Explanation", "Step", "compare", "draw", "explain", "graph_text",
           "render_dot", "to_dot"]
