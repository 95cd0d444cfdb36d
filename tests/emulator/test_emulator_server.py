"""Ways to start the emulator: async, blocking thread, stand-alone CLI, pytest fixtures."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import urllib.request
from typing import Any
from urllib.parse import urlparse

import aiohttp
import pytest
from emu_helpers import AUTH, call
from support import block_until

from replicate_async.emulator import Emulator, serve_forever


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or AUTH)
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def _ephemeral_ports() -> range:
    """The ports the kernel hands out for port 0 and for outgoing connections."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default; macOS's range starts above it
    return range(low, high + 1)


def free_port() -> int:
    """A port whose next two are free too, for a server that binds all three later.

    It is drawn below the ephemeral range: a port the kernel may hand out can be taken by
    another worker's connection (or its port-0 server) between this check and the bind."""
    ephemeral = _ephemeral_ports()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20_000, 32_000, 3)
        if any(p in ephemeral for p in (port, port + 1, port + 2)):
            continue
        ok = True
        for extra in (0, 1, 2):
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port + extra))
                except OSError:
                    ok = False
        if ok:
            return port
    raise RuntimeError("no free port triple below the ephemeral range")


async def test_async_start_stop_three_origins() -> None:
    emu = Emulator()
    await emu.start()
    try:
        ports = {urlparse(u).port for u in (emu.url, emu.stream_url, emu.delivery_url)}
        assert len(ports) == 3
        assert emu.url.startswith("http://127.0.0.1:") and emu.url.endswith("/v1")
        with pytest.raises(RuntimeError):
            await emu.start()
    finally:
        await emu.stop()
    await emu.stop()  # idempotent
    assert "stopped" in repr(emu)
    async with emu:  # and restartable (state is kept, ports are new)
        async with aiohttp.ClientSession(headers=AUTH) as http:
            await call(http, "GET", f"{emu.url}/account", expect=200)


