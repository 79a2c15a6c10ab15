"""Reading the recorded graph back to a person: traces, drawings, comparisons."""

from chainrule.explainer.compare import Comparison, compare
from chainrule.explainer.dot import draw, render_dot, to_dot
from chainrule.explainer.graph_text import graph_text
from chainrule.explainer.trace import Explanation, Step, explain

__all__ = ["Comparison", "Explanation", "Step", "compare", "draw", "explain", "graph_text",
           "render_dot", "to_dot"]
