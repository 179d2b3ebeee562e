"""Password hashing with scrypt (memory-hard; in the standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# N=2^15, r=8, p=1: 32 MiB and tens of milliseconds per guess (RFC 7914 interactive).
_N, _R, _P, _DKLEN = 2**15, 8, 1, 32
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN, maxmem=_MAXMEM
    )
    return "$".join(["scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def check_password(password: str, stored: str | None) -> bool:
    """`verify_password`, at the cost of one full hash whatever `stored` is.

    An unknown email (None) or an unusable stored value is checked against a dummy
    hash of the same cost, so how long a login takes never tells whether the email
    has an account.
    """
    if stored is None or not stored.startswith("scrypt$"):
        verify_password(password, _DUMMY_HASH)
        return False
    return verify_password(password, stored)


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=_MAXMEM,
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# Random bytes in the stored format: no password matches it, and checking costs the same.
_DUMMY_HASH = "$".join(
    ["scrypt", str(_N), str(_R), str(_P)]
    + [_b64(secrets.token_bytes(size)) for size in (16, _DKLEN)]
)
