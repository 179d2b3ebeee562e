"""Handles as Medusa makes them (lodash kebabCase), and ids derived from values."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata

# lodash's deburr leaves these letters whole; they have no combining-mark form.
_LIGATURES = str.maketrans(
    {"Æ": "Ae", "æ": "ae", "Ø": "O", "ø": "o", "Œ": "Oe", "œ": "oe", "ß": "ss",
     "Đ": "D", "đ": "d", "Ł": "L", "ł": "l", "Þ": "Th", "þ": "th"}
)  # fmt: skip
_APOSTROPHES = re.compile("['\u2019]")
# Upper-case runs before a capitalised word, capitalised or lower words, upper-case runs,
# digit runs, and letters of other scripts (kept as they are).
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^\W\d_A-Za-z]+")


def kebab_case(text: str) -> str:
    """`Ünïcode Shirt & Co. v2` → `unicode-shirt-co-v-2`; `日本語` stays."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _WORDS.findall(_APOSTROPHES.sub("", plain))
    return "-".join(word.lower() for word in words)


def value_id(prefix: str, value: str) -> str:
    """A stable `<prefix>_<26 chars>` id for a shared value (a tag, a type, an image).

    Medusa upserts tags, types and images by value; deriving the id from the value gives
    every product that names the same value the same id, with no global lookup.
    """
    digest = hashlib.sha256(value.encode()).digest()
    return f"{prefix}_{base64.b32encode(digest).decode()[:26]}"
