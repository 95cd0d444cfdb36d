"""Nothing a call started is left behind: a prediction created for a call that then failed,
was interrupted, or outlived its client or its event loop is canceled (or, when that cannot be
known, reported), and files uploaded for a create that failed are deleted.

Self-contained on purpose (the shared test helpers are being reorganised); every wait is
bounded, and the emulator runs the language model far longer than any test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import support
from support import block_until

from replicate_async import ServerError, UnprocessableEntityError
from replicate_async._ops.file_input import DATA_URI_MAX_SIZE
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

LLAMA = "meta/meta-llama-3-8b-instruct"
HELLO = "replicate/hello-world:0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"
ECHO_FILE = "replicate/echo-file"  # not an official model: owner/name creates twice
SLOW = {"model_timings": {LLAMA: (0.0, 10_000.0)}}
"""Emulator options under which a Llama prediction runs far longer than any test."""
DEADLINE = 20.0
BIG = b"x" * (DATA_URI_MAX_SIZE + 1)
"""A bytes input too large to inline: it is uploaded through the Files API."""


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``predicate`` every 5 ms; fail after ``timeout`` seconds."""
    await support.wait_until(predicate, timeout, interval=0.005)


async def call(mode: str, coroutine_fn: Any, blocking_fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``await coroutine_fn(...)``, or ``blocking_fn(...)`` in a thread; both bounded."""
    if mode == "async":
        return await asyncio.wait_for(coroutine_fn(*args, **kwargs), DEADLINE)
    return await asyncio.wait_for(asyncio.to_thread(blocking_fn, *args, **kwargs), DEADLINE)


def statuses(emu: Emulator) -> list[str]:
    return [job.status for job in emu.predictions.values()]


def uploads(emu: Emulator) -> int:
    """How many files were uploaded (``POST /files``)."""
    return sum(record.operation == "files.create" for record in emu.requests)


# -- a call that fails after its create --------------------------------------------------------
@pytest.mark.replicate_emulator(**SLOW)
@pytest.mark.parametrize("mode", ["async", "blocking"])
async def test_run_whose_follow_up_fails_cancels_and_names_its_prediction__peer_defect_3(
    replicate_emulator: Emulator, mode: str
) -> None:
    emu = replicate_emulator
    async with emu.client(retry=0) as client:
        emu.faults.add(route="predictions.get", status=503)
        emu.faults.add(route="stream", status=503)
        with pytest.raises(ServerError) as caught:
            await call(mode, client.run, client.run_sync, LLAMA, {"prompt": "hi"}, wait=False)
    [(prediction_id, job)] = emu.predictions.items()
    assert job.status == "canceled"  # not left running (and billing) after the error
    assert f"prediction {prediction_id} was created; it has been canceled" in str(caught.value)
    assert caught.value.args == (str(caught.value),)


@pytest.mark.replicate_emulator(**SLOW)
async def test_stream_whose_follow_up_fails_cancels_and_names_its_prediction__peer_defect_3(
    replicate_emulator: Emulator,
) -> None:
    emu = replicate_emulator
    async with emu.client(retry=0) as client:
        emu.faults.add(route="stream", status=404)  # the stream cannot be read: poll instead
        emu.faults.add(route="predictions.get", status=503)  # … and polling fails too
        with pytest.raises(ServerError) as caught:
            async with contextlib.aclosing(client.stream(LLAMA, {"prompt": "hi"})) as events:
                await asyncio.wait_for(events.__anext__(), DEADLINE)
    [(prediction_id, job)] = emu.predictions.items()
    assert job.status == "canceled"
    assert f"prediction {prediction_id} was created; it has been canceled" in str(caught.value)


@pytest.mark.replicate_emulator(**SLOW)
async def test_run_without_cancel_on_exit_reports_the_prediction_still_running(
    replicate_emulator: Emulator,
) -> None:
    emu = replicate_emulator
    async with emu.client(retry=0) as client:
        emu.faults.add(route="predictions.get", status=503)
        emu.faults.add(route="stream", status=503)
        with pytest.raises(ServerError) as caught:
            await client.run(LLAMA, {"prompt": "hi"}, wait=False, cancel_on_exit=False)
    [(prediction_id, job)] = emu.predictions.items()
    assert job.status != "canceled"
    assert f"prediction {prediction_id} was created; it is still running" in str(caught.value)


@pytest.mark.parametrize(("verb", "mode"), [("run", "async"), ("run", "blocking"), ("stream", "")])
async def test_files_uploaded_for_a_create_that_fails_are_deleted(
    replicate_emulator: Emulator, verb: str, mode: str
) -> None:
    emu = replicate_emulator
    async with emu.client(retry=0) as client:
        emu.faults.add(route="predictions.create", status=422, times=1)
        with pytest.raises(UnprocessableEntityError):
            if verb == "run":
                await call(mode, client.run, client.run_sync, HELLO, {"text": BIG})
            else:
                async with contextlib.aclosing(client.stream(HELLO, {"text": BIG})) as events:
                    await asyncio.wait_for(events.__anext__(), DEADLINE)
    assert uploads(emu) == 1  # it was uploaded …
    assert list(emu.files) == []  # … and deleted when the create failed


async def test_a_file_input_is_uploaded_once_when_owner_name_creates_twice(
    replicate_emulator: Emulator,
) -> None:
    # ``owner/name`` of a model that is not official: the models endpoint answers 404 and the
    # create is sent again with the latest version; the upload must not be repeated (and the
    # first copy leaked).
    emu = replicate_emulator
    async with emu.client() as client:
        await asyncio.wait_for(client.run(ECHO_FILE, {"file": BIG}), DEADLINE)
    assert uploads(emu) == 1
    assert len(emu.files) == 1


# -- a call interrupted while its create is on the way -----------------------------------------
def test_run_cancelled_mid_create_cancels_before_the_loop_ends__peer_defect_3() -> None:
    # The task running ``run(wait=False)`` is cancelled while the create request is on its way
    # (Ctrl-C, a caller's timeout), and the program ends right after. The create answers within
    # milliseconds: the run waits for it and cancels what it made, instead of leaving that to
    # a background task that ``asyncio.run`` kills on exit. (The emulator drops a create whose
    # client hung up during the injected latency; the real API may well have created it.)
    with Emulator(**FAST_DEFAULTS, **SLOW) as emu:
        delayed = emu.faults.add(route="models.predictions.create", latency=0.3, times=1)

        async def main() -> None:
            async with emu.client() as client:
                task = asyncio.ensure_future(client.run(LLAMA, {"prompt": "hi"}, wait=False))
                await wait_until(lambda: delayed.hits == 1)  # the create is on the server
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, DEADLINE)

        asyncio.run(main())
        block_until(lambda: bool(emu.predictions))
        assert statuses(emu) == ["canceled"]


def test_cancel_cut_off_by_the_end_of_asyncio_run_is_sent_again__peer_defect_3() -> None:
    # Cancelled twice (say, Ctrl-C twice): the cancel request goes on in the background, and
    # the program ends while it is in flight. ``asyncio.run`` cancels every task left; the
    # cancel task sends its request once more before the loop closes.
    with Emulator(**FAST_DEFAULTS, **SLOW) as emu:
        hanging = emu.faults.add(route="predictions.cancel", latency=60.0, times=1)

        async def main() -> None:
            client = emu.client()  # closed by the loop's shutdown (its session guard)
            task = asyncio.ensure_future(client.run(LLAMA, {"prompt": "hi"}, wait=False))
            await wait_until(lambda: bool(emu.predictions))
            task.cancel()
            await wait_until(lambda: hanging.hits == 1)  # the first cancel hangs on the server
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, DEADLINE)

        asyncio.run(main())
        assert statuses(emu) == ["canceled"]


def test_sync_mode_create_abandoned_before_asyncio_run_ends_is_canceled() -> None:
    # In sync mode the API names the prediction only when the create answers (after its short
    # ``Prefer: wait``): a run abandoned during its create waits, shielded, for that answer
    # and cancels what it made before the program goes on to end.
    with Emulator(**FAST_DEFAULTS, **SLOW) as emu:

        async def main() -> None:
            async with emu.client() as client:
                task = asyncio.ensure_future(client.run(LLAMA, {"prompt": "hi"}, wait=1))
                await wait_until(lambda: bool(emu.predictions))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, DEADLINE)

        asyncio.run(main())
        assert statuses(emu) == ["canceled"]


# -- a stream left early, after which its client is closed --------------------------------------
@pytest.mark.replicate_emulator(**SLOW)
@pytest.mark.parametrize("mode", ["async", "blocking"])
async def test_breaking_out_of_a_stream_inside_async_with_client_cancels_it__peer_defect_3(
    replicate_emulator: Emulator, mode: str
) -> None:
    # ``break`` leaves the generator to be closed by the event loop a moment later, after the
    # ``async with`` block has closed the client: the cancel must still reach the API.
    emu = replicate_emulator

    async def leave_early() -> None:
        async with emu.client() as client:
            async for _ in client.stream(LLAMA, {"prompt": "hi"}):
                break

    def leave_early_blocking() -> None:
        with emu.client() as client:
            for _ in client.stream_sync(LLAMA, {"prompt": "hi"}):
                break

    if mode == "async":
        await asyncio.wait_for(leave_early(), DEADLINE)
    else:
        await asyncio.wait_for(asyncio.to_thread(leave_early_blocking), DEADLINE)
    await wait_until(lambda: statuses(emu) == ["canceled"])


def test_a_stream_left_open_when_asyncio_run_ends_is_canceled__peer_defect_3() -> None:
    # A stream that is neither finished nor closed when the program's main coroutine returns is
    # closed by ``asyncio.run`` while it finalises async generators, alongside the client's
    # session: the cancel cannot open a session on that loop any more, and goes out from the
    # bridge loop instead.
    with Emulator(**FAST_DEFAULTS, **SLOW) as emu:

        async def main() -> Any:
            client = emu.client()  # closed by the loop's shutdown (its session guard)
            events = client.stream(LLAMA, {"prompt": "hi"})
            await asyncio.wait_for(events.__anext__(), DEADLINE)
            return events  # still open, and referenced: only the loop's shutdown closes it

        left_open = asyncio.run(main())
        assert statuses(emu) == ["canceled"]
        del left_open


# -- a blocking call interrupted with Ctrl-C ----------------------------------------------------
BLOCKING_SCRIPTS = {
    "run_sync": f"client.run_sync({LLAMA!r}, {{'prompt': 'hi'}}, wait=False)",
    "batch_sync": f"inputs = [{{'prompt': str(i)}} for i in range(3)]\n"
    f"for _ in client.batch_sync({LLAMA!r}, inputs):\n    pass",
}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("verb", sorted(BLOCKING_SCRIPTS))
def test_ctrl_c_in_a_blocking_call_cancels_before_the_program_exits__peer_defect_3(
    verb: str, tmp_path: Path
) -> None:
    # The coroutine runs on the bridge, a daemon thread: if the interrupt propagated before the
    # cancel requests were sent, the exiting interpreter would take them down with it.
    # The script takes Ctrl-C even if this test runs with SIGINT ignored (which a child
    # would inherit, as from a background job): the scenario is a program that can be
    # interrupted.
    script = (
        "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
        f"import replicate_async\nclient = replicate_async.Client()\n{BLOCKING_SCRIPTS[verb]}\n"
    )
    expected = 3 if verb == "batch_sync" else 1
    with Emulator(**FAST_DEFAULTS, **SLOW) as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
        env.update(REPLICATE_API_TOKEN="r8_audit", REPLICATE_BASE_URL=emu.url)
        process = subprocess.Popen(
            [sys.executable, "-c", script], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
        )
        try:
            block_until(lambda: len(emu.predictions) == expected, timeout=DEADLINE)
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=DEADLINE)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=DEADLINE)
        assert "KeyboardInterrupt" in stderr
        assert statuses(emu) == ["canceled"] * expected, stderr
