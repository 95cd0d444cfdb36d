"""What the tests' fork servers (``docs/forker.py``, ``conformance/fork_server.py``) do in a
forked child: become the process ``python script.py`` would have started, and run the script.

Imported by those servers from this folder before they fork; nothing else uses it.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import traceback
from collections.abc import Mapping
from typing import Any

__all__ = ["run_as_script"]


def run_as_script(job: Mapping[str, Any]) -> object:
    """Become the process of ``job["script"]`` and run it; return its exit code as
    ``SystemExit`` carries it (``None``, an int, or a message), 1 after an uncaught exception
    (its traceback printed to stderr), or 0. The caller exits with it.

    As ``python script.py`` would have it: stdout and stderr to the files ``job`` names, stdin
    from /dev/null, ``job["cwd"]`` as the working directory, exactly ``job["env"]`` as the
    environment, ``sys.argv`` and ``sys.path[0]`` of the script, Ctrl-C raising
    ``KeyboardInterrupt``, and ``__main__`` as its name.
    """
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
    os.environ.update({str(k): str(v) for k, v in dict(job["env"]).items()})
    script = str(job["script"])
    sys.argv = [script]
    sys.path[0] = os.path.dirname(script)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        return exc.code
    except BaseException:
        traceback.print_exc()
        return 1
    return 0
