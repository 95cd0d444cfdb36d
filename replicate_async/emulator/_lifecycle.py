"""The prediction/training engine: real-time, asyncio-driven state transitions.

starting -> processing -> succeeded | failed | canceled | aborted. Each running job is one
task sleeping between steps (no polling); jobs whose model takes no time complete
synchronously inside the create request.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import heapq
import itertools
from collections.abc import Awaitable
from typing import Any
from urllib.parse import unquote_to_bytes

import aiohttp

from ._catalog import ModelSpec, VersionSpec, emulator_version_id
from ._clock import RealClock, TimerHandle
from ._jobs import Job
from ._png import render_png
from ._ports import Host, RunnerGen
from ._runners import RUNNERS, ModelError
from ._state import DeliveryFile
from ._util import delivery_token, dumps, format_ts, format_ts_ns, new_id, stream_token

__all__ = ["Engine"]

_FILE_OUTPUT_KINDS = frozenset({"image"})


class Engine:
    """Creates jobs and drives them through their lifecycle."""

    def __init__(self, core: Host) -> None:
        self.core = core
        self.options = core.options
        self.rng = core.rng
        self.store = core.store
        # Retention: one timer for the earliest expiry, not one per prediction. Entries are
        # (due on clock.monotonic(), order, job); the sweep removes what is due, in order.
        self._expiring: list[tuple[float, int, Job]] = []
        self._expiry_order = itertools.count()
        self._sweep_timer: TimerHandle | None = None
        self._sweep_at = 0.0

    # -- creation --------------------------------------------------------------------------
    def create(
        self,
        *,
        kind: str,
        model: ModelSpec,
        version: VersionSpec,
        reported_version: str,
        input: dict[str, Any],
        run_input: dict[str, Any],
        deployment: str | None = None,
        webhook: str | None = None,
        webhook_events_filter: tuple[str, ...] | None = None,
        cancel_after: float | None = None,
        destination: ModelSpec | None = None,
    ) -> Job:
        core = self.core
        clock = core.clock
        now_ns = clock.time_ns()
        now = now_ns / 1e9
        jid = new_id(self.rng)
        collection = "trainings" if kind == "training" else "predictions"
        get_url = f"{core.api_url}/{collection}/{jid}"
        urls = {"get": get_url, "cancel": get_url + "/cancel"}
        if self.options.web_urls and kind == "prediction":  # trainings have no web URL
            urls["web"] = f"https://replicate.com/p/{jid}"
        stream_path = None
        if kind == "prediction" and model.streams:
            # Recorded shapes: text streams at /v1/predictions/{id}, file-output streams at
            # /v1/files/{token}. Both are capability URLs (no token needed to read them).
            if version.kind in _FILE_OUTPUT_KINDS:
                stream_path = f"/v1/files/{stream_token(self.rng)}"
            else:
                stream_path = f"/v1/predictions/{jid}"
            urls["stream"] = core.stream_url + stream_path
        job = Job(
            kind=kind,
            id=jid,
            model=model.ref,
            version=reported_version,
            input=input,
            run_input=run_input,
            created_at=now,
            created_at_str=format_ts_ns(now_ns, self.rng),
            created_at_ns=now_ns,
            urls=urls,
            seq=self.store.next_seq(),
            deployment=deployment,
            webhook=webhook,
            webhook_events_filter=webhook_events_filter,
            clock=clock,
        )
        if stream_path is not None:
            self.store.streams[stream_path] = job
        if kind == "training":
            self.store.trainings[jid] = job
            job.extra["destination"] = destination
            job.extra["source_version"] = version
            self.store.stats.trainings_created += 1
        else:
            self.store.predictions[jid] = job
            self.store.stats.predictions_created += 1
        model.run_count += 1
        loop = asyncio.get_running_loop()
        if cancel_after is not None:
            job.deadline_str = format_ts(now + cancel_after, self.rng)
            delay = cancel_after * self.options.time_scale
            job.timers.append(clock.call_later(delay, self._deadline, job))
        self.core.webhooks.notify(job, "start")

        override = self.options.model_timings.get(model.ref)
        run_s: float | None
        if override is not None:
            queue_s, run_s = float(override[0]), float(override[1])
        else:
            queue_s, run_s = model.queue_s, (None if model.kind == "llm" else model.run_s)
        runner = RUNNERS["training" if kind == "training" else version.kind]
        gen = runner(self, job, run_input, run_s)
        queue_delay = queue_s * self.options.time_scale
        if queue_delay <= 0:
            self._start(job)
            pending = self._advance(job, gen, None)
            if pending is not None:
                job.task = loop.create_task(self._run(job, gen, 0.0, pending))
        else:
            job.task = loop.create_task(self._run(job, gen, queue_delay, None))
        return job

    # -- driving ---------------------------------------------------------------------------
    def _advance(self, job: Job, gen: RunnerGen, send: Any) -> float | Awaitable[Any] | None:
        """Run the generator until it needs to wait; None once the job is terminal."""
        scale = self.options.time_scale
        try:
            while True:
                item = gen.send(send)
                send = None
                if isinstance(item, (int, float)):
                    delay = item * scale
                    if delay > 0:
                        return delay
                else:
                    return item
        except StopIteration:
            drawing = self._draw_for_waiters(job)
            if drawing is not None:
                return drawing  # then the generator is found done again, and the job ends
            self._succeed(job)
        except ModelError as exc:
            self._fail(job, str(exc))
        except Exception as exc:  # a bug in a runner must not kill the server
            self._fail(job, f"{type(exc).__name__}: {exc}")
        return None

    async def _run(
        self,
        job: Job,
        gen: RunnerGen,
        queue_delay: float,
        pending: float | Awaitable[Any] | None,
    ) -> None:
        try:
            if pending is None:
                await self.core.clock.sleep(queue_delay)
                if job.terminal:
                    return
                self._start(job)
                pending = self._advance(job, gen, None)
            if pending is not None and self.options.max_run_time:
                limit = self.options.max_run_time * self.options.time_scale
                job.timers.append(self.core.clock.call_later(limit, self._timeout, job))
            while pending is not None:
                send: Any = None
                if isinstance(pending, float):
                    await self.core.clock.sleep(pending)
                else:
                    try:
                        send = await pending
                    except ModelError as exc:
                        self._fail(job, str(exc))
                        return
                if job.terminal:
                    return
                pending = self._advance(job, gen, send)
        finally:
            gen.close()

    def _start(self, job: Job) -> None:
        now = self.core.clock.time()
        job.status = "processing"
        job.started_at = now
        job.started_at_str = format_ts(now, self.rng)

    # -- emitted by runners ------------------------------------------------------------------
    def log(self, job: Job, line: str) -> None:
        if job.terminal:
            return
        job.add_log(line + "\n")
        self._publish(job, "logs", line)

    def emit(self, job: Job, item: str) -> None:
        """Append one item to an iterator output (a token, a file URL)."""
        if job.terminal:
            return
        if job.first_token_at is None:
            job.first_token_at = self.core.clock.time()
        job.output.append(item)
        self._publish(job, "output", item)

    def set_output(self, job: Job, value: Any) -> None:
        if job.terminal:
            return
        job.output = value
        self._publish(job, "output", value if isinstance(value, str) else dumps(value))

    def _publish(self, job: Job, event: str, data: str) -> None:
        """Record a ``logs``/``output`` event, wake the job's readers and notify its webhook."""
        job.add_event(event, data)
        job.changed.notify()
        self.core.webhooks.notify(job, event)

    def add_png(self, job: Job, name: str, width: int, height: int, key: str) -> str:
        path = f"/pbxt/{delivery_token(job.id + name)}/{name}"
        self.store.delivery[path] = DeliveryFile(
            "image/png", render=lambda: render_png(width, height, key)
        )
        job.file_paths.append(path)
        return self.core.delivery_url + path

    async def fetch_input(self, url: str) -> tuple[bytes, str]:
        """Read a file input the way a model would: data URI, uploaded file, or URL."""
        core = self.core
        if url.startswith("data:"):
            header, _, payload = url[5:].partition(",")
            content_type = header.split(";")[0] or "text/plain"
            if header.endswith(";base64"):
                return base64.b64decode(payload), content_type
            return unquote_to_bytes(payload), content_type
        files_prefix = core.api_url + "/files/"
        if url.startswith(files_prefix):
            fid = url[len(files_prefix) :].split("/")[0].split("?")[0]
            upload = self.store.files.get(fid)
            if upload is None:
                raise ModelError(f"Failed to download {url}: 404 Not Found")
            return upload.data, upload.content_type
        if url.startswith(core.delivery_url + "/"):
            delivered = self.store.delivery.get(url[len(core.delivery_url) :])
            if delivered is None:
                raise ModelError(f"Failed to download {url}: 404 Not Found")
            return delivered.content(), delivered.content_type
        if not url.startswith(("http://", "https://")):
            raise ModelError(f"Unsupported file URL: {url[:80]}")
        try:
            timeout = aiohttp.ClientTimeout(total=10)
            async with core.http().get(url, timeout=timeout) as resp:
                if resp.status >= 400:
                    raise ModelError(f"Failed to download {url}: {resp.status}")
                return await resp.read(), resp.content_type
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise ModelError(f"Failed to download {url}: {exc!r}") from exc

    def finish_training(self, job: Job) -> None:
        dest: ModelSpec = job.extra["destination"]
        source: VersionSpec = job.extra["source_version"]
        schema = source.trained_schema or source.openapi_schema
        kind = source.kind
        now = self.core.clock.time()
        version = VersionSpec(
            id=emulator_version_id("trained:" + job.id),
            created_at=format_ts(now, self.rng),
            cog_version=source.cog_version,
            openapi_schema=copy.deepcopy(schema),
            kind=kind,
        )
        self.core.catalog.add_version(dest, version)
        path = f"/pbxt/{delivery_token(job.id)}/trained_model.tar"
        self.store.delivery[path] = DeliveryFile(
            "application/x-tar", data=hashlib.sha256(job.id.encode()).digest() * 64
        )
        job.output = {
            "version": f"{dest.ref}:{version.id}",
            "weights": self.core.delivery_url + path,
        }

    def _draw_for_waiters(self, job: Job) -> Awaitable[None] | None:
        """The files a waiting create will answer with inline, drawn before the job ends (a
        model writes its outputs, then completes) and off the event loop where the clock is
        real: zlib releases the interpreter lock, so the server keeps answering meanwhile.
        None when nobody waits or everything is drawn."""
        if not job.sync_waiters or self.options.sync_urls:
            return None
        files = [self.store.delivery.get(path) for path in job.file_paths]
        undrawn = [f for f in files if f is not None and f.data is None]
        if not undrawn:
            return None

        def draw() -> None:
            for found in undrawn:
                found.content()

        if not isinstance(self.core.clock, RealClock):  # virtual time: no real-time waits
            draw()
            return None
        return asyncio.to_thread(draw)

    # -- endings ---------------------------------------------------------------------------
    def _succeed(self, job: Job) -> None:
        if self.options.sync_quirk or (job.file_paths and not self.options.sync_urls):
            # A sync-mode wait ends once every output exists, before the job is terminal.
            job.quirk_snapshot = snapshot = _sync_answer(job.to_json())
            if job.sync_waiters:
                # The files a waiting create answers with inline exist before the prediction
                # completes (``_draw_for_waiters``): inline them now, so ``completed_at`` is
                # not stamped before that work.
                snapshot["output"] = self.inline_files(snapshot.get("output"))
            job.finished.notify()
        self._finish(job, "succeeded")
        job.add_event("done", "{}")
        self._after(job)

    def _fail(self, job: Job, error: str) -> None:
        if job.terminal:
            return
        job.error = error
        self._finish(job, "failed")
        job.add_json_event("error", {"detail": error})
        job.add_json_event("done", {"reason": "error"})
        self._after(job)

    def cancel(self, job: Job, status: str = "canceled") -> None:
        if job.terminal:
            return
        self._finish(job, status)
        job.add_json_event("done", {"reason": "canceled"})
        if job.task is not None and job.task is not asyncio.current_task():
            job.task.cancel()
        self._after(job)

    def _deadline(self, job: Job) -> None:
        self.cancel(job, "aborted" if job.status == "starting" else "canceled")

    def _timeout(self, job: Job) -> None:
        if not job.terminal:
            self._fail(job, "Prediction timed out")
            if job.task is not None:
                job.task.cancel()

    def _finish(self, job: Job, status: str) -> None:
        now = self.core.clock.time()
        job.status = status
        job.completed_at = now
        job.completed_at_str = format_ts(now, self.rng)
        metrics: dict[str, Any] = {}
        if job.started_at is not None:
            predict = now - job.started_at
            metrics["predict_time"] = round(predict, 6)
            count = job.extra.get("input_token_count")
            if count is not None and isinstance(job.output, list):
                n = len(job.output)
                metrics["input_token_count"] = count
                metrics["output_token_count"] = n
                if job.first_token_at is not None:
                    metrics["time_to_first_token"] = round(job.first_token_at - job.started_at, 6)
                metrics["tokens_per_second"] = round(n / predict, 3) if predict > 0 else float(n)
        metrics["total_time"] = round(now - job.created_at, 6)
        job.metrics = metrics

    def _after(self, job: Job) -> None:
        for timer in job.timers:
            timer.cancel()
        job.timers.clear()
        job.changed.notify()
        job.finished.notify()
        self.core.webhooks.notify(job, "completed")
        if job.kind == "prediction":
            self._retain(job)

    def _retain(self, job: Job) -> None:
        """Schedule the data removal of a finished prediction ``retention`` seconds on."""
        clock = self.core.clock
        now = clock.monotonic()
        due = now + self.options.retention
        heapq.heappush(self._expiring, (due, next(self._expiry_order), job))
        if self._sweep_timer is None or due < self._sweep_at:
            if self._sweep_timer is not None:
                self._sweep_timer.cancel()
            self._sweep_at = due
            self._sweep_timer = clock.call_later(due - now, self._sweep)

    def _sweep(self) -> None:
        self._sweep_timer = None
        clock = self.core.clock
        now = clock.monotonic()
        expiring = self._expiring
        # A timer may fire a hair before its instant (clock resolution, float rounding).
        while expiring and expiring[0][0] <= now + 1e-6:
            _, _, job = heapq.heappop(expiring)
            self.remove_data(job)
        if expiring:
            self._sweep_at = expiring[0][0]
            self._sweep_timer = clock.call_later(max(0.0, self._sweep_at - now), self._sweep)

    def remove_data(self, job: Job) -> None:
        """What happens an hour after completion: inputs, outputs, logs and files go."""
        job.data_removed = True
        job.output = None
        job.input = {}
        job.run_input = {}
        job.clear_logs()
        job.quirk_snapshot = None
        job.events = [e for e in job.events if e[2] in ("error", "done")]
        for path in job.file_paths:
            self.store.delivery.pop(path, None)
        job.timers.clear()

    # -- sync mode -------------------------------------------------------------------------
    async def wait(self, job: Job, timeout: float) -> dict[str, Any]:
        """Hold a ``Prefer: wait`` request until the job ends, or until its output is complete
        (file outputs; every output with ``sync_quirk``), or ``timeout`` seconds pass; return
        the body to send."""
        clock = self.core.clock
        end = clock.monotonic() + timeout
        job.sync_waiters += 1
        try:
            while not job.terminal and job.quirk_snapshot is None:
                remaining = end - clock.monotonic()
                if remaining <= 0:
                    break
                await job.finished.wait(remaining, clock)
        finally:
            job.sync_waiters -= 1
        snapshot = job.quirk_snapshot
        if snapshot is None:
            return job.to_json()
        body = dict(snapshot)
        body["output"] = self.inline_files(body.get("output"))
        return body

    def inline_files(self, value: Any) -> Any:
        """Replace delivery URLs with ``data:`` URIs (what sync mode answers); a value already
        inlined is left as it is."""
        prefix = self.core.delivery_url
        if isinstance(value, str) and value.startswith(prefix + "/"):
            found = self.store.delivery.get(value[len(prefix) :])
            if found is None:
                return value
            encoded = base64.b64encode(found.content()).decode()
            return f"data:{found.content_type};base64,{encoded}"
        if isinstance(value, list):
            return [self.inline_files(v) for v in value]
        return value

    def shutdown(self) -> None:
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
            self._sweep_timer = None
        for jobs in (self.store.predictions, self.store.trainings):
            for job in jobs.values():
                for timer in job.timers:
                    timer.cancel()
                job.timers.clear()
                if job.task is not None and not job.task.done():
                    job.task.cancel()
                job.changed.notify()  # let SSE readers see that the server is closing


def _sync_answer(body: dict[str, Any]) -> dict[str, Any]:
    """The early sync-mode answer, shaped as recorded (replicate-python cassettes
    ``test_predictions_create_blocking[*]`` for SDXL, ``test_models_predictions_create_blocking``
    for Llama 3): ``status: processing``, the complete output, ``logs: ""`` and no
    ``started_at``, ``completed_at``, ``metrics`` or ``source``."""
    for key in ("started_at", "completed_at", "metrics", "source"):
        body.pop(key, None)
    body["logs"] = ""
    return body
