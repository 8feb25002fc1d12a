from datetime import UTC, datetime, timedelta

import pytest

from studio.vidu import signatures

DATE = "Tue, 06 May 2025 12:09:42 GMT"
NONCE = "3f6c1d2e-0b7a-4c55-9d0e-8a1b2c3d4e5f"
WHEN = datetime(2025, 5, 6, 12, 9, 42, tzinfo=UTC)


def test_it_builds_the_documented_signing_string():
    text = signatures.signing_string(
        "post",
        "/vidu/callback",
        "name=james&age=36",
        DATE,
        [("Date", DATE), ("x-request-nonce", NONCE)],
    )
    assert text == (
        "POST\n/vidu/callback\nname=james&age=36\nvidu\n" + DATE + "\n"
        "Date:" + DATE + "\nx-request-nonce:" + NONCE + "\n"
    )


def test_it_matches_the_worked_example():
    headers = signatures.sign_headers(
        "test-api-key",
        "http://127.0.0.1:8080/vidu/callback?name=james&age=36",
        now=WHEN,
        nonce=NONCE,
    )
    assert headers["Date"] == DATE
    assert headers["X-HMAC-SIGNATURE"] == "EsWlmKedLIRnYbKOqDrHMVyqgE7DjL9x65TdL+sfmTA="
    assert headers["X-HMAC-SIGNED-HEADERS"] == "Date;x-request-nonce"
    assert headers["X-HMAC-ACCESS-KEY"] == "vidu"


def _headers(**override):
    headers = signatures.sign_headers(
        "test-api-key",
        "http://127.0.0.1:8080/vidu/callback?name=james&age=36",
        now=WHEN,
        nonce=NONCE,
    )
    headers.update(override)
    return headers


def test_it_verifies_the_worked_example():
    nonce = signatures.verify(
        "test-api-key",
        "POST",
        "/vidu/callback",
        "name=james&age=36",
        _headers(),
        now=WHEN + timedelta(seconds=30),
    )
    assert nonce == NONCE


@pytest.mark.parametrize(
    "key, path, query, headers, why",
    [
        ("other-key", "/vidu/callback", "name=james&age=36", {}, "mismatch"),
        ("test-api-key", "/other", "name=james&age=36", {}, "mismatch"),
        ("test-api-key", "/vidu/callback", "name=james", {}, "mismatch"),
        (
            "test-api-key",
            "/vidu/callback",
            "name=james&age=36",
            {"x-request-nonce": "x"},
            "mismatch",
        ),
        (
            "test-api-key",
            "/vidu/callback",
            "name=james&age=36",
            {"X-HMAC-SIGNATURE": ""},
            "no signature",
        ),
        (
            "test-api-key",
            "/vidu/callback",
            "name=james&age=36",
            {"X-HMAC-SIGNED-HEADERS": "Date"},
            "must be signed",
        ),
    ],
)
def test_it_refuses_what_was_not_signed_by_the_key(key, path, query, headers, why):
    with pytest.raises(signatures.BadSignature, match=why):
        signatures.verify(key, "POST", path, query, _headers(**headers), now=WHEN)


def test_it_refuses_a_date_far_from_now():
    with pytest.raises(signatures.BadSignature, match="away from now"):
        signatures.verify(
            "test-api-key",
            "POST",
            "/vidu/callback",
            "name=james&age=36",
            _headers(),
            now=WHEN + timedelta(minutes=6),
        )
