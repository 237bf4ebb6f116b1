"""The backup file format and the master key, without a database: a file decrypts to exactly what
was encrypted, and any change to it (header or chunk, reordered, cut or extended) is refused."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from shared.backups import crypto
from shared.backups.crypto import BackupCorrupt, BackupError, Header, MasterKeyMissing

REPO_ROOT = Path(__file__).resolve().parents[3]
SMALL_CHUNKS = 1000  # many chunks from little data


def header(**overrides) -> Header:
    chunk_size = overrides.pop("chunk_size", SMALL_CHUNKS)
    values = dict(school_id=7, schema="school_000007", data_key_id=3, master_key_id="sha256:x", created_at="t")
    fresh = Header.new(**{**values, **overrides})
    return Header(**{**fresh.__dict__, "chunk_size": chunk_size})


def encrypt(data: bytes, key: bytes, head: Header | None = None) -> bytes:
    target = io.BytesIO()
    crypto.encrypt_stream(io.BytesIO(data), target, data_key=key, header=head or header())
    return target.getvalue()


def decrypt(blob: bytes, key: bytes) -> bytes:
    source = io.BytesIO(blob)
    head, raw = crypto.header_read(source)
    return b"".join(crypto.decrypt_chunks(source, header=head, raw_header=raw, data_key=key))


def chunks_of(blob: bytes) -> tuple[bytes, list[bytes]]:
    """The file's header part and its framed chunks, to rearrange."""
    (length,) = struct.unpack(">I", blob[8:12])
    offset = 12 + length
    prefix, frames = blob[:offset], []
    while offset < len(blob):
        (size,) = struct.unpack(">I", blob[offset:offset + 4])
        frames.append(blob[offset:offset + 4 + size])
        offset += 4 + size
    return prefix, frames


def with_header(blob: bytes, replace_with=None, **changes) -> bytes:
    """The file with its header's fields changed (or the header replaced), lengths kept right."""
    (length,) = struct.unpack(">I", blob[8:12])
    fields = json.loads(blob[12:12 + length]) if replace_with is None else replace_with
    if replace_with is None:
        fields.update(changes)
    raw = json.dumps(fields).encode()
    return blob[:8] + struct.pack(">I", len(raw)) + raw + blob[12 + length:]


@pytest.mark.parametrize("size", [0, 1, SMALL_CHUNKS - 1, SMALL_CHUNKS, SMALL_CHUNKS * 3, SMALL_CHUNKS * 3 + 17])
def test_a_file_decrypts_to_exactly_what_was_encrypted(size):
    key, data = crypto.data_key_new(), os.urandom(size)

    blob = encrypt(data, key)

    assert decrypt(blob, key) == data
    assert size < 16 or data[:64] not in blob  # (a byte or two may turn up in any ciphertext by chance)


def test_a_large_dump_is_encrypted_a_chunk_at_a_time():
    class Counting(io.BytesIO):
        largest = 0

        def read(self, size=-1):
            assert size != -1, "never the whole stream at once"
            Counting.largest = max(Counting.largest, size)
            return super().read(size)

    key = crypto.data_key_new()
    data = os.urandom(3 * crypto.CHUNK_SIZE + 5)
    target = io.BytesIO()

    crypto.encrypt_stream(Counting(data), target, data_key=key, header=header(chunk_size=crypto.CHUNK_SIZE))

    assert Counting.largest == crypto.CHUNK_SIZE
    assert decrypt(target.getvalue(), key) == data


def test_every_change_to_the_file_is_refused():
    key = crypto.data_key_new()
    blob = encrypt(os.urandom(SMALL_CHUNKS * 3 + 10), key)
    prefix, frames = chunks_of(blob)
    assert len(frames) == 4
    flipped_chunk = bytearray(blob)
    flipped_chunk[len(prefix) + 20] ^= 0x80
    changed_header = blob.replace(b'"school_id":7', b'"school_id":8', 1)
    assert changed_header != blob

    cases = {
        "a flipped bit in a chunk": bytes(flipped_chunk),
        "another school id in the header": changed_header,
        "two chunks swapped": prefix + frames[1] + frames[0] + b"".join(frames[2:]),
        "a chunk dropped": prefix + frames[0] + b"".join(frames[2:]),
        "the last chunk dropped": prefix + b"".join(frames[:-1]),
        "cut inside the last chunk": blob[:-5],
        "data after the last chunk": blob + frames[-1],
        "not a backup": b"PGDMP" + blob[5:],
        "a school id that is not a number": with_header(blob, school_id="7"),
        "a header that is not an object": with_header(blob, replace_with=[1, 2]),
    }
    for what, bad in cases.items():
        with pytest.raises(BackupCorrupt):
            decrypt(bad, key)
            pytest.fail(what)


