"""The one exception gatviz raises for a user's mistake."""


class GatvizError(Exception):
    """A problem with what the user gave (a file, a name, a setting).

    The message is written for that user: one line, naming the bad value.
    The CLI prints it as ``error: …`` and exits 2; the app shows it with
    ``st.error``. Bugs are not GatvizErrors and may still raise tracebacks.
    """


def node_index(node, count: int) -> int:
    """``node`` as a node index of a graph of ``count`` nodes (GatvizError, one line, for anything
    else: a name where an index is wanted, a bool, a float, a negative or too large index).
    Node names are looked up with ``Graph.index``; numpy's integers are integers here."""
    if isinstance(node, bool) or not hasattr(node, "__index__"):
        raise GatvizError(f"a node index must be a whole number, not {node!r} (a node's name: graph.index(name))")
    index = node.__index__()
    if not 0 <= index < count:
        raise GatvizError(f"node index {index} is out of range (0..{count - 1})")
    return index