def test_blocking_context_manager() -> None:
    with Emulator(speed=100) as emu:
        assert get_json(f"{emu.url}/account")["username"] == "emulator"
        body = json.dumps({"input": {"text": "x"}}).encode()
        request = urllib.request.Request(
            f"{emu.url}/models/replicate/instant/predictions",
            data=body,
            headers={**AUTH, "Content-Type": "application/json", "Prefer": "wait"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 201
            assert json.loads(resp.read())["output"] == "instant: x"
        emu.faults.add(route="hardware.list", status=500, times=1)
        with pytest.raises(urllib.error.HTTPError):
            get_json(f"{emu.url}/hardware")
        assert emu.stats.faults_injected == 1
    with pytest.raises(OSError):
        get_json(f"{emu.url}/account")


def test_stopping_the_thread_ends_a_request_whose_client_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A create held on the server (latency fault) outlives its client's connection: aiohttp
    # no longer counts it as the server's, so only the private loop's own shutdown can end
    # it; closing the loop under it would destroy a pending task.
    with Emulator(speed=100) as emu:
        held = emu.faults.add(route="*predictions.create", latency=30.0)
        port = urlparse(emu.url).port
        body = json.dumps({"input": {"text": "x"}}).encode()
        head = (
            f"POST /v1/models/replicate/instant/predictions HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nAuthorization: {AUTH['Authorization']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(head.encode() + body)
            block_until(lambda: held.hits == 1)  # the handler now sleeps on; the client leaves
        loop = emu._loop
        assert loop is not None
        left = [t for t in asyncio.all_tasks(loop) if not t.done()]
        assert left  # the held handler is still there when the emulator stops
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        del left
        gc.collect()
    assert loop.is_closed()
    assert not [r for r in caplog.records if "destroyed but it is pending" in r.getMessage()]


async def test_blocking_form_inside_running_loop() -> None:
    # as in Jupyter: a loop is already running in this thread
    with Emulator() as emu:
        async with aiohttp.ClientSession(headers=AUTH) as http:
            await call(http, "GET", f"{emu.url}/account", expect=200)


async def test_serve_forever_fixed_ports() -> None:
    port = free_port()
    task = asyncio.ensure_future(serve_forever("127.0.0.1", port, announce=False, rate_limit=False))
    try:
        async with aiohttp.ClientSession(headers=AUTH) as http:
            for _ in range(200):
                try:
                    await call(http, "GET", f"http://127.0.0.1:{port}/v1/account", expect=200)
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.02)
            _, pred, _ = await call(
                http,
                "POST",
                f"http://127.0.0.1:{port}/v1/models/meta/meta-llama-3-8b-instruct/predictions",
                json={"input": {"prompt": "x"}},
                expect=201,
            )
            assert pred["urls"]["stream"].startswith(f"http://127.0.0.1:{port + 1}/")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_cli_prints_urls_and_stops_on_ctrl_c() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "replicate_async.emulator",
            "--port",
            str(port),
            "--token",
            "r8_cli",
            "--seed",
            "3",
            "--no-rate-limit",
            "--speed",
            "10",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert f"http://127.0.0.1:{port}/v1" in lines[0]
        assert f"http://127.0.0.1:{port + 1}" in lines[1]
        assert f"http://127.0.0.1:{port + 2}" in lines[2]
        account = get_json(
            f"http://127.0.0.1:{port}/v1/account", {"Authorization": "Bearer r8_cli"}
        )
        assert account["username"] == "emulator"
        with pytest.raises(urllib.error.HTTPError):
            get_json(f"http://127.0.0.1:{port}/v1/account")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


async def test_client_factory(replicate_emulator: Emulator) -> None:
    replicate_async = pytest.importorskip("replicate_async")
    if not hasattr(replicate_async, "Client"):
        pytest.skip("client not available yet")
    client = replicate_emulator.client()
    try:
        assert client is not None
    finally:
        closer = getattr(client, "aclose", None)
        if closer is not None:
            await closer()


@pytest.mark.parametrize("replicate_emulator", [{"page_size": 1, "seed": 9}], indirect=True)
async def test_fixture_indirect_params(replicate_emulator: Emulator) -> None:
    assert replicate_emulator.options.page_size == 1
    assert replicate_emulator.options.seed == 9
    assert replicate_emulator.options.speed == 200.0  # fast default kept


def test_sync_fixture(replicate_emulator_sync: Emulator) -> None:
    assert get_json(f"{replicate_emulator_sync.url}/hardware")[0]["sku"] == "cpu"


async def test_seeded_emulators_are_reproducible(http: aiohttp.ClientSession) -> None:
    results = []
    for _ in range(2):
        async with Emulator(seed=11, speed=1000) as emu:
            _, body, _ = await call(
                http,
                "POST",
                f"{emu.url}/models/meta/meta-llama-3-8b-instruct/predictions",
                json={"input": {"prompt": "same"}},
                headers={"Prefer": "wait"},
                expect=201,
            )
            _, secret, _ = await call(http, "GET", f"{emu.url}/webhooks/default/secret")
            results.append((body["id"], "".join(body["output"]), secret["key"]))
    assert results[0] == results[1]


def test_bad_options() -> None:
    with pytest.raises(ValueError):
        Emulator(speed=0)
    with pytest.raises(TypeError):
        Emulator(no_such_option=1)


async def test_stop_ends_open_streams() -> None:
    emu = Emulator(model_timings={"meta/meta-llama-3-8b-instruct": (1000.0, 0.0)})
    await emu.start()
    async with aiohttp.ClientSession(headers=AUTH) as http:
        _, pred, _ = await call(
            http,
            "POST",
            f"{emu.url}/models/meta/meta-llama-3-8b-instruct/predictions",
            json={"input": {"prompt": "x"}},
            expect=201,
        )

        opened = asyncio.Event()

        async def read() -> bytes:
            async with http.get(pred["urls"]["stream"]) as resp:
                opened.set()  # the stream is open on the server: stop must end it
                return await resp.read()

        reader = asyncio.ensure_future(read())
        await asyncio.wait_for(opened.wait(), 5)
        await emu.stop()
        assert await asyncio.wait_for(reader, 5) == b": hi\n\n"


async def test_infinite_speed_completes_inside_the_request(http: aiohttp.ClientSession) -> None:
    async with Emulator(speed=float("inf")) as emu:
        _, body, _ = await call(
            http,
            "POST",
            f"{emu.url}/models/meta/meta-llama-3-8b-instruct/predictions",
            json={"input": {"prompt": "x"}},
            expect=201,
        )
        assert body["status"] == "succeeded" and body["output"]


def test_the_default_speed_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_EMULATOR_SPEED", "10")
    assert Emulator().options.speed == 10.0
    assert Emulator(speed=2).options.speed == 2.0  # an argument wins
    monkeypatch.setenv("REPLICATE_EMULATOR_SPEED", "inf")
    assert Emulator().options.time_scale == 0.0
    monkeypatch.delenv("REPLICATE_EMULATOR_SPEED")
    assert Emulator().options.speed == 1.0


@pytest.mark.parametrize("text", ["fast", "0", "-3", "nan"])
def test_a_bad_speed_in_the_environment_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("REPLICATE_EMULATOR_SPEED", text)
    with pytest.raises(ValueError, match=r"REPLICATE_EMULATOR_SPEED=.* positive number"):
        Emulator()
