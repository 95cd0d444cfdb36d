"""A fork server for one official client's scenarios: its dependencies imported once.

Started by ``forks.py`` as ``python -s fork_server.py MODULE...`` with ``PYTHONPATH`` at the
client's directory. It imports the third-party modules named on its command line (httpx,
pydantic, ...; never ``replicate`` itself, which each scenario imports as a user's script
does), then reads one JSON job per line on stdin and forks a child per job. Jobs run side by
side: the server answers ``{"id", "pid"}`` when a child starts and ``{"id", "returncode"}``
when it ends, and never waits for one child before starting the next.

A child runs the scenario exactly as ``python -s script.py`` would: its own working directory
and environment, ``sys.argv`` and ``sys.path[0]``, stdin from /dev/null, stdout and stderr to
the files the job names, ``__main__`` as its name, and the interpreter's full exit (atexit
handlers, finalisers, module tear-down), so what a client prints at exit is still seen. What
it saves is the interpreter start and the dependencies' imports: about 0.3 s of CPU a scenario.
The server never starts a thread or an event loop, so forking it is safe.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import sys
from pathlib import Path
from typing import Any, NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from script_child import run_as_script  # shared by both fork servers

sys.path.pop(0)


def _child(job: dict[str, Any]) -> NoReturn:
    # SystemExit: the child ends through the interpreter's full exit, as a script does.
    raise SystemExit(run_as_script(job))


def _answer(message: dict[str, Any]) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())


def main() -> None:
    for name in sys.argv[1:]:
        try:
            importlib.import_module(name)
        except ImportError:  # not a dependency of this client
            pass
    running: dict[int, str] = {}  # pid -> job id
    pending = b""
    stdin_open = True
    while stdin_open or running:
        readable, _, _ = select.select([0] if stdin_open else [], [], [], 0.005)
        if readable:
            chunk = os.read(0, 65536)
            if not chunk:
                stdin_open = False
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                job = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(job)  # raises SystemExit: the child exits as a script would
                running[pid] = job["id"]
                _answer({"id": job["id"], "pid": pid})
        while running:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            job_id = running.pop(pid)
            _answer({"id": job_id, "returncode": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    main()
