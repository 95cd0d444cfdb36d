"""Notebooks: ``await emu.start()`` in one cell and ``client.run_sync(…)`` in the next hung
forever (the blocking call blocks the loop that serves the emulator it waits for). It now
raises ``BlockingCallError`` naming the fix; the documented threaded form works. Checked in
this process and through a real Jupyter kernel (nbclient)."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from replicate_async import BlockingCallError, FileOutput
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

LLAMA = "meta/meta-llama-3-8b-instruct"


async def test_a_blocking_call_on_the_emulators_own_loop_raises_at_once() -> None:
    async with Emulator(**FAST_DEFAULTS) as emu, emu.client() as client:
        with pytest.raises(BlockingCallError, match=r"start_in_thread\(\)") as info:
            client.run_sync(LLAMA, {"prompt": "hi"})  # no to_thread: this loop serves emu
        assert "await client.run(" in str(info.value) and "run_sync()" in str(info.value)
        with pytest.raises(BlockingCallError):
            client.predictions.list()  # namespaces too
        with pytest.raises(BlockingCallError):
            list(client.stream_sync(LLAMA, {"prompt": "hi"}))
        with pytest.raises(BlockingCallError):
            FileOutput(emu.delivery_url + "/x.png", client).read()
        # The async form works, and so do blocking calls from another thread.
        assert await asyncio.wait_for(client.run(LLAMA, {"prompt": "hi", "max_tokens": 2}), 30)
        page = await asyncio.wait_for(asyncio.to_thread(client.predictions.list), 30)
        assert page.results
    # Once stopped, the origin is forgotten: nothing is refused any more.
    from replicate_async._io import bridge

    assert not any(key[2] == int(emu.url.split(":")[2].split("/")[0]) for key in bridge._served)


async def test_a_client_of_another_server_is_not_refused(tmp_path: Path) -> None:
    """Only a client pointed at an origin this loop serves is refused."""
    with Emulator(**FAST_DEFAULTS) as threaded:  # its own loop, in a thread
        async with Emulator(**FAST_DEFAULTS), threaded.client() as client:
            text = await asyncio.wait_for(
                asyncio.to_thread(client.run_sync, LLAMA, {"prompt": "hi", "max_tokens": 2}),
                30,
            )
            assert isinstance(text, str)
            # Same thread, same running loop, but the target runs elsewhere: allowed.
            assert client.predictions.list().results


def test_start_without_a_running_loop_says_what_to_do() -> None:
    """``emu.start()`` in plain blocking code used to return a coroutine nobody awaited."""
    emu = Emulator()
    with pytest.raises(RuntimeError, match=r"start_in_thread\(\)"):
        emu.start()
    assert "stopped" in repr(emu)


async def test_start_without_await_on_a_running_loop_still_starts() -> None:
    emu = Emulator(**FAST_DEFAULTS)
    task = emu.start()  # as in a notebook cell without `await`
    await asyncio.wait_for(task, 10)
    try:
        assert "running" in repr(emu) and emu.url.endswith("/v1")
    finally:
        await emu.stop()


NOTEBOOK_BOUND = 30  # seconds per cell: a hang fails the test instead of blocking the suite


def _notebook(cells: list[str]) -> object:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in cells]
    return nb


def test_through_a_real_jupyter_kernel(tmp_path: Path) -> None:
    """Cell 1 ``await emu.start()``; cell 2 ``client.run_sync(...)`` raises the clear error
    within the cell timeout; the documented threaded form (docs/notebooks.md) works."""
    import nbclient

    nb = _notebook(
        [
            """
            from replicate_async import BlockingCallError
            from replicate_async.emulator import Emulator
            emu = Emulator(speed=200)
            await emu.start()
            client = emu.client()
            """,
            """
            try:
                client.run_sync("meta/meta-llama-3-8b-instruct", input={"prompt": "hi"})
            except BlockingCallError as exc:
                print("REFUSED:", exc)
            """,
            """
            print("ASYNC:", await client.run("meta/meta-llama-3-8b-instruct",
                                             input={"prompt": "hi", "max_tokens": 2}))
            await client.aclose()
            await emu.stop()
            """,
            """
            later = Emulator(speed=200)
            starting = later.start()  # no await: it is scheduled, and runs between cells
            """,
            """
            import asyncio
            await asyncio.wait({starting}, timeout=30)  # waits for it; never starts it
            print("STARTED:", "running" in repr(later))
            await later.stop()
            """,
            """
            threaded = Emulator(speed=200)
            threaded.start_in_thread()
            client = threaded.client()
            print("THREADED:", client.run_sync("meta/meta-llama-3-8b-instruct",
                                               input={"prompt": "hi", "max_tokens": 2}))
            client.close()
            threaded.stop_thread()
            """,
        ]
    )
    client = nbclient.NotebookClient(
        nb,
        timeout=NOTEBOOK_BOUND,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [
        "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")
        for cell in nb.cells  # type: ignore[attr-defined]
    ]
    assert outputs[1].startswith("REFUSED: run_sync() would wait forever")
    assert "start_in_thread()" in outputs[1]
    assert outputs[2].startswith("ASYNC: ") and len(outputs[2].strip()) > len("ASYNC:")
    assert outputs[4].strip() == "STARTED: True"
    assert outputs[5].startswith("THREADED: ") and len(outputs[5].strip()) > len("THREADED:")
