"""Canonical JSON bytes for audit events (RFC 8785 / JCS, restricted to JSON without floats).

Why our own encoder and not `rfc8785.dumps`: the app must not depend on a test-only package, and
the restricted domain (no floats) makes JCS equal to `json.dumps` with UTF-16 key ordering, compact
separators and raw (non-ASCII-escaped) strings. The tests check byte equality against `rfc8785`.

Why no floats: a float's decimal form differs between languages and versions, so a verifier
elsewhere could re-encode it differently; integers beyond +/-2^53 lose precision in JavaScript.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 16

# C-accelerated JSON string literal encoder (quotes included, non-ASCII left raw): same escaping
# as json.dumps(ensure_ascii=False), which is the JCS escaping for valid Unicode strings.
encode_string = json.encoder.encode_basestring


class CanonicalisationError(ValueError):
    """The value cannot be stored as canonical audit JSON (float, NaN, huge int, odd type)."""


def _utf16_key(key: str) -> bytes:
    """JCS orders object members by their UTF-16 code units, not by code points."""
    return key.encode("utf-16-be")


def normalise(value: Any, depth: int = 0) -> Any:
    """Check a value is canonical-safe JSON and return it with dicts in JCS key order."""
    if depth > MAX_DEPTH:
        raise CanonicalisationError("audit data nested too deeply")
    if value is None or isinstance(value, bool | str):
        _check_string(value)
        return value
    if isinstance(value, int):
        return _check_int(value)
    if isinstance(value, float):
        kind = "NaN/infinity" if not math.isfinite(value) else "floats"
        raise CanonicalisationError(f"audit data may not contain {kind}: {value!r}")
    if isinstance(value, Mapping):
        return _normalise_mapping(value, depth)
    if isinstance(value, list | tuple):
        return [normalise(item, depth + 1) for item in value]
    raise CanonicalisationError(f"audit data may not contain {type(value).__name__} values")


def _check_string(value: Any) -> None:
    """Lone surrogates cannot be encoded as UTF-8, so they could never be verified elsewhere."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CanonicalisationError("audit data contains an unpaired surrogate") from exc


def _check_int(value: int) -> int:
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise CanonicalisationError(f"integer outside +/-(2^53-1) refused: {value}")
    return int(value)  # IntEnum and friends become plain ints


def _normalise_mapping(value: Mapping[Any, Any], depth: int) -> dict[str, Any]:
    for key in value:
        if not isinstance(key, str):
            raise CanonicalisationError(f"audit data keys must be strings, not {key!r}")
        _check_string(key)
    return {key: normalise(value[key], depth + 1) for key in sorted(value, key=_utf16_key)}


def canonical_bytes(value: Any) -> bytes:
    """Encode a value as JCS canonical JSON in UTF-8 (raises CanonicalisationError)."""
    return encode_normalised(normalise(value))


def encode_normalised(value: Any) -> bytes:
    """The JCS bytes of a value `normalise` has already returned (no second walk over it)."""
    text = json.dumps(
        value,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
        sort_keys=False,  # normalise() already ordered the keys by UTF-16 code units
    )
    return text.encode("utf-8")
