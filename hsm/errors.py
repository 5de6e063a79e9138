"""One exception type for everything that can go wrong with the token.

Callers (the sidecar's readiness check, the CLI) show the message as it is, so every message names
the cause in words a security officer understands — and never contains a PIN.
"""


class HsmError(Exception):
    """A token, key or certificate problem, with a message fit to show to an operator."""


class WrongPinError(HsmError):
    """The token refused the PIN. Retrying with the same PIN would only count towards a lockout."""


class TokenUnavailableError(HsmError):
    """The module loads but the token is absent, removed, or its session was lost."""
