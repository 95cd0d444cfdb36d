"""The API token goes to the API and its stream host only: never into a log record (at DEBUG,
every logger: ours, aiohttp's, asyncio's), a repr, an error, a file download, a pickle, the
command line's ``--json`` output or its ``--debug`` traceback. Self-contained; bounded."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from replicate_async import ConfigurationError, FileOutput, NotFoundError
from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

TOKEN = "r8_audit" + "Q7" * 16
LLAMA = "meta/meta-llama-3-8b-instruct"
SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
DEADLINE = 30.0


@pytest.mark.replicate_emulator(token=TOKEN)
async def test_the_token_is_in_no_log_record_repr_error_or_download__peer_defect_22(
    replicate_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu = replicate_emulator
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records
    emu.faults.add(route="predictions.get", status=503, times=1)  # a retry is logged
    emu.faults.add(route="stream", cut_after=2, times=1)  # a reconnection is logged
    shown: list[str] = []

    async def exercise() -> None:
        async with emu.client() as client:
            shown.append(repr(client))
            text = await client.run(LLAMA, {"prompt": "hi"}, wait=False)
            [image] = await client.run(SDXL, {"prompt": "a fox"})
            shown.extend([text, repr(image), str(len(await image.async_read()))])
            shown.extend(repr(e) for e in [e async for e in client.stream(LLAMA, {"prompt": "x"})])
            prediction = await client.predictions.async_create(model=LLAMA, input={"prompt": "y"})
            shown.extend([repr(prediction), json.dumps(prediction.to_dict(), default=str)])
            with pytest.raises(NotFoundError) as missing:
                await client.predictions.async_get("missing")
            shown.extend([str(missing.value), repr(missing.value), repr(vars(missing.value))])
            uploaded = await client.files.async_create(b"abc", filename="a.txt")
            shown.append(repr(uploaded))
            results = [r async for r in client.batch(LLAMA, [{"prompt": "a"}, {"prompt": "b"}])]
            shown.extend(repr(result) for result in results)
            with pytest.raises(TypeError):
                pickle.dumps(client)  # the client holds the token: it refuses to be pickled
            # What is bound to it pickles without it (PEER-DEFECT 23: no token in the data).
            for value in (prediction, image, results):
                data = pickle.dumps(value)
                assert TOKEN.encode() not in data
                assert pickle.loads(data) == value

    await asyncio.wait_for(exercise(), DEADLINE)
    assert emu.delivery_requests  # the image was downloaded …
    for record in emu.delivery_requests:
        assert "authorization" not in {name.lower() for name in record.headers}  # … token-free
    assert caplog.records  # DEBUG logging was on and saw the retries and reconnection
    assert TOKEN not in caplog.text
    for text in shown:
        assert TOKEN not in text


def test_the_command_line_never_prints_the_token(tmp_path: Path) -> None:
    # --debug shows the library's debug log and the traceback of an error; --json prints the
    # prediction and the error as JSON. None of them may carry the token.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
    with Emulator(**FAST_DEFAULTS, token=TOKEN) as emu:
        env.update(REPLICATE_API_TOKEN=TOKEN, REPLICATE_BASE_URL=emu.url, PYTHONUNBUFFERED="1")
        emu.faults.add(route="predictions.get", status=503, times=1)
        runs = [
            ["--debug", "run", LLAMA, "-i", "prompt=hi", "--json"],
            ["--debug", "run", "acme/no-such-model", "-i", "prompt=hi"],
            ["--debug", "predictions", "get", "missing", "--json"],
        ]
        outputs = []
        for args in runs:
            done = subprocess.run(
                [sys.executable, "-m", "replicate_async", *args],
                capture_output=True,
                text=True,
                timeout=DEADLINE,
                cwd=tmp_path,
                env=env,
            )
            outputs.append(done)
    assert outputs[0].returncode == 0, outputs[0].stderr
    assert json.loads(outputs[0].stdout)["status"] == "succeeded"
    assert "Traceback" in outputs[1].stderr  # --debug printed the error's traceback
    assert outputs[2].returncode != 0 and json.loads(outputs[2].stdout)["error"]
    for done in outputs:
        assert TOKEN not in done.stdout + done.stderr


async def test_results_pickle_without_their_client(replicate_emulator: Emulator) -> None:
    # Pickling a prediction, a file output or a batch result (a worker process handing results
    # back, a cache) used to fail with "the API token cannot be pickled", since each holds the
    # client. They now pickle without it; unpickled, they are unbound until given a client.
    async with replicate_emulator.client() as client:
        prediction = await client.predictions.async_create(model=LLAMA, input={"prompt": "hi"})
        [image] = await client.run(SDXL, {"prompt": "a fox"})
        [result] = [r async for r in client.batch(LLAMA, [{"prompt": "a"}])]
        for value in (prediction, image, result):
            assert pickle.loads(pickle.dumps(value)) == value
        again = pickle.loads(pickle.dumps(prediction))
        with pytest.raises(ConfigurationError, match="not bound to a client"):
            await again.async_reload()
        copied = pickle.loads(pickle.dumps(image))
        with pytest.raises(ConfigurationError, match="unpickled without a client"):
            await copied.async_read()
        assert await FileOutput(copied.url, client).async_read() == await image.async_read()
        bound = type(again).from_dict(again.to_dict(), client)
        assert (await bound.async_reload()).id == prediction.id
