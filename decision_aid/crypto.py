"""Encryption of decision content at rest: AES-256-GCM under per-case data keys (docs/operations.md).

Why in the application and not the disk: disposal at the end of the retention period must remove
one case's content while the rest of the database, its backups and the audit chain stay intact.
Each case reference has a random 256-bit *data key*; content is encrypted under it, and the data
key is stored only *wrapped* (encrypted) under the *key-encryption key* (KEK), which lives in a
file outside the database. Destroying a case's wrapped key (crypto-shredding) makes every
ciphertext of that case unreadable everywhere, including in backups taken before, as soon as the
KEK no longer unwraps it. The audit chain never holds content (ids only), so it keeps verifying.

Ciphertext layout (one blob per encrypted column value), two versions:

    0x01 | data key id (16 bytes, the case_key row's UUID) | nonce (12 bytes) | ciphertext+tag
    0x02 | data key id (16 bytes)                          | nonce (12 bytes) | ciphertext+tag

Version 1 encrypts the plaintext as it is; version 2 (what every new value is written as)
encrypts the plaintext compressed with raw DEFLATE at level 1 (compress, then encrypt). A
decision's sealed JSON shrinks from about 52 KB to about 10 KB, which is 11 fewer 4 KB pages
written, and fsync'd, per submit (target T23). Version 1 blobs stay readable for good.

The associated data is "<table>:<column>:<row id>", so a ciphertext copied to another row or
column fails authentication instead of decrypting as someone else's record. Version 2 also
authenticates its first 17 bytes (version and key id) by putting them before that text, so a
blob relabelled from one version to the other fails authentication too.

Why compressing before encrypting is safe here (the CRIME/BREACH "compression oracle" needs
all three of: text an attacker chooses, compressed together with a secret the attacker may
not read, and many observations of the resulting length): everything inside one blob comes
from people entitled to read that whole blob. A decision's or draft's content is its own
practitioner's answers and text plus the rule engine's output for those answers (the rule set
is not secret); a review's reasons are one supervisor's text; a complaint summary is one text.
Nobody who can put text into a blob is denied reading the rest of it, so guessing it from the
length gains nothing; someone who sees only the database (a backup, a DBA) chooses no text.
The length of a version 1 blob already gave away the exact length of the text; a version 2
length gives away a little about how repetitive the text is, no more. Anything added to a
sealed value later that mixes in text from someone who may not read the rest should be
encrypted with `compress=False` (version 1) or in its own blob.

KEK sources, in order: DECISION_AID_KEK (base64 of 32 bytes; Flask copies it to config "KEK"),
the file named by DECISION_AID_KEK_FILE (config KEK_FILE; base64 of 32 bytes), and only in
development and test a generated instance/keys/kek.key (0600). Production without either fails
with an error naming DECISION_AID_KEK_FILE. Prefer the file: T34 wants no key material in the
web worker's environment, only a reference to it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hashlib
import logging
import os
import secrets
import uuid
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, g
from sqlalchemy import Select, Table, bindparam, event, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from decision_aid import clock
from decision_aid.config import ConfigError

log = logging.getLogger(__name__)

VERSION_PLAIN = b"\x01"  # plaintext encrypted as it is (every blob written before version 2)
VERSION_DEFLATE = b"\x02"  # plaintext compressed (raw DEFLATE, level 1), then encrypted
VERSION = VERSION_DEFLATE  # what new blobs are written as
_VERSIONS = frozenset((VERSION_PLAIN, VERSION_DEFLATE))
NONCE_BYTES = 12
KEY_BYTES = 32
_HEADER = 1 + 16 + NONCE_BYTES
# Level 1: 52 KB of decision JSON to about 10 KB in 0.1 ms; level 6 saves 2 KB more for 0.5 ms.
DEFLATE_LEVEL = 1
_RAW_DEFLATE = -15  # wbits: no zlib header or Adler-32 (AES-GCM already authenticates)
# A ceiling on what one blob may inflate to (the largest decision is about 60 KB of JSON): only
# the holder of the data key can make a blob that authenticates, but a bug should not exhaust
# a worker's memory either.
MAX_PLAINTEXT_BYTES = 16 * 1024 * 1024
ENV_KEK = "DECISION_AID_KEK"
ENV_KEK_FILE = "DECISION_AID_KEK_FILE"
DEV_KEK_PATH = Path("keys") / "kek.key"
TOMBSTONE: dict[str, Any] = {"disposed": True}
# What pages and exports show in place of free text whose case has been disposed of.
DISPOSED_TEXT = "(disposed of at the end of the retention period)"


class KekConfigError(ConfigError):
    """No usable key-encryption key (missing in production, unreadable or malformed)."""


class DecryptionError(ValueError):
    """A ciphertext failed authentication: tampered, moved to another row, or the wrong key."""


class KeyDestroyed(LookupError):
    """The case's data key was destroyed at disposal: the content is gone for good."""


