"""The studio's own files on local disk: the data directory, the secret key kept there
and the folder for uploads in progress.

The settings only name them; importing the settings writes nothing. They are made when
the app starts (`make_local_files`, from StudioConfig.ready), in every process that sets
Django up (`manage.py` commands, gunicorn's workers, the job queue, the tests) before any
of them opens the database or signs anything. Importing this module needs no Django.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

SECRET_KEY_FILE = "secret_key"


def private_dir(path: Path) -> None:
    """Make `path` (and its parents) and keep it to this user (mode 700): it holds the
    database with password hashes and sessions, the secret key and the media."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError:  # not ours to change (a mounted volume): leave it as it is
        pass


def stored_secret_key(data_dir: Path) -> str:
    """The key kept in the data directory, or "" when there is none (yet)."""
    try:
        return (data_dir / SECRET_KEY_FILE).read_text().strip()
    except OSError:
        return ""


def local_secret_key(data_dir: Path) -> str:
    """A random key made on first start and kept in the data directory (mode 600).

    Without SECRET_KEY set, sessions and signed input links must still not be signed
    with a key anyone can read in the settings. Every process of one studio reads the
    same file, so they all sign with the same key.
    """
    path = data_dir / SECRET_KEY_FILE
    try:
        private_dir(data_dir)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    except FileExistsError:
        pass  # made on an earlier start, or by the process starting beside this one
    except OSError:  # a read-only data directory: sessions end with the process
        return secrets.token_urlsafe(50)
    for _ in range(50):  # the other process may still be writing it
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it, or set SECRET_KEY")


def make_local_files(settings) -> None:
    """Make the directories and the key file the settings name, where they are local.

    - the data directory (mode 700), when the database is the SQLite file in it;
    - the secret key file, when SECRET_KEY is not given;
    - STATIC_ROOT, as for the SQLite default;
    - the upload folder: when it cannot be made (a read-only data directory), uploads go
      to the system's temporary directory instead.
    """
    if not settings.DATABASE_URL:
        private_dir(Path(settings.DATA_DIR))
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    if settings.STUDIO_LOCAL_SECRET_KEY:
        settings.SECRET_KEY = local_secret_key(Path(settings.DATA_DIR))
    if settings.FILE_UPLOAD_TEMP_DIR:
        try:
            Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            settings.FILE_UPLOAD_TEMP_DIR = None
