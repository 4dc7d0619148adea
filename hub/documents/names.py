"""File names for documents: built only from characters safe on every file system and in
every header (a front office may save a document under its ``file_name`` as it is).

Whatever the parts hold (a front office's ``dossier_id``, a back end's act reference or file
name), the name is ``[A-Za-z0-9._-]`` only, never starts with a dot or a dash, never holds a
path separator or ``..``, and is at most :data:`MAX_LENGTH` characters.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["MAX_LENGTH", "safe_file_name", "safe_given_name"]

MAX_LENGTH = 120  # well below every file system's 255 bytes, with room for a prefix
_FALLBACK = "document"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")
_RUNS = re.compile(r"_{2,}")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")


def _clean(text: str) -> str:
    # Accented letters keep their base letter (é → e); anything else unsafe becomes "_".
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", ascii_text)
    cleaned = _DOTS.sub("_", cleaned)
    return _RUNS.sub("_", cleaned)


def safe_file_name(*parts: str, ext: str) -> str:
    """``part-part-….ext``, every part reduced to safe characters (see the module).

    ``ext`` is ours (``pdf``, ``xml``): letters and digits only, or ``ValueError``. A stem that
    had to be shortened ends in 8 hex digits of the whole stem's hash, so two long ids that
    share their beginning keep different names.
    """
    if not _EXTENSION.fullmatch(ext):
        raise ValueError(f"not a file name extension: {ext!r}")
    cleaned = [_clean(part).strip("._-") for part in parts]
    stem = "-".join(part for part in cleaned if part)
    room = MAX_LENGTH - len(ext) - 1
    if len(stem) > room:
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
        stem = stem[: room - 9].rstrip("._-") + "-" + digest[:8]
    return f"{stem or _FALLBACK}.{ext.lower()}"


def safe_given_name(name: str, *, ext: str) -> str:
    """A file name someone else chose (a back end's ``Bestand/Naam``) made safe, with
    extension ``ext`` (the media type's: a given extension is never trusted)."""
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if stem.lower().endswith("." + ext.lower()):
        stem = stem[: -len(ext) - 1]
    return safe_file_name(stem, ext=ext)
