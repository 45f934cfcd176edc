"""Passwords (argon2), login tokens (JWT, HS256) and encryption of stored credentials.

Both the JWT signing key and the AES-256-GCM key for credentials at rest are derived
from ``SECRET_KEY`` with HKDF-SHA256 under different ``info`` labels, so neither key is
``SECRET_KEY`` itself and one cannot be computed from the other.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["DecryptionError", "KeyRing", "hash_password", "mask_secret", "verify_password"]

ALGORITHM = "HS256"
_CIPHER_PREFIX = "v1:"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    """Check a password against its argon2 hash (constant time)."""
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def mask_secret(secret: str | None) -> str | None:
    """Mask a secret for display: only its last four characters survive."""
    if not secret:
        return None
    return "*" * 8 + secret[-4:] if len(secret) > 12 else "*" * 8


class DecryptionError(Exception):
    """Raised when stored ciphertext cannot be decrypted (wrong ``SECRET_KEY`` or tampering)."""


def _derive(secret_key: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(
        secret_key.encode("utf-8")
    )


class KeyRing:
    """The keys derived from ``SECRET_KEY``: one for JWTs, one for AES-GCM at rest.

    Thread-safe: it holds only immutable keys.
    """

    def __init__(self, secret_key: str) -> None:
        self._jwt_key = _derive(secret_key, b"twiliocore-api/jwt/v1")
        self._aead = AESGCM(_derive(secret_key, b"twiliocore-api/credentials/v1"))

    def __repr__(self) -> str:
        return "KeyRing(<hidden>)"

    def create_access_token(self, subject: str, expires: timedelta, *, version: int = 0) -> str:
        """Issue a signed JWT for ``subject`` (a user id) valid for ``expires``.

        ``version`` is the user's token version (claim ``ver``): a token stops being
        accepted once the user's version moves past it (see ``deps.get_current_user``).
        """
        now = datetime.now(timezone.utc)
        payload = {
            "sub": subject,
            "iat": now,
            "exp": now + expires,
            "typ": "access",
            "ver": version,
        }
        return jwt.encode(payload, self._jwt_key, algorithm=ALGORITHM)

    def decode_access_token(self, token: str) -> dict[str, Any]:
        """Verify a JWT and return its claims; raises ``jwt.InvalidTokenError`` if invalid."""
        claims = jwt.decode(
            token, self._jwt_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
        if claims.get("typ") != "access":
            raise jwt.InvalidTokenError("not an access token")
        return claims

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt ``plaintext`` with AES-256-GCM; ``context`` is bound as associated data."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return _CIPHER_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, ciphertext: str, *, context: str) -> str:
        """Decrypt what :meth:`encrypt` produced with the same ``context``."""
        if not ciphertext.startswith(_CIPHER_PREFIX):
            raise DecryptionError("unknown ciphertext format")
        try:
            raw = base64.urlsafe_b64decode(ciphertext[len(_CIPHER_PREFIX) :].encode("ascii"))
            plain = self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError(
                "stored credentials cannot be decrypted: was SECRET_KEY changed?"
            ) from exc
        return plain.decode("utf-8")
