"""Token resolution order, .env parsing, base URL and timeouts (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from replicate_async import Client, ConfigurationError, Timeouts
from replicate_async._core.config import read_dotenv, resolve_base_url, resolve_token


def test_explicit_token_wins(tmp_path: Path) -> None:
    env = {"REPLICATE_API_TOKEN": "r8_env", "REPLICATE_API_KEY": "r8_key"}
    assert resolve_token("r8_arg", env, tmp_path).reveal() == "r8_arg"


def test_env_token_before_api_key(tmp_path: Path) -> None:
    env = {"REPLICATE_API_TOKEN": "r8_env", "REPLICATE_API_KEY": "r8_key"}
    assert resolve_token(None, env, tmp_path).reveal() == "r8_env"
    assert resolve_token(None, {"REPLICATE_API_KEY": "r8_key"}, tmp_path).reveal() == "r8_key"


def test_dotenv_is_last_and_parsed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# comment\nexport OTHER=1\nREPLICATE_API_KEY='r8_quoted'\nREPLICATE_API_TOKEN=r8_dot # c\n"
    )
    assert resolve_token(None, {}, tmp_path).reveal() == "r8_dot"
    assert resolve_token(None, {"REPLICATE_API_KEY": "r8_key"}, tmp_path).reveal() == "r8_key"
    assert read_dotenv(tmp_path / ".env")["REPLICATE_API_KEY"] == "r8_quoted"


def test_missing_token_names_all_three_places(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_token(None, {}, tmp_path)
    message = str(info.value)
    for place in ("api_token", "REPLICATE_API_TOKEN", "REPLICATE_API_KEY", ".env"):
        assert place in message
    assert info.value.args


def test_empty_env_token_is_skipped(tmp_path: Path) -> None:
    assert resolve_token(None, {"REPLICATE_API_TOKEN": " ", "REPLICATE_API_KEY": "k"}, tmp_path)


def test_token_is_not_read_at_construction(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.delenv("REPLICATE_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    client = Client()  # no token anywhere: constructing is fine, the first call fails
    with pytest.raises(ConfigurationError):
        client.account.get()
    client.close()


def test_secret_never_shows() -> None:
    token = resolve_token("r8_supersecret", {}, Path("."))
    assert "supersecret" not in repr(token) and "supersecret" not in str(token)
    client = Client("r8_supersecret", base_url="http://127.0.0.1:9/v1")
    assert "supersecret" not in repr(client)
    assert "supersecret" not in repr(vars(client))


def test_base_url_from_env_and_validation() -> None:
    assert str(resolve_base_url(None, {"REPLICATE_BASE_URL": "http://h:1/v1/"})) == "http://h:1/v1"
    assert str(resolve_base_url(None, {})) == "https://api.replicate.com/v1"
    with pytest.raises(ConfigurationError):
        resolve_base_url("ftp://x", {})
    with pytest.raises(ConfigurationError):
        resolve_base_url("https://user:pw@x/v1", {})


@pytest.mark.parametrize("bad", [0, -1, "10", True])
def test_timeout_validation(bad: object) -> None:
    with pytest.raises(ConfigurationError):
        Timeouts.of(bad)  # type: ignore[arg-type]


def test_timeouts_of() -> None:
    assert Timeouts.of(5).request == 5.0
    assert Timeouts.of(None) == Timeouts()
