"""The engine's core: primitives, tracing, graph nodes and switches.

Nothing here knows any particular operation; ``chainrule.ops`` fills the
primitive table and the engines (reverse, forward, symbolic) read it.
"""
