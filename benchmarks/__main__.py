"""Run every benchmark in turn: ``python -m benchmarks [--quick]``.

Each benchmark prints its figures (as ratios against a baseline measured in the same run)
and saves them as JSON under ``benchmarks/results/``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.stem}", flush=True)
        code = subprocess.call([sys.executable, str(script), *argv])
        if code:
            failed.append(script.stem)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
