"""default_headers, read-only configuration and ``with_options`` (sharing the pool)."""

from __future__ import annotations

from typing import Any

import pytest

from replicate_async import Client, ConfigurationError, RetryPolicy, Timeouts, TokenBucketLimiter

TOKEN = "r8_options_tests"


async def test_default_headers_go_with_every_api_call(scripted: Any) -> None:
    scripted.add(body={"username": "a", "type": "user"})
    scripted.add(body={"username": "a", "type": "user"})
    async with Client(
        api_token=TOKEN, base_url=scripted.url, default_headers={"X-Team": "search"}
    ) as client:
        await client.account.async_get()
        tagged = client.with_options(headers={"X-Trace": "t1"})
        await tagged.account.async_get()
    first, second = (r["headers"] for r in scripted.requests)
    assert first["X-Team"] == "search" and "X-Trace" not in first
    assert second["X-Team"] == "search" and second["X-Trace"] == "t1"
    assert second["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("name", ["Authorization", "authorization", "Host", "Content-Length"])
def test_default_headers_cannot_replace_what_the_client_owns(name: str) -> None:
    with pytest.raises(ConfigurationError, match="cannot set"):
        Client(api_token=TOKEN, default_headers={name: "x"})


def test_header_injection_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="line break"):
        Client(api_token=TOKEN, default_headers={"X-A": "a\r\nAuthorization: evil"})


@pytest.mark.parametrize(
    ("name", "value"),
    [("retry", RetryPolicy(max_retries=0)), ("timeouts", Timeouts()), ("base_url", "http://x")],
)
def test_configuration_attributes_are_read_only(name: str, value: object) -> None:
    client = Client(api_token=TOKEN)
    with pytest.raises(AttributeError):
        setattr(client, name, value)


async def test_with_options_shares_the_pool_and_limiter_and_lifetime(scripted: Any) -> None:
    scripted.add(body={"username": "a", "type": "user"})
    client = Client(api_token=TOKEN, base_url=scripted.url, timeout=30, retry=2)
    other = client.with_options(timeout=5, retry=0, poll_interval=0.5)
    assert other.timeouts.request == 5 and other.timeouts.connect == client.timeouts.connect
    assert client.timeouts.request == 30  # the original is unchanged
    assert other.retry.max_retries == 0 and client.retry.max_retries == 2
    assert other.poll_interval == 0.5 and client.poll_interval is None
    assert other.rate_limiter is client.rate_limiter
    assert other.predictions._client is other  # namespaces use the copy's options
    await other.account.async_get()
    assert client._transport._sessions is other._transport._sessions
    assert len(client._transport._sessions) == 1  # one session, made by the copy, shared
    await client.aclose()
    assert other._transport.closed  # closing either closes both
    with pytest.raises(ConfigurationError, match="closed"):
        await other.account.async_get()
    replacement = TokenBucketLimiter(create_per_minute=60)
    client.rate_limiter = replacement  # a limiter set later is shared too
    assert other.rate_limiter is replacement
    whole = client.with_options(timeout=Timeouts(request=1, connect=2))
    assert whole.timeouts == Timeouts(request=1, connect=2)
