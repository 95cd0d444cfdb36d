"""Token resolution order, .env parsing, base URL and timeouts (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_async import AuthenticationError, Client, ConfigurationError, Timeouts
from replicate_async._core.config import (
    DOTENV_VARIABLES,
    TOKEN_VARIABLES,
    Secret,
    read_dotenv,
    resolve_base_url,
    resolve_token,
    setting,
)
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS


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


# -- .env: the same keys as the environment, parsed by python-dotenv ------------------------


def test_dotenv_value_with_quotes_and_comment(tmp_path: Path) -> None:
    """``KEY="value"  # note`` is the value, not the quotes and the comment."""
    (tmp_path / ".env").write_text('REPLICATE_API_TOKEN="r8_x"  # note\n')
    assert resolve_token(None, {}, tmp_path).reveal() == "r8_x"
    (tmp_path / ".env").write_text("export REPLICATE_API_TOKEN='r8_y' # note\n")
    assert resolve_token(None, {}, tmp_path).reveal() == "r8_y"


def test_base_url_from_dotenv(tmp_path: Path) -> None:
    """A ``REPLICATE_BASE_URL`` kept in ``.env`` is used (it was ignored: calls went to the
    real, paid API); the environment still wins."""
    (tmp_path / ".env").write_text(
        "REPLICATE_API_TOKEN=r8_dot\nREPLICATE_BASE_URL=http://127.0.0.1:8787/v1\n"
    )
    assert str(resolve_base_url(None, {}, tmp_path)) == "http://127.0.0.1:8787/v1"
    env = {"REPLICATE_BASE_URL": "http://h:1/v1"}
    assert str(resolve_base_url(None, env, tmp_path)) == "http://h:1/v1"
    assert str(resolve_base_url("http://x:2/v1", env, tmp_path)) == "http://x:2/v1"


def test_bad_base_url_from_dotenv_names_the_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("REPLICATE_BASE_URL=localhost:8787\n")
    with pytest.raises(ConfigurationError, match=r"REPLICATE_BASE_URL in .*\.env"):
        resolve_base_url(None, {}, tmp_path)


def test_client_reads_base_url_and_poll_interval_from_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from replicate_async._core.backoff import Backoff

    for name in ("REPLICATE_BASE_URL", "REPLICATE_POLL_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "REPLICATE_BASE_URL=http://127.0.0.1:9/v1\nREPLICATE_POLL_INTERVAL=0.25\n"
    )
    client = Client("r8_x")
    assert str(client.base_url) == "http://127.0.0.1:9/v1"
    client.close()
    assert Backoff.from_env().ceiling == 0.25
    monkeypatch.setenv("REPLICATE_POLL_INTERVAL", "0.5")
    assert Backoff.from_env().ceiling == 0.5
    monkeypatch.delenv("REPLICATE_POLL_INTERVAL")
    (tmp_path / ".env").write_text("REPLICATE_POLL_INTERVAL=soon\n")
    with pytest.raises(ConfigurationError, match=r"REPLICATE_POLL_INTERVAL in .*\.env"):
        Backoff.from_env()


def test_dotenv_is_never_written_into_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os

    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    (tmp_path / ".env").write_text("REPLICATE_API_TOKEN=r8_dot\nOTHER_THING=1\n")
    assert resolve_token(None, None, tmp_path).reveal() == "r8_dot"
    assert "REPLICATE_API_TOKEN" not in os.environ and "OTHER_THING" not in os.environ


def test_unreadable_dotenv_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"REPLICATE_API_TOKEN=\xff\xfe\n")
    with pytest.raises(ConfigurationError, match=r"\.env"):
        resolve_token(None, {}, tmp_path)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / ".env").mkdir()  # a directory of that name reads as no file
    assert read_dotenv(tmp_path / "dir" / ".env") == {}


def test_token_source_and_preview(tmp_path: Path) -> None:
    """A token knows where it came from and shows at most its first 4 characters."""
    token = resolve_token(None, {"REPLICATE_API_KEY": "r8_Abcdefghijklmnop"}, tmp_path)
    assert token.describe() == "the REPLICATE_API_KEY environment variable (r8_A\u2026)"
    assert resolve_token("r8_Abcdefghijklmnop", {}, tmp_path).source == "the api_token argument"
    (tmp_path / ".env").write_text("REPLICATE_API_TOKEN=r8_Zyxwvutsrqponm\n")
    from_file = resolve_token(None, {}, tmp_path)
    assert from_file.describe() == f"REPLICATE_API_TOKEN in {tmp_path / '.env'} (r8_Z\u2026)"
    assert Secret("abc").preview() == "\u2026"  # a short value shows nothing of itself
    assert Secret("abcdefgh").preview() == "ab\u2026"


_KEY = st.sampled_from([*DOTENV_VARIABLES, "OTHER", "lower_key"])
_VALUE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\t"),
    max_size=30,
)


