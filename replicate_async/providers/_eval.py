"""Running an eval: every test × prompt × provider through the batch engine, and the results.

Each provider runs its cases as one ``client.batch`` (bounded concurrency, the client's rate
limiter, remote predictions canceled if the eval is interrupted); providers run side by side.
A case that fails (a refused create, a failed prediction, output a moderation model should not
print) becomes a result with its error; so does every case of a provider whose model cannot be
found. Results come back in case order (test-major, then prompt, then provider).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .. import Client, FileOutput, ReplicateAsyncError, ReplicateError, blocking
from ._config import ProviderKind
from ._eval_assert import Assertion, AssertionResult, check
from ._eval_config import EvalCase, EvalConfig
from ._prompt import ModerationResult
from ._provider import Output, PreparedInput, ReplicateProvider, Unsupported

if TYPE_CHECKING:
    from ..types import Prediction

__all__ = ["EvalResult", "run_eval", "run_eval_sync", "write_results", "write_results_sync"]

DEFAULT_EVAL_CONCURRENCY = 8


@attrs.frozen
class EvalResult:
    """The outcome of one case.

    ``output`` is text, a list of files or a :class:`ModerationResult` (None after an error);
    ``error`` the error's message, ``error_type`` its class name, and for API errors ``status``
    and ``detail`` (PEER-DEFECT 30: a refused create shows its HTTP status and ``detail``).
    ``input`` is what was sent; ``files`` the paths :func:`write_results` saved files to.
    ``checks``: the verdict on each of the test's assertions (none after an error);
    ``latency_ms``: from the prediction's creation to its completion, when both are known.
    """

    index: int
    test_index: int
    prompt_index: int
    provider_index: int
    provider: str
    provider_id: str
    kind: ProviderKind
    prompt: str
    vars: Mapping[str, Any]
    input: Mapping[str, Any] | None = None
    output: Output | None = None
    prediction_id: str | None = None
    dropped: tuple[str, ...] = ()
    error: str | None = None
    error_type: str | None = None
    status: int | None = None
    detail: str | None = None
    files: tuple[str, ...] = ()
    checks: tuple[AssertionResult, ...] = ()
    latency_ms: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the case produced output."""
        return self.error is None

    @property
    def verdict(self) -> Literal["passed", "failed", "not checked", "error"]:
        """``error`` (no output), ``failed`` (an assertion failed), ``not checked`` (an
        assertion could not be checked and none failed), else ``passed``."""
        if self.error is not None:
            return "error"
        verdicts = {check.verdict for check in self.checks}
        if "failed" in verdicts:
            return "failed"
        if "not checked" in verdicts:
            return "not checked"
        return "passed"

    def output_text(self) -> str:
        """The output as the text assertions look at: text as is, anything else as JSON."""
        output: Any = self.output
        if isinstance(output, str):
            return output
        if isinstance(output, ModerationResult):
            output = self.to_json()["output"]
        elif isinstance(output, list):
            output = [str(item) for item in output]
        return json.dumps(output, ensure_ascii=False, default=str)

    def checked(self, asserts: Sequence[Assertion]) -> EvalResult:
        """This result with ``asserts`` checked against its output (none after an error)."""
        if self.error is not None or not asserts:
            return self
        text = self.output_text()
        return attrs.evolve(self, checks=tuple(check(a, text, self.latency_ms) for a in asserts))

    def summary(self) -> str:
        """A one-cell description: the text, the files, the verdict or the error."""
        if self.error is not None:
            return f"[{self.error_type}] {self.error}"
        output = self.output
        if isinstance(output, ModerationResult):
            return output.summary()
        if isinstance(output, list):
            return " ".join(self.files or tuple(str(f) for f in output))
        return str(output)

    def to_json(self) -> dict[str, Any]:
        """The JSONL record (files as URLs; saved copies under ``files``)."""
        output: Any = self.output
        if isinstance(output, ModerationResult):
            output = {
                "flagged": output.flagged,
                "categories": [
                    {"code": f.code, "description": f.description} for f in output.flags
                ],
                "raw": output.raw,
            }
        elif isinstance(output, list):
            output = [str(item) for item in output]
        record = attrs.asdict(self, recurse=False)
        record.update(
            output=output,
            vars=dict(self.vars),
            input=dict(self.input) if self.input is not None else None,
            dropped=list(self.dropped),
            files=list(self.files),
            ok=self.ok,
            checks=[c.to_json() for c in self.checks],
            verdict=self.verdict,
        )
        return record


def _latency_ms(prediction: Prediction | None) -> float | None:
    start = prediction.created_at if prediction is not None else None
    end = prediction.completed_at if prediction is not None else None
    if start is None or end is None:
        return None
    return (end - start).total_seconds() * 1000.0


def _failure(base: dict[str, Any], exc: BaseException) -> EvalResult:
    status = detail = None
    if isinstance(exc, ReplicateError):
        status, detail = exc.status, exc.detail
    message = str(exc) or repr(exc)
    return EvalResult(
        **base, error=message, error_type=type(exc).__name__, status=status, detail=detail
    )