@dataclasses.dataclass(frozen=True)
class Kek:
    """The key-encryption key and its public identifier (a hash prefix, safe to store and log)."""

    key: bytes = dataclasses.field(repr=False)

    @property
    def kek_id(self) -> str:
        """Names the KEK in case_key rows without revealing it (rotation finds stale rows)."""
        return hashlib.sha256(b"decision-aid-kek\x00" + self.key).hexdigest()[:16]


# KEK loading ----------------------------------------------------------------------------------

def parse_kek(material: bytes | str, source: str) -> Kek:
    """Base64 of exactly 32 random bytes (as written by `flask keys generate-kek`)."""
    text = material.decode() if isinstance(material, bytes) else material
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KekConfigError(f"{source} is not base64 of a 32-byte key") from exc
    if len(raw) != KEY_BYTES:
        raise KekConfigError(f"{source} must hold exactly 32 bytes (base64), not {len(raw)}")
    return Kek(raw)


def new_kek_material() -> bytes:
    """A fresh KEK as the file content: base64 and a newline."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n"


def write_kek_file(path: Path) -> Kek:
    """Create a KEK file with mode 0600, refusing to overwrite an existing key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    material = new_kek_material()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, material)
        os.fsync(fd)
    finally:
        os.close(fd)
    return parse_kek(material, str(path))


def read_kek_file(path: Path, source: str) -> Kek:
    """Read a KEK file, naming the setting in the error so an operator knows what to fix."""
    try:
        return parse_kek(Path(path).read_bytes(), source)
    except OSError as exc:
        raise KekConfigError(f"cannot read {source} ({path}): {exc.strerror}") from exc


def _dev_kek() -> Kek:
    path = Path(current_app.instance_path) / DEV_KEK_PATH
    if path.exists():
        return read_kek_file(path, str(path))
    log.warning("no key-encryption key configured; generated %s (development/test only)", path)
    try:
        return write_kek_file(path)
    except FileExistsError:  # another process made it first
        return read_kek_file(path, str(path))


def load_kek() -> Kek:
    """The configured KEK (see module docstring); raises KekConfigError when there is none."""
    material = current_app.config.get("KEK")
    if material:
        return parse_kek(str(material), ENV_KEK)
    key_file = current_app.config.get("KEK_FILE")
    if key_file:
        return read_kek_file(Path(key_file), ENV_KEK_FILE)
    if current_app.config.get("DEPLOYMENT") == "production":
        raise KekConfigError(
            f"no key-encryption key: set {ENV_KEK_FILE} to a file outside the database "
            "(create one with `flask keys generate-kek --out FILE`)"
        )
    return _dev_kek()


def kek_location() -> str:
    """Where the KEK comes from, for the backup manifest (never the key itself)."""
    if current_app.config.get("KEK"):
        return f"environment variable {ENV_KEK}"
    if current_app.config.get("KEK_FILE"):
        return str(Path(current_app.config["KEK_FILE"]).resolve())
    return str((Path(current_app.instance_path) / DEV_KEK_PATH).resolve())


# Wrapping data keys -----------------------------------------------------------------------------

def _wrap_aad(key_id: uuid.UUID) -> bytes:
    return f"case_key:wrapped_key:{key_id}".encode()