@st.composite
def _dotenv_files(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        key = draw(_KEY)
        value = draw(_VALUE)
        style = draw(st.sampled_from(["bare", "single", "double", "none"]))
        if style == "single":
            value = "'" + value.replace("'", "") + "'"
        elif style == "double":
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif style == "none":
            value = ""
        line = f"{key}={value}"
        if draw(st.booleans()):
            line = "export " + line
        if draw(st.booleans()):
            line += draw(st.sampled_from([" # note", "  #c", "\t# x=y"]))
        lines.append(line)
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["# comment", "", "   ", "garbage line", "=x"])))
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(text=_dotenv_files())
def test_dotenv_reader_matches_python_dotenv(text: str) -> None:
    """Whatever a ``.env`` holds (quoted, unquoted, commented, ``export``-prefixed, junk), the
    client reads what python-dotenv reads, and the only error it raises is ConfigurationError."""
    import io
    import tempfile

    from dotenv import dotenv_values

    expected = {
        k: v
        for k, v in dotenv_values(stream=io.StringIO(text, newline=None), interpolate=False).items()
        if v is not None
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ".env"
        path.write_bytes(text.encode("utf-8"))
        assert read_dotenv(path) == expected
        for name in DOTENV_VARIABLES:
            found = setting(name, {}, Path(tmp))
            want = expected.get(name, "").strip()
            assert found == ((want, f"{name} in {path}") if want else None)
        try:
            token = resolve_token(None, {}, Path(tmp))
        except ConfigurationError:
            assert not any(expected.get(n, "").strip() for n in TOKEN_VARIABLES)
        else:
            assert token.reveal() in {expected.get(n, "").strip() for n in TOKEN_VARIABLES}
        try:
            resolve_base_url(None, {}, Path(tmp))
        except ConfigurationError:
            assert expected.get("REPLICATE_BASE_URL", "").strip()


# -- a refused token says which one, from where ---------------------------------------------

_RIGHT = "r8_RightTokenForTheEmulator"
_WRONG = "r8_WrongTokenButSetXyz123"


@pytest.fixture
def guarded_emulator() -> Iterator[Emulator]:
    with Emulator(**{**FAST_DEFAULTS, "token": _RIGHT}) as emulator:
        yield emulator


@pytest.mark.parametrize(
    "where", ["argument", "REPLICATE_API_TOKEN", "REPLICATE_API_KEY", "dotenv"]
)
def test_refused_token_names_its_source_and_never_the_token(
    where: str,
    guarded_emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A wrong token said "You did not pass a valid authentication token" (and the command
    line "Set REPLICATE_API_TOKEN") although it was set: say it was refused, where it came
    from, and its first characters only."""
    for name in TOKEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    expected = {
        "argument": "the api_token argument",
        "REPLICATE_API_TOKEN": "the REPLICATE_API_TOKEN environment variable",
        "REPLICATE_API_KEY": "the REPLICATE_API_KEY environment variable",
        "dotenv": f"REPLICATE_API_TOKEN in {tmp_path / '.env'}",
    }[where]
    if where == "dotenv":
        (tmp_path / ".env").write_text(f'REPLICATE_API_TOKEN="{_WRONG}"  # mine\n')
    elif where != "argument":
        monkeypatch.setenv(where, _WRONG)
    with Client(_WRONG if where == "argument" else None, base_url=guarded_emulator.url) as c:
        with pytest.raises(AuthenticationError) as info:
            c.account.get()
    message = str(info.value)
    assert f"refused the token from {expected} (r8_W\u2026)" in message
    assert info.value.hint is not None and expected in info.value.hint
    for shown in (message, repr(info.value), repr(info.value.args), str(info.value.body)):
        assert _WRONG not in shown and _WRONG[:5] not in shown


def test_cli_says_the_token_was_refused(
    guarded_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from support import CliInvoker

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REPLICATE_API_TOKEN", _WRONG)
    monkeypatch.delenv("REPLICATE_API_KEY", raising=False)
    monkeypatch.setenv("REPLICATE_BASE_URL", guarded_emulator.url)
    result = CliInvoker()("account")
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert "refused the token from the REPLICATE_API_TOKEN environment variable" in text
    assert "Set REPLICATE_API_TOKEN" not in text
    assert _WRONG not in result.output


@settings(max_examples=100, derandomize=True, deadline=None)
@given(data=st.binary(max_size=200))
def test_any_dotenv_bytes_read_or_raise_configuration_error(data: bytes) -> None:
    """Whatever bytes a ``.env`` holds, reading it returns strings or raises the documented
    ConfigurationError (undecodable files), never anything else."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ".env"
        path.write_bytes(data)
        try:
            values = read_dotenv(path)
        except ConfigurationError as exc:
            assert ".env" in str(exc)
        else:
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