async def _run_provider(
    provider: ReplicateProvider,
    cases: Sequence[EvalCase],
    base: Callable[[EvalCase], dict[str, Any]],
    emit: Callable[[EvalResult], None],
    concurrency: int,
) -> None:
    try:
        if provider.unsupported != "send":
            await provider._accepted_inputs()  # one schema request, before the fan-out
    except ReplicateAsyncError as exc:
        for case in cases:
            emit(_failure(base(case), exc))
        return
    ready: list[tuple[EvalCase, PreparedInput]] = []
    for case in cases:
        try:
            ready.append((case, await provider.prepare(case.prompt)))
        except ReplicateAsyncError as exc:
            emit(_failure(base(case), exc))
    done: set[int] = set()
    batch = provider.client.batch(
        str(provider.ref),
        (dict(prepared.input) for _, prepared in ready),
        concurrency=concurrency,
        timeout=provider.timeout,
    )
    try:
        async for item in batch:
            case, prepared = ready[item.index]
            done.add(item.index)
            info = {**base(case), "input": prepared.input, "dropped": prepared.dropped}
            info["prediction_id"] = item.prediction_id
            if item.error is not None:
                emit(_failure(info, item.error))
                continue
            try:
                output = provider.shape(item.output)
            except ReplicateAsyncError as exc:
                emit(_failure(info, exc))
                continue
            emit(EvalResult(**info, output=output, latency_ms=_latency_ms(item.prediction)))
    except ReplicateAsyncError as exc:  # the batch stopped: the error concerns every item
        for i, (case, prepared) in enumerate(ready):
            if i not in done:
                emit(_failure({**base(case), "input": prepared.input}, exc))


async def run_eval(
    config: EvalConfig,
    *,
    client: Client,
    environ: Mapping[str, str] | None = None,
    concurrency: int = DEFAULT_EVAL_CONCURRENCY,
    unsupported: Unsupported = "drop",
    timeout: float | None = None,
    on_result: Callable[[EvalResult], object] | None = None,
) -> list[EvalResult]:
    """Run every case of ``config`` on ``client`` and return the results in case order.

    ``concurrency``: predictions at once per provider; ``timeout``: seconds per prediction
    (expired ones are canceled); ``on_result`` is called as each result arrives.
    ``environ`` and ``unsupported`` are as for :class:`ReplicateProvider`. Providers with an
    ``apiKey`` run on their own client (closed at the end). Configuration errors raise before
    any request; per-case failures are results.
    """
    cases = config.cases()
    providers: list[ReplicateProvider] = []
    try:
        for spec in config.providers:
            providers.append(
                ReplicateProvider(
                    spec.id,
                    spec.config,
                    client=client,
                    environ=environ,
                    unsupported=unsupported,
                    label=spec.label,
                    timeout=timeout,
                )
            )
        results: dict[int, EvalResult] = {}

        def emit(result: EvalResult) -> None:
            result = result.checked(config.tests[result.test_index].asserts)
            results[result.index] = result
            if on_result is not None:
                on_result(result)

        def base(case: EvalCase) -> dict[str, Any]:
            provider = providers[case.provider_index]
            return {
                "index": case.index,
                "test_index": case.test_index,
                "prompt_index": case.prompt_index,
                "provider_index": case.provider_index,
                "provider": provider.name,
                "provider_id": str(provider.id),
                "kind": provider.kind,
                "prompt": case.prompt,
                "vars": config.tests[case.test_index].vars,
            }

        tasks = [
            asyncio.ensure_future(
                _run_provider(
                    provider,
                    [c for c in cases if c.provider_index == v],
                    base,
                    emit,
                    concurrency,
                )
            )
            for v, provider in enumerate(providers)
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return [results[i] for i in sorted(results)]
    finally:
        for provider in providers:
            await provider.aclose()


run_eval_sync = blocking(run_eval)


def _extension(file: FileOutput) -> str:
    suffix = Path(file.filename).suffix
    return suffix if suffix else ".bin"


async def write_results(
    results: Sequence[EvalResult], path: str | Path, *, save_files: bool = True
) -> list[EvalResult]:
    """Write ``results`` as JSONL to ``path`` and, with ``save_files``, download every output
    file into ``<stem>_files/`` next to it (``<index>-<n>.<ext>``). Returns the results with
    ``files`` set to the saved paths (relative to the JSONL's directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent / f"{path.stem}_files"
    updated: list[EvalResult] = []
    for result in results:
        if save_files and isinstance(result.output, list) and result.output:
            folder.mkdir(exist_ok=True)
            saved: list[str] = []
            for n, file in enumerate(result.output):
                target = folder / f"{result.index:04d}-{n}{_extension(file)}"
                await file.async_save(target, overwrite=True)
                saved.append(str(target.relative_to(path.parent)))
            result = attrs.evolve(result, files=tuple(saved))
        updated.append(result)
    lines = [json.dumps(r.to_json(), ensure_ascii=False, default=str) + "\n" for r in updated]
    await asyncio.to_thread(path.write_text, "".join(lines), encoding="utf-8")
    return updated


write_results_sync = blocking(write_results)
