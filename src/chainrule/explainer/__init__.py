"""Reading the recorded graph back to a person: traces, drawings, comparisons."""

from chainrule.explainer.compare import Comparison, compare
from chainrule.explainer.dot import draw, render_dot, to_dot
from chainrule.explainer.graph_text import graph_text
from chainrule.explainer.nn_gradients import NNGradients, explain_nn
from chainrule.explainer.trace import Explanation, Step, explain

__all__ = ["Comparison", "Explanation", "NNGradients", "Step", "compare", "draw", "explain",
           "explain_nn", "graph_text", "render_dot", "to_dot"]
