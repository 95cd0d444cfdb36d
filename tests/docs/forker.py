"""A fork server for the documentation examples: import once, fork a fresh process per example.

Started once per test process (``python forker.py``); it imports what examples import, then
reads one JSON job per line on stdin and answers one JSON line on stdout. Each job runs in a
forked child exactly as ``python example.py`` would run it: its own working directory,
environment, ``sys.argv`` and ``sys.path[0]``, ``-W error::ResourceWarning``, stdout and stderr
to files, ``__main__`` as its name, and a normal interpreter exit (atexit handlers and
finalisers run). What it saves is the interpreter start and the imports, about 0.4 s an example.
The parent never starts a thread or an event loop, so forking it is safe.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import time
import traceback
import warnings


def _run_child(job: dict[str, object]) -> None:
    """In the child: become the example's process, run it, exit like a script would."""
    for fd, path in ((1, job["stdout"]), (2, job["stderr"])):
        target = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(0, closefd=False)
    os.chdir(str(job["cwd"]))
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in dict(job["env"]).items()})  # type: ignore[call-overload]
    script = str(job["script"])
    sys.argv = [script]
    sys.path[0] = os.path.dirname(script)
    warnings.simplefilter("error", ResourceWarning)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        raise SystemExit(1) from None
    raise SystemExit(0)


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
    import replicate_async.webhooks  # noqa: F401

    for line in sys.stdin:
        job = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_child(job)  # raises SystemExit: the child exits as a script would
        answer = _wait(pid, float(job["timeout"]))
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
