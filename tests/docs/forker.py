"""A fork server for the documentation examples: import once, fork a fresh process per example.

Started once per test process (``python forker.py``); it imports what examples import, then
reads one JSON job per line on stdin and answers one JSON line on stdout. Each job runs in a
forked child exactly as ``python example.py`` would run it: its own working directory,
environment, ``sys.argv`` and ``sys.path[0]``, ``-W error::ResourceWarning``, stdout and stderr
to files, ``__main__`` as its name, and an interpreter exit as a script sees it (threads
joined, atexit handlers and finalisers run; see ``_exit``). What it saves is the interpreter
start, the imports and the modules' tear-down, about 0.6 s of CPU an example.
The parent never starts a thread or an event loop, so forking it is safe.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from script_child import run_as_script  # shared by both fork servers

sys.path.pop(0)


def _run_child(job: dict[str, object]) -> NoReturn:
    """In the child: become the example's process, run it, exit like a script would."""
    warnings.simplefilter("error", ResourceWarning)
    _exit(run_as_script(job))


def _exit(code: object) -> NoReturn:
    """Exit as the interpreter does, minus tearing down the modules the parent had loaded.

    What a script can observe of its exit still happens, in the interpreter's order: thread
    pools are shut down and non-daemon threads joined (``threading._shutdown``, as the
    interpreter does), its atexit handlers run, its garbage is collected (so an
    unclosed session's finaliser still warns), its output is flushed; a non-integer exit code
    is printed first. Skipped is only clearing the ~450 modules inherited from the fork
    server, which costs about 0.1 s of CPU an example and which no example can see.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    threading._shutdown()  # type: ignore[attr-defined]  # what the interpreter calls first
    atexit._run_exitfuncs()
    gc.collect()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _wait(pid: int, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return {"returncode": os.waitstatus_to_exitcode(status), "timed_out": False}
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return {"returncode": None, "timed_out": True}
        time.sleep(0.005)


def main() -> None:
    import aiohttp  # noqa: F401  (what the examples import, loaded once)

    import replicate_async
    import replicate_async.emulator
    import replicate_async.webhooks

    # The package loads its names on first use: load them all here, or every example would
    # import the client, the types and the emulator again (about 0.15 s of CPU each).
    for module in (replicate_async, replicate_async.emulator, replicate_async.webhooks):
        for name in module.__all__:
            getattr(module, name)

    # Objects loaded so far are never collected: children then do not copy the pages a
    # collection would touch.
    gc.freeze()
    for line in sys.stdin:
        job = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_child(job)  # never returns: the child exits as a script would
        answer = _wait(pid, float(job["timeout"]))
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
