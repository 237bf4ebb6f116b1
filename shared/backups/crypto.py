"""The cryptography of backups: master keys, wrapping a school's data key, and the file format.

A backup file is::

    b"PTBACKUP" | header length (4 bytes, big-endian) | header (JSON, UTF-8)
    then chunks, each: ciphertext length (4 bytes, big-endian) | AES-256-GCM ciphertext and tag

Each file has a key of its own, derived with HKDF-SHA256 from the school's data key and a random
salt in the header, so a data key can encrypt any number of files without nonces ever repeating.
Chunk ``i``'s nonce is the header's 7-byte prefix, ``i`` (4 bytes) and a last-chunk flag (1 byte),
and every chunk authenticates the whole header as associated data (the segmented construction of
Tink's streaming AEAD): a changed header, a changed, dropped, reordered or swapped chunk, or a file
cut short is refused, and no plaintext of a chunk is handed out before its tag is checked.

Master keys are base64 of 32 bytes from the settings (``BACKUP_MASTER_KEY``, and the retired ones
in ``BACKUP_MASTER_KEYS_RETIRED``). A master key is named by a fingerprint of itself, stored beside
each key it wrapped, so a rotation can tell which key to unwrap with and a key can't be mislabelled.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

MAGIC = b"PTBACKUP"
FORMAT_VERSION = 1
CHUNK_SIZE = 1 << 20  # plaintext bytes per chunk
TAG_SIZE = 16
NONCE_PREFIX_SIZE = 7
MAX_HEADER_SIZE = 64 * 1024
_LENGTH = struct.Struct(">I")


class BackupError(Exception):
    """A backup can't be written or read; the message says why, for an operator."""


class MasterKeyMissing(BackupError):
    """No usable master key is configured, or not the one a data key was wrapped with."""


class BackupCorrupt(BackupError):
    """Not a backup file, or one changed or cut short since it was written."""


# --- Master keys and wrapping --------------------------------------------------------------------------


def master_key_id(key: bytes) -> str:
    """The name of a master key: the start of its SHA-256 (reveals nothing of a random 256-bit key)."""
    return "sha256:" + hashlib.sha256(b"pupiltrack backup master key\0" + key).hexdigest()[:16]


def _decode_master_key(value: str, name: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise MasterKeyMissing(f"{name} must be base64 of exactly 32 bytes")
    return key


def master_keys() -> tuple[str, dict[str, bytes]]:
    """The current master key's id, and every configured master key (current and retired) by id."""
    current = getattr(settings, "BACKUP_MASTER_KEY", "")
    if not current:
        raise MasterKeyMissing("BACKUP_MASTER_KEY is not set: no backup can be written or read without the master key "
                               "that wraps each school's data key (base64 of 32 random bytes)")
    keys = {}
    for value in getattr(settings, "BACKUP_MASTER_KEYS_RETIRED", []):
        key = _decode_master_key(value, "BACKUP_MASTER_KEYS_RETIRED")
        keys[master_key_id(key)] = key
    key = _decode_master_key(current, "BACKUP_MASTER_KEY")
    current_id = master_key_id(key)
    keys[current_id] = key
    return current_id, keys


def _wrap_aad(school_id: int, key_id: str) -> bytes:
    # Binds a wrapped key to its school: a wrapped key copied onto another school's row won't unwrap.
    return f"pupiltrack data key|school:{school_id}|master:{key_id}".encode()


def data_key_wrap(data_key: bytes, *, school_id: int) -> tuple[str, bytes]:
    """``(master key id, wrapped key)`` of a school's data key under the current master key."""
    key_id, keys = master_keys()
    nonce = os.urandom(12)
    return key_id, nonce + AESGCM(keys[key_id]).encrypt(nonce, data_key, _wrap_aad(school_id, key_id))


def data_key_unwrap(wrapped: bytes, *, school_id: int, key_id: str) -> bytes:
    _, keys = master_keys()
    if key_id not in keys:
        raise MasterKeyMissing(f"the school's data key was wrapped by master key {key_id}, which is not configured "
                               "(after a rotation, keep the old key in BACKUP_MASTER_KEYS_RETIRED until every data "
                               "key is rewrapped: manage.py backup_keys_rewrap)")
    try:
        return AESGCM(keys[key_id]).decrypt(bytes(wrapped[:12]), bytes(wrapped[12:]), _wrap_aad(school_id, key_id))
    except InvalidTag:
        raise BackupError(f"the data key of school {school_id} does not unwrap with master key {key_id}") from None


def data_key_new() -> bytes:
    return AESGCM.generate_key(bit_length=256)


# --- The file format -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """What a backup file says about itself, in clear (ids only: no name, nothing about pupils)."""

    school_id: int
    schema: str
    data_key_id: int
    master_key_id: str
    created_at: str
    salt: str  # base64, 16 bytes: the file key's HKDF salt
    nonce_prefix: str  # base64, 7 bytes
    chunk_size: int = CHUNK_SIZE
    format: int = FORMAT_VERSION
    content: str = "pg_dump --format=custom, one school schema"

    @classmethod
    def new(cls, *, school_id: int, schema: str, data_key_id: int, master_key_id: str, created_at: str) -> Header:
        return cls(school_id=school_id, schema=schema, data_key_id=data_key_id, master_key_id=master_key_id,
                   created_at=created_at, salt=base64.b64encode(os.urandom(16)).decode(),
                   nonce_prefix=base64.b64encode(os.urandom(NONCE_PREFIX_SIZE)).decode())

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()


def _file_key(data_key: bytes, header: Header) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=base64.b64decode(header.salt),
                info=b"pupiltrack backup file v1")
    return AESGCM(hkdf.derive(data_key))