def wrap_key(kek: Kek, key_id: uuid.UUID, data_key: bytes) -> bytes:
    """nonce || AES-GCM(KEK, data key), bound to the case_key row."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(kek.key).encrypt(nonce, data_key, _wrap_aad(key_id))


def unwrap_key(kek: Kek, key_id: uuid.UUID, wrapped: bytes) -> bytes:
    """The data key, or DecryptionError when the KEK is not the one that wrapped it."""
    try:
        return AESGCM(kek.key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(key_id))
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError(f"data key {key_id} does not unwrap with this KEK") from exc


# Data keys per case -----------------------------------------------------------------------------

def _cache() -> dict[uuid.UUID, bytes | None]:
    """Unwrapped data keys for this app context only (never kept across requests)."""
    if "decision_aid_data_keys" not in g:
        g.decision_aid_data_keys = {}
    cache: dict[uuid.UUID, bytes | None] = g.decision_aid_data_keys
    return cache


def forget_cached_keys() -> None:
    """Drop unwrapped keys (after disposal or rotation)."""
    g.pop("decision_aid_data_keys", None)


def _connection() -> Connection:
    """The session's connection: key rows join the caller's transaction (and work mid-flush)."""
    from decision_aid.extensions import db

    return db.session.connection()


def live_key_id(case_ref: str, conn: Connection | None = None) -> uuid.UUID:
    """The id of the case's live data key, creating one (race-safe) when there is none."""
    from decision_aid.models.operations import CaseKey

    conn = conn or _connection()
    table = cast(Table, CaseKey.__table__)
    live = table.c.destroyed_at.is_(None)
    found = conn.execute(select(table.c.id).where(table.c.case_ref == case_ref, live)).scalar()
    if found is not None:
        return uuid.UUID(str(found))
    key_id = uuid.uuid4()
    data_key = secrets.token_bytes(KEY_BYTES)
    kek = load_kek()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(
        id=key_id, case_ref=case_ref, wrapped_key=wrap_key(kek, key_id, data_key),
        kek_id=kek.kek_id, created_at=clock.now(),
    ).on_conflict_do_nothing(index_elements=["case_ref"], index_where=live)
    conn.execute(stmt)
    winner = conn.execute(select(table.c.id).where(table.c.case_ref == case_ref, live)).scalar_one()
    winner_id = uuid.UUID(str(winner))
    if winner_id == key_id:
        _cache()[key_id] = data_key
    return winner_id


@functools.cache
def _wrapped_key_read() -> Select[Any]:
    """The statement reading one case_key row's wrapped key, built once rather than on every
    call: every request that reads or writes sealed content runs it (target T23)."""
    from decision_aid.models.operations import CaseKey

    table = cast(Table, CaseKey.__table__)
    return (select(table.c.wrapped_key, table.c.destroyed_at)
            .where(table.c.id == bindparam("key_id", type_=table.c.id.type)))


def data_key(key_id: uuid.UUID, conn: Connection | None = None) -> bytes:
    """The unwrapped data key; KeyDestroyed when disposal has destroyed it."""
    cache = _cache()
    if key_id in cache:
        cached = cache[key_id]
        if cached is None:
            raise KeyDestroyed(str(key_id))
        return cached
    row = (conn or _connection()).execute(_wrapped_key_read(), {"key_id": key_id}).first()
    if row is None or row.destroyed_at is not None or not row.wrapped_key:
        cache[key_id] = None
        raise KeyDestroyed(str(key_id))
    key = unwrap_key(load_kek(), key_id, bytes(row.wrapped_key))
    cache[key_id] = key
    return key


# Content encryption -----------------------------------------------------------------------------

def aad_for(table: str, column: str, row_id: Any) -> bytes:
    """Associated data binding a ciphertext to its row and column."""
    return f"{table}:{column}:{row_id}".encode()


def _aad(version: bytes, key_id: bytes, aad: bytes) -> bytes:
    """Version 2 authenticates its header too (version and key id) ahead of the row binding."""
    return aad if version == VERSION_PLAIN else version + key_id + aad


def _deflate(plaintext: bytes) -> bytes:
    packer = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, _RAW_DEFLATE)
    return packer.compress(plaintext) + packer.flush()


