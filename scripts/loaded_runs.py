"""Run the test suite several times in a row while other processes keep every core busy.

The suite must pass on a loaded machine, not only on an idle one. This starts one busy-loop
process per core (``stress --cpu N``-style: pure CPU, no I/O), then runs the suite as
``make pytest`` does, ``--runs`` times in a row, and prints one line per run (result, tests,
wall time, load average) and a last line with the count of passing runs. It stops at the first
failing run unless ``--keep-going``. Exit status: 0 when every run passed.

Usage: ``python scripts/loaded_runs.py [--runs 5] [--load N] [--keep-going] [-- PYTEST_ARGS]``;
``make test-loaded`` passes the workers ``make pytest`` uses (``XDIST``) as PYTEST_ARGS.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]  # + the workers
PYTEST += ["-W", "error::ResourceWarning"]


def _spin() -> None:  # pragma: no cover - runs in the load processes
    while True:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--load", type=int, default=os.cpu_count() or 2, help="busy processes")
    parser.add_argument("--keep-going", action="store_true")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)

    load = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.load)]
    for process in load:
        process.start()
    passed = 0
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            done = subprocess.run(
                [*PYTEST, *args.pytest_args], cwd=ROOT, capture_output=True, text=True
            )
            took = time.monotonic() - started
            lines = done.stdout.strip().splitlines()
            summary = lines[-1] if lines else "(no output)"
            counts = re.sub(r"=+", "", summary).strip()
            ok = done.returncode == 0
            passed += ok
            print(
                f"run {run}: {'passed' if ok else 'FAILED'}  {counts}  wall {took:.1f} s  "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            if not ok:
                failures = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
                print("\n".join(failures or lines[-40:]), flush=True)
                if not args.keep_going:
                    break
    finally:
        for process in load:
            process.terminate()
        for process in load:
            process.join()
    print(f"{passed}/{args.runs} runs passed with {args.load} busy processes beside them")
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
