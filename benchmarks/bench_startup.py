"""Benchmark: start-up, how long a fresh interpreter takes to import the package or show help.

Each command runs in a new process, ``--runs`` times, interleaved (so load on the machine
affects every command alike); the median wall time of each is compared with the median of
``python -c "import aiohttp"`` measured in the same run:

* ``python -c "import replicate_async"`` (target: at most 1.2x);
* ``python -c "from replicate_async import Client"``: what a program that makes a client pays
  (no target of its own; reported so the lazy package import does not hide it);
* ``replicate-async --help`` (target: at most 1.5x);
* ``python -c "import replicate"`` for the official clients installed under
  ``.venv/conformance`` (for comparison, when present).

Run: ``.venv/bin/python benchmarks/bench_startup.py [--quick] [--runs N]``; writes
``benchmarks/results/startup.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import official_clients, platform_info, save

PY = sys.executable
CLI = str(Path(PY).with_name("replicate-async"))


def commands() -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (argv, extra environment)."""
    cmds: dict[str, tuple[list[str], dict[str, str]]] = {
        "import aiohttp": ([PY, "-c", "import aiohttp"], {}),
        "import replicate_async": ([PY, "-c", "import replicate_async"], {}),
        "from replicate_async import Client": (
            [PY, "-c", "from replicate_async import Client"],
            {},
        ),
        "replicate-async --help": ([CLI, "--help"], {}),
    }
    for label, path in official_clients().items():
        cmds[f"import replicate ({label})"] = ([PY, "-c", "import replicate"], {"PYTHONPATH": path})
    return cmds


def measure(runs: int) -> dict[str, list[float]]:
    cmds = commands()
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for argv, env in cmds.values():  # one untimed run each: .pyc files, disk cache
        subprocess.run(argv, env={**os.environ, **env}, check=True, capture_output=True)
    for _ in range(runs):
        for name, (argv, env) in cmds.items():
            environ = {**os.environ, **env}
            start = time.perf_counter()
            subprocess.run(argv, env=environ, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 3
    times = measure(args.runs)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    base = medians["import aiohttp"]
    targets = {"import replicate_async": 1.2, "replicate-async --help": 1.5}
    figures = []
    print(f"start-up, median of {args.runs} fresh processes each (wall ms):")
    for name, ms in medians.items():
        ratio = ms / base
        target = targets.get(name)
        figures.append(
            {
                "name": name,
                "ms": round(ms, 1),
                "ratio_to_import_aiohttp": round(ratio, 3),
                "target_ratio": target,
            }
        )
        note = f" (target <= {target}x)" if target else ""
        print(f"  {name:40s}: {ms:7.1f} ms  {ratio:5.2f}x{note}")
    result = {
        "runs": args.runs,
        "baseline": "import aiohttp",
        "baseline_ms": round(base, 1),
        "figures": figures,
        "load_average": os.getloadavg(),
        "quick": args.quick,
        **platform_info(),
    }
    save("startup", result)
    return result


if __name__ == "__main__":
    main()