def _inflate(packed: bytes) -> bytes:
    unpacker = zlib.decompressobj(_RAW_DEFLATE)
    try:
        plaintext = unpacker.decompress(packed, MAX_PLAINTEXT_BYTES)
    except zlib.error as exc:  # authenticated, so only a writer's bug gets here
        raise DecryptionError("compressed content is not valid DEFLATE") from exc
    if not unpacker.eof or unpacker.unconsumed_tail or unpacker.unused_data:
        raise DecryptionError("compressed content is truncated, too long or followed by data")
    return plaintext


@dataclasses.dataclass(frozen=True, repr=False)
class Packed:
    """A value's sealed plaintext and its compressed form, made before the write lock is taken
    (`pack_json`), so that sealing under the lock only encrypts. Used only when the plaintext
    sealed then is byte for byte this one; otherwise that plaintext is compressed afresh."""

    plaintext: bytes
    deflated: bytes


def pack_json(value: Any) -> Packed:
    """`value` as `encrypt_json` would serialise it, compressed ahead of time (see Packed)."""
    plaintext = _json_bytes(value)
    return Packed(plaintext, _deflate(plaintext))


def encrypt_bytes(plaintext: bytes, *, key_id: uuid.UUID, key: bytes, aad: bytes,
                  compress: bool = True, packed: Packed | None = None) -> bytes:
    """The versioned blob (see module docstring) with a fresh random 96-bit nonce: version 2
    (compressed, then encrypted), or version 1 with `compress=False`. `packed`: the same
    plaintext compressed beforehand, used only if its plaintext is exactly `plaintext`."""
    version = VERSION_DEFLATE if compress else VERSION_PLAIN
    nonce = secrets.token_bytes(NONCE_BYTES)
    if not compress:
        body = plaintext
    elif packed is not None and packed.plaintext == plaintext:
        body = packed.deflated
    else:
        body = _deflate(plaintext)
    return (version + key_id.bytes + nonce
            + AESGCM(key).encrypt(nonce, body, _aad(version, key_id.bytes, aad)))


def blob_key_id(blob: bytes) -> uuid.UUID:
    """Which data key a blob was encrypted under (no decryption needed)."""
    if len(blob) < _HEADER + 16 or blob[:1] not in _VERSIONS:
        raise DecryptionError("not an encrypted value of a known version")
    return uuid.UUID(bytes=bytes(blob[1:17]))


def decrypt_bytes(blob: bytes, *, key: bytes, aad: bytes) -> bytes:
    """Authenticated decryption of either version; any flipped byte raises DecryptionError,
    never garbage."""
    blob_key_id(blob)
    version, nonce = bytes(blob[:1]), bytes(blob[17:_HEADER])
    try:
        body = AESGCM(key).decrypt(nonce, bytes(blob[_HEADER:]),
                                   _aad(version, bytes(blob[1:17]), aad))
    except InvalidTag as exc:
        raise DecryptionError("ciphertext failed authentication") from exc
    return body if version == VERSION_PLAIN else _inflate(body)


def _json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON with sorted keys: the same bytes as
    `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()`
    for the JSON types we store (tested), from orjson, because a decision's sealed content is
    about 50 KB (answers, the whole reasoning trace, what would change) and the standard encoder
    spent a quarter of a millisecond of every submit on it (orjson: 0.02 ms)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def encrypt_json(value: Any, *, case_ref: str, table: str, column: str, row_id: Any,
                 conn: Connection | None = None, key_id: uuid.UUID | None = None,
                 compress: bool = True, packed: Packed | None = None) -> bytes:
    """Encrypt a JSON value under the case's live data key, bound to table, column and row.

    `key_id`: the case's live key id when the caller has just read it in this transaction
    (`live_key_id`'s own read, done elsewhere); None reads it, or creates the key.
    `compress`: version 2 (the default); False for content that would mix text from someone
    who may not read the rest of it (see the module docstring). `packed`: from `pack_json`
    (see Packed).
    """
    key_id = key_id or live_key_id(case_ref, conn)
    return encrypt_bytes(_json_bytes(value), key_id=key_id, key=data_key(key_id, conn),
                         aad=aad_for(table, column, row_id), compress=compress, packed=packed)


