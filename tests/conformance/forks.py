"""The asyncio side of ``fork_server.py``: run scenario scripts of one official client as
forked children of a server that has imported the client's dependencies once."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

SERVER = Path(__file__).with_name("fork_server.py")

# What both official clients import from their directory besides ``replicate`` (the slow
# part of their start: about 0.3 s of CPU). ``replicate`` itself is imported by each script.
DEPENDENCIES = (
    "anyio",
    "certifi",
    "distro",
    "h11",
    "httpcore",
    "httpx",
    "idna",
    "packaging.version",
    "pydantic",
    "sniffio",
    "typing_extensions",
)


def _read(path: Path) -> bytes:
    """What the child wrote (a small local file, read once it has ended)."""
    return path.read_bytes()


class ScriptTimeout(Exception):
    """The script did not end in time; it was killed. Carries what it printed."""

    def __init__(self, stdout: bytes, stderr: bytes) -> None:
        super().__init__("the script did not end in time")
        self.stdout = stdout
        self.stderr = stderr


class ForkServer:
    """One ``fork_server.py`` process, started with ``env`` (its ``PYTHONPATH`` names the
    client's directory); :meth:`run` may be awaited by several scenarios at once."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._started: dict[str, asyncio.Future[int]] = {}
        self._ended: dict[str, asyncio.Future[int]] = {}
        self._ids = itertools.count()
        self._lock = asyncio.Lock()

    async def _ensure_started(self) -> asyncio.subprocess.Process:
        async with self._lock:
            if self._process is None:
                self._process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-s",
                    str(SERVER),
                    *DEPENDENCIES,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    env=self._env,
                )
                self._reader = asyncio.create_task(self._read(self._process))
            return self._process

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            message = json.loads(line)
            if "pid" in message:
                self._started.pop(message["id"]).set_result(message["pid"])
            else:
                self._ended.pop(message["id"]).set_result(message["returncode"])
        for waiting in (*self._started.values(), *self._ended.values()):
            if not waiting.done():
                waiting.set_exception(RuntimeError("the fork server ended"))

    async def run(
        self, script: Path, cwd: str, env: dict[str, str], timeout: float
    ) -> tuple[int, bytes, bytes]:
        """Run ``script`` as ``python -s script`` would, in ``cwd`` with ``env``: its exit
        code, stdout and stderr. Raises :class:`ScriptTimeout` (after killing it)."""
        process = await self._ensure_started()
        assert process.stdin is not None
        loop = asyncio.get_running_loop()
        job_id = str(next(self._ids))
        started = self._started[job_id] = loop.create_future()
        ended = self._ended[job_id] = loop.create_future()
        with tempfile.TemporaryDirectory(prefix="conformance-out-") as out:
            stdout, stderr = Path(out, "stdout"), Path(out, "stderr")
            job = {"id": job_id, "script": str(script), "cwd": cwd, "env": env}
            job.update(stdout=str(stdout), stderr=str(stderr))
            process.stdin.write((json.dumps(job) + "\n").encode())
            await process.stdin.drain()
            pid = await started
            try:
                returncode = await asyncio.wait_for(asyncio.shield(ended), timeout)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                await ended
                raise ScriptTimeout(_read(stdout), _read(stderr)) from None
            return returncode, _read(stdout), _read(stderr)

    async def aclose(self) -> None:
        if self._process is None:
            return
        assert self._process.stdin is not None
        self._process.stdin.close()
        await self._process.wait()
        if self._reader is not None:
            await self._reader
