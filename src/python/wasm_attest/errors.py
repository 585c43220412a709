"""The exception every user-facing failure of the core library derives from.

Callers (the Pants plugin, the CLI) catch this one type and print its message
as it is, so messages are written for the person who has to act on them.
"""


class WasmAttestError(Exception):
    """A failure whose message says what went wrong and what to do about it."""
