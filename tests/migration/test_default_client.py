"""The module-level client (``replicate_async.run_sync(...)`` as in the official package) and
quiet exits: scripts run in fresh interpreters against the emulator; stderr must stay clean."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from replicate_async.emulator import Emulator

TOKEN = "r8_default_client_tests"


def run_script(
    code: str, emu: Emulator, tmp_path: Path, *, dev_mode: bool = True
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "HTTP"))}
    env.update(REPLICATE_BASE_URL=emu.url, REPLICATE_API_TOKEN=TOKEN)
    if dev_mode:  # warnings shown, asyncio debug mode
        env["PYTHONDEVMODE"] = "1"
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_verb_of_the_module_level_client(emu: Emulator, tmp_path: Path) -> None:
    result = run_script(
        """
        import asyncio
        import replicate_async

        print(replicate_async.run_sync("replicate/hello-world", input={"text": "a"}))
        model = replicate_async.models.get("replicate/hello-world")
        version = model.latest_version.id
        prediction = replicate_async.predictions.create(version, input={"text": "b"})
        prediction.wait()
        print(prediction.status, prediction.output)
        print("".join(str(e) for e in replicate_async.stream_sync(
            "replicate/hello-world", input={"text": "c"})))

        async def main(text):
            out = await replicate_async.run("replicate/hello-world", input={"text": text})
            streamed = [str(e) async for e in replicate_async.stream(
                "replicate/hello-world", input={"text": text})]
            official = [str(e) async for e in await replicate_async.async_stream(
                "replicate/hello-world", input={"text": text})]
            p = await replicate_async.predictions.async_create(version, input={"text": text})
            await p.async_wait()
            return out, "".join(streamed), "".join(official), p.output

        # Several asyncio.run calls, each with its own loop, share the one client.
        print(asyncio.run(main("d")))
        print(asyncio.run(main("e")))
        print(replicate_async.accounts.current().username is not None)
        print(len(replicate_async.search_sync("llama", limit=1).models))
        print(len(asyncio.run(replicate_async.search("llama", limit=1)).models))
        hello = replicate_async.use("replicate/hello-world")
        print(hello.run_sync(text="f"))
        """,
        emu,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "hello a"
    assert lines[1] == "succeeded hello b"
    assert lines[2] == "hello c"
    assert lines[3] == "('hello d', 'hello d', 'hello d', 'hello d')"
    assert lines[4] == "('hello e', 'hello e', 'hello e', 'hello e')"
    assert lines[6:9] == ["1", "1", "hello f"]  # search (both forms) and use() of the module
    assert result.stderr == ""  # no "Unclosed client session", no ResourceWarning


@pytest.mark.parametrize("client_code", ["replicate_async.Client()", "None"])
def test_a_script_that_raises_exits_without_session_noise(
    client_code: str, emu: Emulator, tmp_path: Path
) -> None:
    result = run_script(
        f"""
        import replicate_async

        client = {client_code}
        if client is None:
            replicate_async.run_sync("replicate/hello-world", input={{"text": "x"}})
        else:
            client.run_sync("replicate/hello-world", input={{"text": "x"}})
            client.models.get("replicate/hello-world")
        raise RuntimeError("the script's own error")
        """,
        emu,
        tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.rstrip().endswith("RuntimeError: the script's own error")
    assert "Unclosed" not in result.stderr, result.stderr
    assert result.stderr.count("Traceback") == 1


def test_an_async_app_with_the_module_level_client_exits_clean(
    emu: Emulator, tmp_path: Path
) -> None:
    result = run_script(
        """
        import asyncio
        import replicate_async

        async def main():
            return await replicate_async.run("replicate/hello-world", input={"text": "z"})

        print(asyncio.run(main()))
        # a loop that is never closed (the old get_event_loop style)
        loop = asyncio.new_event_loop()
        print(loop.run_until_complete(main()))
        """,
        emu,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["hello z", "hello z"]
    assert "Unclosed" not in result.stderr, result.stderr


def test_blocking_calls_inside_a_running_loop_as_in_jupyter(emu: Emulator, tmp_path: Path) -> None:
    result = run_script(
        """
        import asyncio
        import replicate_async

        async def cell():
            # a notebook cell: a loop runs, yet blocking calls work, and so do awaits
            blocking = replicate_async.run_sync("replicate/hello-world", input={"text": "cell"})
            awaited = await replicate_async.run("replicate/hello-world", input={"text": "await"})
            return blocking, awaited

        print(asyncio.run(cell()))
        """,
        emu,
        tmp_path,
        dev_mode=False,  # asyncio debug mode reports the blocking call, as it should
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('hello cell', 'hello await')"
    assert "Unclosed" not in result.stderr and "Warning" not in result.stderr, result.stderr
