"""The write API's token: off without one, 401 for a wrong or missing one, constant-time compare."""
from __future__ import annotations

from watchdog.runtime.auth import bearer, check_token


def test_no_token_configured_turns_the_write_api_off() -> None:
    assert check_token(None, "anything")[0] == 403
    assert check_token("", None)[0] == 403


def test_wrong_or_missing_token_is_401() -> None:
    assert check_token("s3cret-token", None)[0] == 401
    assert check_token("s3cret-token", "s3cret-tokeN")[0] == 401
    assert check_token("s3cret-token", "s3cret-token") is None


def test_bearer_header() -> None:
    assert bearer({"Authorization": "Bearer abc"}) == "abc"
    assert bearer({"Authorization": "bearer  abc "}) == "abc"
    assert bearer({"Authorization": "Basic abc"}) is None
    assert bearer({}) is None
