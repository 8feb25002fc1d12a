import stat

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
