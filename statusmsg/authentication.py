"""DRF's token authentication, refusing a malformed key before it reaches the database."""

import re

from rest_framework import authentication, exceptions

# DRF's keys are 40 hex digits. Anything else cannot match, and some of it (a NUL byte) would
# make PostgreSQL raise instead of find nothing.
_TOKEN_KEY = re.compile(r"[0-9a-f]{40}")


def is_token_key(key: str) -> bool:
    """Return whether key has the shape of a DRF token key (HTTP and socket handshakes both ask)."""
    return bool(_TOKEN_KEY.fullmatch(key))


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        if not is_token_key(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)
