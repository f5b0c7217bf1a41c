"""The one exception type for mistakes a coordinator can fix."""


class TanetError(Exception):
    """A user mistake: the message says what is wrong and how to fix it."""
