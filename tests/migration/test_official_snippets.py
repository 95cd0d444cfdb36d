# ruff: noqa: E501  (the snippets keep the official code verbatim, long lines included)
"""Replicate's own Python examples (the official client's README: authenticate, run, errors,
stream, stream a created prediction, the browser stream URL, background runs and reload,
webhooks, get, cancel, list/paginate, async) run against the emulator with the import line
changed and blocking calls renamed (``run(`` → ``run_sync(``, ``stream(`` → ``stream_sync(``).

Model names are mapped to models the emulator serves; each other change is marked ``# changed:``
and listed in docs/migration.md. Each snippet runs in a fresh interpreter; stderr must be clean.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from replicate_async.emulator import Emulator

SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"

SNIPPETS: dict[str, str] = {
    "authenticate": """
        import os
        from replicate_async import Client

        replicate = Client(
          api_token=os.environ["REPLICATE_API_TOKEN"],
          headers={
            "User-Agent": "my-app/1.0"
          }
        )
        print(replicate.account.get().username)
    """,
    "run": f"""
        import replicate_async as replicate
        output = replicate.run_sync(
            "{SDXL}",
            input={{"prompt": "a 19th century portrait of a wombat gentleman", "width": 64, "height": 64}}
        )
        print(output)
        assert str(output[0]).startswith("http")
    """,
    "model_error": """
        import replicate_async as replicate
        from replicate_async import ModelError

        try:
          output = replicate.run_sync("replicate/always-fails", { "prompt": "An astronaut riding a rainbow unicorn" })
        except ModelError as e:
          if "(some known issue)" in e.prediction.logs:
            pass

          print("Failed prediction: " + e.prediction.id)
    """,
    "stream": """
        import replicate_async as replicate

        for event in replicate.stream_sync(
            "meta/meta-llama-3-8b-instruct",
            input={
                "prompt": "Please write a haiku about llamas.",
            },
        ):
            print(str(event), end="")
    """,
    "stream_a_created_prediction": """
        import replicate_async as replicate

        prediction = replicate.predictions.create(
            model="meta/meta-llama-3-8b-instruct",
            input={"prompt": "Please write a haiku about llamas."},
            stream=True,
        )

        for event in prediction.stream_sync():
            print(str(event), end="")
    """,
    "browser_stream_url_server_side": """
        import replicate_async as replicate

        prediction = replicate.predictions.create(
            model="meta/meta-llama-3-8b-instruct",
            input={"prompt": "Please write a haiku about llamas."},
            stream=True,
        )
        stream_url = prediction.urls["stream"]  # handed to the browser's EventSource
        assert stream_url.startswith("http") and "stream" in prediction.urls
        print(stream_url)
    """,
    "background_and_reload": """
        import replicate_async as replicate

        model = replicate.models.get("stability-ai/sdxl")
        version = replicate.models.versions.get(model, model.latest_version.id)  # changed: versions
        prediction = replicate.predictions.create(
            version=version,
            input={"prompt":"Watercolor painting of an underwater submarine", "width": 64, "height": 64})
        print(prediction)
        print(prediction.status)
        print(dict(prediction)["id"] == prediction.id)
        prediction.reload()
        print(prediction.status)
        print(prediction.logs)
        prediction.wait()
        assert prediction.status == "succeeded", prediction.status
        print(prediction.output)
    """,
    "webhook": """
        import replicate_async as replicate

        model = replicate.models.get("stability-ai/sdxl")
        version = replicate.models.versions.get(model, model.latest_version.id)  # changed: versions
        prediction = replicate.predictions.create(
            version=version,
            input={"prompt":"Watercolor painting of an underwater submarine"},
            webhook="https://example.com/your-webhook",
            webhook_events_filter=["completed"]
        )
        print(prediction.id)
    """,
    "get": """
        import replicate_async as replicate

        prediction = replicate.predictions.create(
            model="meta/meta-llama-3-8b-instruct", input={"prompt": "hi"})
        again = replicate.predictions.get(prediction.id)
        assert again.id == prediction.id
        print(again.status)
    """,
    "cancel": """
        import replicate_async as replicate

        model = replicate.models.get("stability-ai/sdxl")
        version = replicate.models.versions.get(model, model.latest_version.id)  # changed: versions
        prediction = replicate.predictions.create(
                version=version,
                input={"prompt":"Watercolor painting of an underwater submarine"}
            )
        print(prediction.status)
        prediction.cancel()
        prediction.reload()
        assert prediction.status == "canceled", prediction.status
    """,
    "list_and_paginate": """
        import replicate_async as replicate

        replicate.run_sync("replicate/hello-world", input={"text": "one"})
        print(replicate.predictions.list())
        page1 = replicate.predictions.list()
        models = []
        for page in replicate.paginate(replicate.models.list):
            models.extend(page.results)
            if len(models) > 100:
                break
        assert models
        print([hw.sku for hw in replicate.hardware.list()])
    """,
    "async": f"""
        import asyncio
        import replicate_async as replicate

        model_version = "{SDXL}"
        prompts = [
            f"A chariot pulled by a team of {{count}} rainbow unicorns"
            for count in ["two", "four", "six", "eight"]
        ]

        async def main():  # changed: the README's top-level await, in a script
            async with asyncio.TaskGroup() as tg:
                tasks = [
                    tg.create_task(replicate.async_run(model_version, input={{"prompt": prompt, "width": 64, "height": 64}}))
                    for prompt in prompts
                ]

            results = await asyncio.gather(*tasks)
            print(results)

        asyncio.run(main())
    """,
}


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the async snippet uses asyncio.TaskGroup")
@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_official_snippet_runs(name: str, emu: Emulator, tmp_path: Path) -> None:
    if name == "cancel":  # slow enough that the prediction is still running when canceled
        with Emulator(speed=0.2) as slow:
            run_snippet(name, slow, tmp_path)
    else:
        run_snippet(name, emu, tmp_path)


def run_snippet(name: str, emu: Emulator, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(textwrap.dedent(SNIPPETS[name]), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "HTTP"))}
    env.update(REPLICATE_BASE_URL=emu.url, REPLICATE_API_TOKEN="r8_snippets")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip()


def test_snippets_keep_the_official_code_apart_from_marked_changes() -> None:
    for code in SNIPPETS.values():
        assert "import replicate\n" not in code and "replicate.run(" not in code
        assert "replicate.stream(" not in code
