"""Run every benchmark in turn, then print one table: ``python -m benchmarks [--quick]``.

Each benchmark prints its figures (as ratios against a baseline measured in the same run) and
saves them as JSON under ``benchmarks/results/``. Then the summary: each figure, its baseline
from the same run, the ratio and the target, printed as one table and saved as
``benchmarks/results/summary.json`` and ``summary.md``, with a chart ``summary.png`` (ours, the
bare loop and, when installed under ``.venv/conformance``, the official clients) when
matplotlib (the ``bench`` extra) is installed.

``python -m benchmarks --summary`` redraws the table and chart from the saved results;
``--only fanout,stream`` runs a subset.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

Row = dict[str, Any]


def load(name: str, quick: bool) -> dict[str, Any] | None:
    path = RESULTS / (f"{name}.quick.json" if quick else f"{name}.json")
    if not path.exists():
        return None
    return dict(json.loads(path.read_text()))


def row(
    figure: str,
    ours: float | None,
    baseline: float | None,
    unit: str,
    target: str,
    ok: bool | None,
    baseline_name: str = "",
    official: dict[str, float] | None = None,
    ratio: float | None = None,
) -> Row:
    if ratio is None and ours is not None and baseline:
        ratio = ours / baseline
    return {
        "figure": figure,
        "ours": ours,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "unit": unit,
        "ratio": ratio,
        "target": target,
        "met": ok,
        "official": official or {},
    }


def collect(quick: bool) -> list[Row]:
    """The summary rows from the saved results (each benchmark's own JSON)."""
    rows: list[Row] = []
    fanout = load("fanout", quick)
    if fanout:
        for server, f in fanout["servers"].items():
            ours, bare = f["client_cpu_ms_per_prediction"], f["bare_aiohttp_cpu_ms_per_prediction"]
            rows.append(
                row(
                    f"fan-out: CPU per run(), {server}",
                    ours,
                    bare,
                    "ms",
                    "<= 1.25x",
                    ours / bare <= 1.25,
                    "bare aiohttp loop",
                    f.get("official_cpu_ms_per_prediction"),
                )
            )
            if "client_unguarded_cpu_ms_per_prediction" in f:
                rows.append(
                    row(
                        f"fan-out: run(cancel_on_exit=False), {server} (no lifetime guard)",
                        f["client_unguarded_cpu_ms_per_prediction"],
                        bare,
                        "ms",
                        "",
                        None,
                        "bare aiohttp loop",
                    )
                )
            if "client_validate_cpu_ms_per_prediction" in f:
                v = f["client_validate_cpu_ms_per_prediction"]
                rows.append(
                    row(
                        f"fan-out: run(validate=True), {server}",
                        v,
                        bare,
                        "ms",
                        "",
                        None,
                        "bare aiohttp loop",
                    )
                )
    stream = load("stream", quick)
    if stream:
        ours, naive = stream["client_cpu_us_per_event"], stream["naive_aiohttp_cpu_us_per_event"]
        rows.append(
            row(
                "stream: CPU per event",
                ours,
                naive,
                "µs",
                "<= 1.5x",
                ours / naive <= 1.5,
                "naive split loop",
                stream.get("official_cpu_us_per_event"),
            )
        )
    sse = load("sse", quick)
    if sse:
        ours, naive = sse["decoder_us_per_event"], sse["naive_us_per_event"]
        rows.append(row("SSE decoder: CPU per event", ours, naive, "µs", "", None, "split(b'\\n')"))
    notice = load("notice", quick)
    if notice:
        for name, f in notice["figures"].items():
            rows.append(
                row(
                    f"notice: {name}, median (p99 {f['p99_ms']:.0f} ms)",
                    f["median_ms"],
                    None,
                    "ms",
                    "<= 20 ms",
                    f["median_ms"] <= 20,
                )
            )
            calls = f["calls_beyond_create_per_run"]
            rows.append(
                row(f"notice: {name}, calls beyond create", calls, None, "", "<= 3", calls <= 3)
            )
    many = load("many", quick)
    if many:
        sides = many["sides"]
        ours, bare = sides["ours"]["kib_per_run"], sides["bare"]["kib_per_run"]
        errors = sides["ours"]["errors"]
        rows.append(
            row(
                f"many: {many['count']:,} at once, memory per run",
                ours,
                bare,
                "KiB",
                "<= 1.5x, 0 errors",
                ours / bare <= 1.5 and errors == 0,
                "bare loop",
            )
        )
        rows.append(
            row(
                f"many: wall time ({errors} errors)",
                sides["ours"]["wall_s"],
                sides["bare"]["wall_s"],
                "s",
                "",
                None,
                "bare loop",
            )
        )
    startup = load("startup", quick)
    if startup:
        base = startup["baseline_ms"]
        official = {
            f["name"].removeprefix("import replicate (").rstrip(")"): f["ms"]
            for f in startup["figures"]
            if f["name"].startswith("import replicate (")
        }
        for f in startup["figures"]:
            name = f["name"]
            if name == "import aiohttp" or name.startswith("import replicate ("):
                continue
            target = f["target_ratio"]
            rows.append(
                row(
                    f"start-up: {name}",
                    f["ms"],
                    base,
                    "ms",
                    f"<= {target}x" if target else "",
                    f["ratio_to_import_aiohttp"] <= target if target else None,
                    "import aiohttp",
                    official if name == "import replicate_async" else None,
                )
            )
    emulator = load("emulator", quick)
    if emulator:
        rate = emulator["one_core_capacity_per_second"]
        bare = emulator.get("bare_aiohttp_server", {}).get("one_core_capacity_per_second")
        rows.append(
            row(
                "emulator: instant predictions/s, one core (ratio: of the baseline's rate)",
                rate,
                bare,
                "/s",
                ">= 5,000",
                rate >= 5000,
                "bare aiohttp server, same answer",
            )
        )
    if stream and "emulator_events_per_second" in stream:
        rate = stream["emulator_events_per_second"]
        rows.append(
            row(
                "emulator: SSE events/s to one client",
                rate,
                None,
                "/s",
                ">= 100,000",
                rate >= 100_000,
            )
        )
    batch = load("batch", quick)
    if batch:
        b = batch["batch"]
        rows.append(
            row(
                f"batch: creates/min vs limit ({b['responses_429']} 429s)",
                b["creates_per_minute_sustained"],
                batch["create_limit_per_minute"],
                "/min",
                ">= 0.95x",
                b["fraction_of_limit"] >= 0.95,
                "the limit",
            )
        )
    ratelimit = load("ratelimit", quick)
    if ratelimit:
        f = ratelimit["fanout"]["5%"]
        rows.append(
            row(
                "rate limit: throughput at 5% random 429s",
                f["predictions_per_s"],
                ratelimit["fanout"]["0%"]["predictions_per_s"],
                "/s",
                ">= 0.8x",
                f["throughput_vs_0pct"] >= 0.8,
                "0% 429s",
            )
        )
    return rows


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(rows: list[Row]) -> str:
    """A Markdown table (also what is printed)."""
    lines = [
        "| figure | ours | baseline (same run) | ratio | target | met | official clients |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        unit = f" {r['unit']}" if r["unit"] else ""
        baseline = f"{fmt(r['baseline'])}{unit} ({r['baseline_name']})" if r["baseline"] else "—"
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "—"
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        official = ", ".join(f"{k}: {fmt(v)}{unit}" for k, v in r["official"].items())
        lines.append(
            f"| {r['figure']} | {fmt(r['ours'])}{unit} | {baseline} | {ratio} | "
            f"{r['target']} | {met} | {official} |"
        )
    return "\n".join(lines)


def chart(rows: list[Row], path: Path, caption: str) -> bool:
    """Ours, the baseline and the official clients, each as a multiple of the baseline."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no chart: install the bench extra, pip install -e '.[bench]')")
        return False
    # Costs only (lower is better): rates, where higher is better, stay in the table.
    compared = [
        r
        for r in rows
        if r["baseline"] and r["ours"] is not None and r["unit"] not in ("/min", "/s")
    ]
    compared = [r for r in compared if not r["figure"].startswith(("rate limit", "many: wall"))]
    notice = [r for r in rows if r["figure"].startswith("notice:") and "median" in r["figure"]]
    fig, (ax1, ax2) = plt.subplots(
        1, 2, figsize=(15, 0.55 * max(len(compared), 8) + 1.5), width_ratios=[3, 2]
    )
    series = ["baseline", "ours", *sorted({k for r in compared for k in r["official"]})]
    colors = {"baseline": "#9e9e9e", "ours": "#1f77b4"}
    palette = ["#d62728", "#ff7f0e", "#2ca02c"]
    for i, name in enumerate(series[2:]):
        colors[name] = palette[i % len(palette)]
    height = 0.8 / len(series)
    for i, r in enumerate(compared):
        values = {"baseline": 1.0, "ours": r["ours"] / r["baseline"]}
        for k, v in r["official"].items():
            values[k] = v / r["baseline"]
        for j, name in enumerate(series):
            if name not in values:
                continue
            y = i + (j - (len(series) - 1) / 2) * height
            ax1.barh(y, values[name], height=height, color=colors[name])
            if name != "baseline":
                ax1.text(values[name], y, f" {values[name]:.2f}x", va="center", fontsize=7)
        target = r["target"].removeprefix("<= ").split("x")[0]
        try:
            t = float(target)
        except ValueError:
            continue
        ax1.plot([t, t], [i - 0.45, i + 0.45], color="black", linestyle=":", linewidth=1.2)
    ax1.set_yticks(range(len(compared)))
    ax1.set_yticklabels([f"{r['figure']}\n(baseline: {r['baseline_name']})" for r in compared])
    ax1.tick_params(axis="y", labelsize=8)
    ax1.invert_yaxis()
    ax1.set_xscale("log")
    ticks = [t for t in (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50) if t <= ax1.get_xlim()[1]]
    ax1.set_xticks(ticks)
    ax1.set_xticklabels([f"{t:g}x" for t in ticks])
    ax1.minorticks_off()
    ax1.set_xlabel(
        "cost as a multiple of the baseline measured in the same run (log; lower is better)"
    )
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[n]) for n in series]
    labels = ["baseline (bare loop / import aiohttp)", "replicate_async", *series[2:]]
    handles.append(plt.Line2D([0], [0], color="black", linestyle=":"))
    labels.append("target")
    ax1.legend(handles, labels, loc="lower right", fontsize=8)
    ax1.set_title("Side by side (same run)")
    if notice:
        names = [r["figure"].removeprefix("notice: ").split(", median")[0] for r in notice]
        medians = [r["ours"] for r in notice]
        p99 = [float(r["figure"].split("(p99 ")[1].split(" ms")[0]) for r in notice]
        ys = range(len(notice))
        ax2.barh([y - 0.2 for y in ys], medians, height=0.4, color=colors["ours"], label="median")
        ax2.barh([y + 0.2 for y in ys], p99, height=0.4, color="#aec7e8", label="p99")
        ax2.axvline(20, color="black", linestyle=":", label="target (median)")
        ax2.set_yticks(list(ys))
        ax2.set_yticklabels(names, fontsize=8)
        ax2.invert_yaxis()
        ax2.set_xlabel("ms from the emulator marking it done to run() returning")
        ax2.set_title("Noticing completion (3-second predictions)")
        ax2.legend(fontsize=8)
    fig.suptitle(caption, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def measured_span(quick: bool) -> str | None:
    """When the saved results were measured (``2026-12-03 09:34–09:40 UTC``), from their
    ``measured_at``; None when one of them does not say."""
    stamps = []
    for script in sorted(HERE.glob("bench_*.py")):
        result = load(script.stem.removeprefix("bench_"), quick)
        if result is None:
            continue
        if "measured_at" not in result:
            return None
        stamps.append(str(result["measured_at"]))
    if not stamps:
        return None
    first, last = min(stamps), max(stamps)
    day, start, end = first[:10], first[11:16], last[11:16]
    if last[:10] != day:
        return f"{day} {start} UTC to {last[:10]} {end} UTC"
    return f"{day} {start}\u2013{end} UTC" if start != end else f"{day} {start} UTC"


def summarize(quick: bool, elapsed: float | None = None, redraw: bool = False) -> None:
    """Print and save the table and chart of the saved results; ``redraw``: from results of
    an earlier run (the caption then says when they were measured, not the load now)."""
    rows = collect(quick)
    load_avg = os.getloadavg()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    if redraw:
        measured = measured_span(quick) or "at a time the results do not record"
        caption = f"measured {measured}; table redrawn {now} on {machine}"
        made = measured
    else:
        made = now
        caption = f"{made} on {machine}; load average {load_avg[0]:.1f} at the end"
    if quick:
        caption += " (--quick: smoke run, not the published figures)"
    text = table(rows)
    print(f"\n{caption}\n\n{text}")
    suffix = ".quick" if quick else ""
    info = {"made": made, "machine": machine, "load_average": load_avg, "elapsed_s": elapsed}
    (RESULTS / f"summary{suffix}.json").write_text(
        json.dumps({**info, "rows": rows}, indent=2) + "\n"
    )
    (RESULTS / f"summary{suffix}.md").write_text(f"{caption}\n\n{text}\n")
    png = RESULTS / f"summary{suffix}.png"
    if chart(rows, png, caption):
        print(f"\nchart: {png}")


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    if "--summary" in argv:
        summarize(quick, redraw=True)
        return 0
    only: set[str] | None = None
    if "--only" in argv:
        only = set(argv[argv.index("--only") + 1].split(","))
    passed = [a for a in argv if a == "--quick"]
    failed = []
    start = time.monotonic()
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if only is not None and name not in only:
            continue
        print(f"== {script.stem}", flush=True)
        code = subprocess.call([sys.executable, str(script), *passed])
        if code:
            failed.append(script.stem)
    elapsed = time.monotonic() - start
    summarize(quick, elapsed)
    print(f"\n{elapsed:.0f} s in all")
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
