"""Reading the recorded graph back to a person: text now, drawings later."""

from chainrule.explain.graph_text import graph_text

__all__ = ["graph_text"]
