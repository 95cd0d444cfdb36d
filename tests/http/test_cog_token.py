"""Inside a Cog predictor on Replicate, the token comes from the request's scope (as in the
official client) when no other token is set. A fake ``cog`` module stands in for Cog."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from replicate_async import Client, ConfigurationError


@pytest.fixture
def fake_cog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    package = tmp_path / "site" / "cog"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            class _Scope:
                context = {"replicate_api_token": "r8_from_cog_scope"}

            def current_scope():
                return _Scope()
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "cog", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield package
    finally:
        sys.modules.pop("cog", None)  # the fake must not outlive the test


async def test_the_scope_token_is_used_when_no_other_is_set(fake_cog: Path, scripted: Any) -> None:
    scripted.add(body={"username": "cog", "type": "user"})
    async with Client(base_url=scripted.url) as client:
        await client.account.async_get()
    assert scripted.requests[0]["headers"]["Authorization"] == "Bearer r8_from_cog_scope"


async def test_an_environment_token_wins(
    fake_cog: Path, scripted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_from_env")
    scripted.add(body={"username": "env", "type": "user"})
    async with Client(base_url=scripted.url) as client:
        await client.account.async_get()
    assert scripted.requests[0]["headers"]["Authorization"] == "Bearer r8_from_env"


def test_outside_a_request_the_usual_error(fake_cog: Path) -> None:
    (fake_cog / "__init__.py").write_text(
        "def current_scope():\n    raise RuntimeError('no current scope')\n", encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match="No Replicate API token"):
        Client()._resolve_token()
