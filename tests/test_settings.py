import json
import os
import stat
import subprocess
import sys

from studio.local_files import local_secret_key


def test_it_makes_a_secret_key_once_and_keeps_it_private(tmp_path):
    first = local_secret_key(tmp_path / "data")
    assert len(first) >= 50
    assert local_secret_key(tmp_path / "data") == first
    mode = stat.S_IMODE((tmp_path / "data" / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_two_data_directories_get_different_keys(tmp_path):
    assert local_secret_key(tmp_path / "a") != local_secret_key(tmp_path / "b")


def test_it_warns_when_a_claim_could_expire_during_an_attempt(settings):
    from studio.worker.checks import claim_outlasts_an_attempt

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


def import_settings(data_dir, **env) -> subprocess.CompletedProcess:
    """Import the settings alone (no django.setup) in a fresh process."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIDU_", "STUDIO_", "Q_")) and k not in ("DATABASE_URL", "DEBUG")
    }
    clean.update(DJANGO_SETTINGS_MODULE="studio.settings", STUDIO_DATA_DIR=str(data_dir), **env)
    code = "from django.conf import settings; settings.DEBUG"
    return subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True)


def test_a_misspelt_yes_or_no_stops_the_studio(tmp_path):
    done = import_settings(tmp_path / "data", DEBUG="ture")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "DEBUG='ture'" in done.stderr and "true" in done.stderr and "off" in done.stderr


def test_yes_or_no_takes_the_usual_words_in_any_case(tmp_path):
    for word in ("TRUE", "1", "Yes", "on", "false", "0", "NO", "Off"):
        done = import_settings(tmp_path / "data", DEBUG=word)
        assert done.returncode == 0, (word, done.stderr)


def test_a_number_that_is_not_one_stops_the_studio(tmp_path):
    done = import_settings(tmp_path / "data", Q_WORKERS="four")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "Q_WORKERS='four'" in done.stderr
    done = import_settings(tmp_path / "data", STUDIO_BACKOFF_BASE="fast")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "STUDIO_BACKOFF_BASE='fast'" in done.stderr


def test_importing_the_settings_writes_no_files(tmp_path):
    data_dir = tmp_path / "data"
    done = import_settings(data_dir)
    assert done.returncode == 0, done.stderr
    assert not data_dir.exists()
    data_dir.mkdir()
    assert import_settings(data_dir).returncode == 0
    assert list(data_dir.iterdir()) == []


def test_the_app_makes_its_files_when_it_starts_and_every_process_shares_the_key(tmp_path):
    data_dir = tmp_path / "data"
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECRET_KEY, s.FILE_UPLOAD_TEMP_DIR)"
    )
    env = dict(
        {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "SECRET_KEY"))},
        DJANGO_SETTINGS_MODULE="studio.settings",
        STUDIO_DATA_DIR=str(data_dir),
    )
    env.pop("DATABASE_URL", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    key, uploads = runs[0]
    assert key == (data_dir / "secret_key").read_text().strip()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert uploads == str(data_dir / "uploads-tmp") and (data_dir / "uploads-tmp").is_dir()
