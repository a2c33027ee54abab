"""The one exception gatviz raises for a user's mistake."""


class GatvizError(Exception):
    """A problem with what the user gave (a file, a name, a setting).

    The message is written for that user: one line, naming the bad value.
    The CLI prints it as ``error: …`` and exits 2; the app shows it with
    ``st.error``. Bugs are not GatvizErrors and may still raise tracebacks.
    """