def decrypt_json(blob: bytes, *, table: str, column: str, row_id: Any,
                 conn: Connection | None = None) -> Any:
    """Decrypt a value from `encrypt_json`; KeyDestroyed after disposal, DecryptionError if altered."""
    key = data_key(blob_key_id(blob), conn)
    return orjson.loads(decrypt_bytes(blob, key=key, aad=aad_for(table, column, row_id)))


def is_tombstone(value: Any) -> bool:
    """True for the TOMBSTONE a sealed value reads as once its case's key is destroyed."""
    return isinstance(value, dict) and value.get("disposed") is True


def decrypt_or_tombstone(blob: bytes | None, *, table: str, column: str, row_id: Any) -> Any:
    """For display: the value, or {"disposed": True} when its case has been disposed of."""
    if blob is None:
        return None
    try:
        return decrypt_json(blob, table=table, column=column, row_id=row_id)
    except KeyDestroyed:
        return dict(TOMBSTONE)


# Disposal and rotation --------------------------------------------------------------------------

def destroy_case_keys(case_ref: str, *, actor_id: str | None, rule: str) -> list[uuid.UUID]:
    """Crypto-shred a case: overwrite its wrapped keys and mark them destroyed (idempotent).

    The row stays (who destroyed what, when, under which rule) but holds no key material.
    """
    from decision_aid.models.operations import CaseKey

    conn = _connection()
    table = cast(Table, CaseKey.__table__)
    live = conn.execute(select(table.c.id).where(
        table.c.case_ref == case_ref, table.c.destroyed_at.is_(None))).scalars().all()
    if not live:
        return []
    conn.execute(update(table).where(table.c.id.in_(live)).values(
        wrapped_key=None, destroyed_at=clock.now(), destroyed_by=actor_id, destroy_rule=rule))
    cache = _cache()
    for key_id in live:
        cache[uuid.UUID(str(key_id))] = None
    return [uuid.UUID(str(k)) for k in live]


def rewrap_all(old: Kek, new: Kek) -> int:
    """Re-encrypt every live data key under `new` (content is untouched: only keys move)."""
    from decision_aid.models.operations import CaseKey

    conn = _connection()
    table = cast(Table, CaseKey.__table__)
    rows = conn.execute(select(table.c.id, table.c.wrapped_key).where(
        table.c.destroyed_at.is_(None), table.c.wrapped_key.is_not(None))).all()
    for row in rows:
        key_id = uuid.UUID(str(row.id))
        plain = unwrap_key(old, key_id, bytes(row.wrapped_key))
        conn.execute(update(table).where(table.c.id == row.id).values(
            wrapped_key=wrap_key(new, key_id, plain), kek_id=new.kek_id))
    forget_cached_keys()
    return len(rows)


# Sealed model content ---------------------------------------------------------------------------
#
# Decision, Draft and Review inherit SealedContent: their public attributes `answers`, `result`,
# `sharing` are properties over ONE encrypted column, `content_ciphertext`. Setting one marks
# the row; a before_flush hook encrypts (the row id and case reference are known by then) and
# puts a marker in the old JSON columns. Reading decrypts once per loaded ciphertext and caches
# the plaintext on the instance (never in the database); after disposal it returns TOMBSTONE.

SEALED_MARKER: dict[str, Any] = {"sealed": True}
SEALED_COLUMN = "content_ciphertext"
_PLAIN = "_sealed_plain"
_SOURCE = "_sealed_source"
_PENDING = "_sealed_pending"


class SealedContent:
    """Mixin for models whose free-text content is encrypted under the case key."""

    __sealed_fields__: tuple[str, ...] = ()
    __sealed_insert_only__: bool = False
    # What the old clear columns hold once sealed: a JSON marker, or "" for a NOT NULL text column.
    __sealed_marker__: Any = SEALED_MARKER

    if TYPE_CHECKING:  # provided by the mapped classes
        id: Any
        case_ref: str
        __tablename__: str

    def sealed_content(self) -> dict[str, Any]:
        """All sealed fields, decrypted (each TOMBSTONE after disposal)."""
        return _plain(self)


def _clear_values(obj: Any) -> dict[str, Any]:
    """Rows written before encryption existed keep their content in the JSON columns."""
    return {name: getattr(obj, f"{name}_stored", None) for name in obj.__sealed_fields__}