def _nonce(header: Header, index: int, last: bool) -> bytes:
    if index >= 2**32:
        raise BackupError("backup too large for one file (2^32 chunks)")
    return base64.b64decode(header.nonce_prefix) + struct.pack(">IB", index, 1 if last else 0)


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    """``size`` bytes, fewer only at the end of the stream (a pipe may return short reads)."""
    parts, wanted = [], size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def encrypt_stream(source: BinaryIO, target: BinaryIO, *, data_key: bytes, header: Header,
                   progress: Callable[[int], None] | None = None) -> int:
    """Read ``source`` to its end (a pipe from pg_dump) and write it to ``target`` encrypted, one
    chunk in memory at a time. Returns the plaintext bytes written."""
    raw_header = header.encode()
    aad = MAGIC + raw_header
    target.write(MAGIC + _LENGTH.pack(len(raw_header)) + raw_header)
    aead = _file_key(data_key, header)
    total, index = 0, 0
    chunk = _read_exactly(source, header.chunk_size)
    while True:
        following = _read_exactly(source, header.chunk_size) if len(chunk) == header.chunk_size else b""
        last = not following
        sealed = aead.encrypt(_nonce(header, index, last), chunk, aad)
        target.write(_LENGTH.pack(len(sealed)) + sealed)
        total += len(chunk)
        if progress:
            progress(total)
        if last:
            return total
        chunk, index = following, index + 1


def header_read(source: BinaryIO) -> tuple[Header, bytes]:
    """The header of a backup file (positioned at its first chunk afterwards), and its raw bytes,
    which every chunk authenticates. Nothing here is trusted until the first chunk's tag checks."""
    if _read_exactly(source, len(MAGIC)) != MAGIC:
        raise BackupCorrupt("not a backup file (it does not start with PTBACKUP)")
    length_bytes = _read_exactly(source, _LENGTH.size)
    (length,) = _LENGTH.unpack(length_bytes) if len(length_bytes) == _LENGTH.size else (0,)
    raw = _read_exactly(source, length) if 0 < length <= MAX_HEADER_SIZE else b""
    if not raw or len(raw) != length:
        raise BackupCorrupt("the backup's header is cut short or malformed")
    try:
        fields = json.loads(raw)
        if not isinstance(fields, dict):
            raise ValueError
        if fields.get("format") != FORMAT_VERSION:
            raise BackupCorrupt(f"backup format {fields.get('format')!r} is not one this version reads ({FORMAT_VERSION})")
        header = Header(**fields)
        numbers = (header.school_id, header.data_key_id, header.chunk_size, header.format)
        texts = (header.schema, header.master_key_id, header.created_at, header.salt, header.nonce_prefix, header.content)
        if (not all(type(n) is int for n in numbers) or not all(isinstance(t, str) for t in texts)
                or not 0 < header.chunk_size <= 64 * CHUNK_SIZE
                or len(base64.b64decode(header.nonce_prefix, validate=True)) != NONCE_PREFIX_SIZE
                or len(base64.b64decode(header.salt, validate=True)) != 16):
            raise ValueError
    except BackupCorrupt:
        raise
    except (ValueError, TypeError):
        raise BackupCorrupt("the backup's header is malformed") from None
    return header, raw


def decrypt_chunks(source: BinaryIO, *, header: Header, raw_header: bytes, data_key: bytes) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, each only after its tag is checked; raises ``BackupCorrupt``
    on the first chunk that fails, and when the file ends without its last chunk or goes on after it."""
    aead = _file_key(data_key, header)
    aad = MAGIC + raw_header
    index = 0
    while True:
        length_bytes = _read_exactly(source, _LENGTH.size)
        if len(length_bytes) < _LENGTH.size:
            raise BackupCorrupt("the backup is cut short (its last chunk is missing)")
        (length,) = _LENGTH.unpack(length_bytes)
        if not TAG_SIZE <= length <= header.chunk_size + TAG_SIZE:
            raise BackupCorrupt(f"chunk {index} of the backup is malformed")
        sealed = _read_exactly(source, length)
        if len(sealed) < length:
            raise BackupCorrupt("the backup is cut short (in its last chunk)")
        for last in (False, True):
            try:
                plain = aead.decrypt(_nonce(header, index, last), sealed, aad)
                break
            except InvalidTag:
                continue
        else:
            raise BackupCorrupt(f"chunk {index} of the backup fails authentication: the file was changed or damaged, "
                                "or it was not encrypted with this school's key")
        if last and source.read(1):
            raise BackupCorrupt("the backup has data after its last chunk")
        yield plain
        if last:
            return
        index += 1