def test_another_key_cannot_decrypt_the_file():
    blob = encrypt(b"pupils", crypto.data_key_new())

    with pytest.raises(BackupCorrupt, match="fails authentication"):
        decrypt(blob, crypto.data_key_new())


def test_the_header_names_ids_only():
    blob = encrypt(b"x", crypto.data_key_new())
    head, raw = crypto.header_read(io.BytesIO(blob))

    assert (head.school_id, head.schema, head.data_key_id, head.format) == (7, "school_000007", 3, 1)
    assert set(json.loads(raw)) == {"school_id", "schema", "data_key_id", "master_key_id", "created_at",
                                                  "salt", "nonce_prefix", "chunk_size", "format", "content"}


def test_a_data_key_is_wrapped_for_its_school_only(settings):
    key = crypto.data_key_new()
    key_id, wrapped = crypto.data_key_wrap(key, school_id=7)

    assert key not in wrapped
    assert crypto.data_key_unwrap(wrapped, school_id=7, key_id=key_id) == key
    with pytest.raises(BackupError, match="does not unwrap"):
        crypto.data_key_unwrap(wrapped, school_id=8, key_id=key_id)


def test_a_rotated_master_key_still_unwraps_what_the_retired_one_wrapped(settings):
    old, new = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode()
    settings.BACKUP_MASTER_KEY, settings.BACKUP_MASTER_KEYS_RETIRED = old, []
    key = crypto.data_key_new()
    old_id, wrapped = crypto.data_key_wrap(key, school_id=7)

    settings.BACKUP_MASTER_KEY, settings.BACKUP_MASTER_KEYS_RETIRED = new, [old]
    assert crypto.master_keys()[0] != old_id
    assert crypto.data_key_unwrap(wrapped, school_id=7, key_id=old_id) == key

    settings.BACKUP_MASTER_KEYS_RETIRED = []
    with pytest.raises(MasterKeyMissing, match=f"wrapped by master key {old_id}, which is not configured"):
        crypto.data_key_unwrap(wrapped, school_id=7, key_id=old_id)


def test_a_missing_master_key_is_a_clear_error(settings):
    settings.BACKUP_MASTER_KEY = ""

    with pytest.raises(MasterKeyMissing, match="BACKUP_MASTER_KEY is not set"):
        crypto.data_key_wrap(crypto.data_key_new(), school_id=7)


def test_a_master_key_of_the_wrong_size_is_a_clear_error(settings):
    settings.BACKUP_MASTER_KEY = base64.b64encode(b"short").decode()

    with pytest.raises(MasterKeyMissing, match="must be base64 of exactly 32 bytes"):
        crypto.master_keys()


def _settings_process(**env_overrides: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "DEBUG": "false",
           "SECRET_KEY": "k" * 20 + "Q9x-" * 10 + "z" * 10,
           "EMAIL_URL": "submission://mailer:secret@smtp.pupiltracking.example:587",
           "DEFAULT_FROM_EMAIL": "no-reply@pupiltracking.example"}
    for name, value in env_overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_production_refuses_to_start_without_a_master_key():
    result = _settings_process(BACKUP_MASTER_KEY=None)

    assert result.returncode != 0
    assert "Production needs BACKUP_MASTER_KEY" in result.stderr


def test_a_malformed_master_key_is_refused_at_start():
    result = _settings_process(BACKUP_MASTER_KEY="not base64 of 32 bytes")

    assert result.returncode != 0
    assert "BACKUP_MASTER_KEY must be base64 of exactly 32 bytes" in result.stderr


def test_development_derives_a_master_key_deterministically():
    script = "import django; django.setup(); from django.conf import settings; print(settings.BACKUP_MASTER_KEY)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.development", "SECRET_KEY": "a development secret"}
    for name in ("DEBUG", "BACKUP_MASTER_KEY"):
        env.pop(name, None)
    runs = [subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                           timeout=120) for _ in range(2)]

    keys = [run.stdout.strip().splitlines()[-1] for run in runs]
    assert keys[0] == keys[1] and len(base64.b64decode(keys[0])) == 32