def _plain(obj: Any) -> dict[str, Any]:
    state = obj.__dict__
    if state.get(_PENDING):
        cached: dict[str, Any] = state[_PLAIN]
        return cached
    blob = getattr(obj, SEALED_COLUMN)
    if blob is not None and state.get(_SOURCE) == blob and _PLAIN in state:
        cached = state[_PLAIN]
        return cached
    if blob is None:
        clear = _clear_values(obj)
        markers = (None, SEALED_MARKER, obj.__sealed_marker__)
        legacy = any(value not in markers for value in clear.values())
        plain = clear if legacy else {name: None for name in obj.__sealed_fields__}
    else:
        try:
            plain = decrypt_json(bytes(blob), table=obj.__tablename__, column=SEALED_COLUMN,
                                 row_id=obj.id)
        except KeyDestroyed:
            plain = {name: dict(TOMBSTONE) for name in obj.__sealed_fields__}
    state[_PLAIN] = plain
    state[_SOURCE] = blob
    return plain


def decrypted_from(obj: Any) -> bytes | None:
    """The ciphertext whose plaintext the instance holds decrypted, or None (not read yet, or
    set since and not sealed): a caller holding the column's current bytes can tell whether
    the content it read is still current without decrypting again."""
    state = obj.__dict__
    if state.get(_PENDING) or _PLAIN not in state:
        return None
    source: bytes | None = state.get(_SOURCE)
    return source


def sealed_field(name: str) -> property:
    """A property reading and writing one field of the sealed content."""

    def get(self: Any) -> Any:
        return _plain(self).get(name)

    def set_(self: Any, value: Any) -> None:
        state = self.__dict__
        if state.get(_PENDING):
            current = dict(state[_PLAIN])
        elif sa_inspect(self).has_identity:
            current = dict(_plain(self))
        else:
            current = {field: None for field in self.__sealed_fields__}
        current[name] = value
        state[_PLAIN] = current
        state[_PENDING] = True
        if sa_inspect(self).has_identity:  # puts a loaded row into session.dirty for the hook
            flag_modified(self, SEALED_COLUMN)

    return property(get, set_, doc=f"`{name}`, stored encrypted in {SEALED_COLUMN}.")


def seal_pending(session: Any) -> None:
    """before_flush: encrypt every instance whose sealed content was set since the last flush."""
    obj: Any
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, SealedContent) or not obj.__dict__.get(_PENDING):
            continue
        if obj.__sealed_insert_only__ and obj not in session.new:
            raise RuntimeError(f"{type(obj).__name__} content cannot be changed: record a new one")
        seal_now(obj, session.connection())


def seal_now(obj: Any, conn: Connection, *, key_id: uuid.UUID | None = None,
             packed: Packed | None = None) -> None:
    """Encrypt an instance's pending content into its ciphertext column and put the markers
    in the old clear columns: what the flush hook does, for a row inserted with Core (the
    decision submit). `key_id` and `packed` as for `encrypt_json`."""
    if not obj.__dict__.get(_PENDING):
        return
    if not getattr(obj, "case_ref", None):
        raise ValueError(f"{type(obj).__name__} needs a case_ref: "
                         "its content is sealed under that case's key")
    if getattr(obj, "id", None) is None:
        obj.id = uuid.uuid4()
    plain = obj.__dict__[_PLAIN]
    blob = encrypt_json(plain, case_ref=obj.case_ref, table=obj.__tablename__,
                        column=SEALED_COLUMN, row_id=obj.id, conn=conn, key_id=key_id,
                        packed=packed)
    for name in obj.__sealed_fields__:
        marker = obj.__sealed_marker__
        setattr(obj, f"{name}_stored", dict(marker) if isinstance(marker, dict) else marker)
    setattr(obj, SEALED_COLUMN, blob)
    obj.__dict__[_SOURCE] = blob
    obj.__dict__[_PENDING] = False


@event.listens_for(Session, "before_flush")
def _seal_before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    """Encrypt pending sealed content in the flush that writes it (same transaction as the row)."""
    seal_pending(session)
