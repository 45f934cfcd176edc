"""Passwords, tokens and encryption at rest."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from twiliocore_api.core.security import (
    DecryptionError,
    KeyRing,
    hash_password,
    mask_secret,
    verify_password,
)


def test_password_hashing_is_argon2_and_salted():
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first.startswith("$argon2id$")
    assert first != second
    assert verify_password("s3cret-pass", first)
    assert not verify_password("s3cret-pasS", first)
    assert not verify_password("s3cret-pass", "not a hash")


def test_tokens_round_trip_and_expire():
    keys = KeyRing("k" * 32)
    token = keys.create_access_token("7", timedelta(minutes=5))
    assert keys.decode_access_token(token)["sub"] == "7"
    with pytest.raises(jwt.ExpiredSignatureError):
        keys.decode_access_token(keys.create_access_token("7", timedelta(seconds=-1)))
    with pytest.raises(jwt.InvalidSignatureError):
        KeyRing("j" * 32).decode_access_token(token)


def test_jwt_key_is_not_the_secret_key():
    secret = "k" * 32
    token = KeyRing(secret).create_access_token("1", timedelta(minutes=1))
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, secret, algorithms=["HS256"])


def test_unsigned_tokens_are_refused():
    keys = KeyRing("k" * 32)
    forged = jwt.encode({"sub": "1", "exp": 2**40, "typ": "access"}, key=None, algorithm="none")
    with pytest.raises(jwt.InvalidTokenError):
        keys.decode_access_token(forged)


def test_encryption_round_trip_and_tamper_detection():
    keys = KeyRing("k" * 32)
    sealed = keys.encrypt("the-auth-token", context="a")
    assert "the-auth-token" not in sealed
    assert sealed != keys.encrypt("the-auth-token", context="a")  # random nonce
    assert keys.decrypt(sealed, context="a") == "the-auth-token"
    with pytest.raises(DecryptionError):
        keys.decrypt(sealed, context="b")
    with pytest.raises(DecryptionError):
        KeyRing("z" * 32).decrypt(sealed, context="a")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(DecryptionError):
        keys.decrypt(flipped, context="a")
    with pytest.raises(DecryptionError):
        keys.decrypt("plain", context="a")


def test_mask_and_repr_hide_secrets():
    assert mask_secret("0123456789abcdef0123") == "********0123"
    assert mask_secret("short") == "********"
    assert mask_secret(None) is None
    assert "k" * 32 not in repr(KeyRing("k" * 32))
