import json
import os
import stat
import subprocess
import sys

from studio.settings import local_secret_key


def test_it_makes_a_secret_key_once_and_keeps_it_private(tmp_path):
    first = local_secret_key(tmp_path / "data")
    assert len(first) >= 50
    assert local_secret_key(tmp_path / "data") == first
    mode = stat.S_IMODE((tmp_path / "data" / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_two_data_directories_get_different_keys(tmp_path):
    assert local_secret_key(tmp_path / "a") != local_secret_key(tmp_path / "b")


def test_it_warns_when_a_claim_could_expire_during_an_attempt(settings):
    from studio.apps import claim_outlasts_an_attempt

    assert claim_outlasts_an_attempt(None) == []
    settings.STUDIO_CLAIM_TIMEOUT = 30
    (warning,) = claim_outlasts_an_attempt(None)
    assert warning.id == "studio.W001"


def test_a_sqlite_file_named_by_database_url_is_opened_like_the_default_one(tmp_path):
    # Worker processes get the test database as a URL: without WAL each commit waits
    # for the disk, and deferred transactions fail where they should queue.
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps(s.DATABASES['default']['OPTIONS']))"
    )
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="studio.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'studio.sqlite3'}",
        STUDIO_DATA_DIR=str(tmp_path),
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    options = json.loads(out.stdout)
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]
