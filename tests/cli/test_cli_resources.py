"""The resource commands against the emulator: predictions, models, collections, account,
hardware, trainings, deployments, files, webhooks (human output and ``--json``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import LLAMA, SDXL, CliInvoker, assert_no_traceback

from replicate_async.emulator import Emulator

SDXL_VERSION = SDXL.split(":")[1]


def _start(cli: CliInvoker, *args: str) -> str:
    result = cli("run", *args, "--detach")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_predictions_get_list_cancel(cli: CliInvoker, emu: Emulator) -> None:
    emu.options.model_timings = {LLAMA: (0.0, 1000.0)}
    pid = _start(cli, LLAMA, "-i", "prompt=hi")
    shown = cli("predictions", "get", pid)
    assert shown.exit_code == 0 and pid in shown.stdout and LLAMA in shown.stdout
    assert cli.json("predictions", "get", pid)["id"] == pid
    listed = cli.json("predictions", "list")
    assert [p["id"] for p in listed] == [pid]
    assert pid in cli("predictions", "list").stdout
    canceled = cli.json("predictions", "cancel", pid)
    assert canceled["status"] == "canceled"
    assert emu.predictions[pid].status == "canceled"


def test_predictions_list_limit_follows_pages(cli: CliInvoker, emu: Emulator) -> None:
    emu.options.page_size = 2
    ids = {_start(cli, "replicate/hello-world", "-i", f"text=n{i}") for i in range(5)}
    assert {p["id"] for p in cli.json("predictions", "list", "--limit", "0")} == set()
    assert len(cli.json("predictions", "list", "--limit", "3")) == 3
    assert {p["id"] for p in cli.json("predictions", "list", "--limit", "50")} == ids


def test_predictions_watch_prints_the_output_when_done(cli: CliInvoker, tmp_path: Path) -> None:
    pid = _start(cli, SDXL, "-i", "prompt=x", "-i", "width=16", "-i", "height=16")
    result = cli("predictions", "watch", pid, "-o", str(tmp_path / "w"))
    assert result.exit_code == 0, result.output
    assert Path(result.stdout.strip()) == (tmp_path / "w").resolve() / "out-0.png"
    assert "succeeded" in result.stderr  # the status line, one line per change off a terminal


def test_predictions_watch_exits_1_for_a_canceled_prediction(
    cli: CliInvoker, emu: Emulator
) -> None:
    emu.options.model_timings = {LLAMA: (0.0, 1000.0)}
    pid = _start(cli, LLAMA, "-i", "prompt=hi")
    cli("predictions", "cancel", pid)
    result = cli("predictions", "watch", pid)
    assert result.exit_code == 1
    assert "canceled" in result.stderr


def test_unknown_prediction_is_a_404_with_exit_3(cli: CliInvoker) -> None:
    result = cli("predictions", "get", "doesnotexist")
    assert result.exit_code == 3
    assert "404" in result.stderr and "could not be found" in result.stderr
    assert_no_traceback(result)


def test_models_commands(cli: CliInvoker) -> None:
    model = cli.json("models", "get", LLAMA)
    assert model["owner"] == "meta" and model["latest_version"]["id"]
    assert "latest version" in cli("models", "get", LLAMA).stdout
    names = {f"{m['owner']}/{m['name']}" for m in cli.json("models", "list")}
    assert {LLAMA, "stability-ai/sdxl"} <= names
    found = cli.json("models", "search", "llama")
    assert LLAMA in {f"{r['model']['owner']}/{r['model']['name']}" for r in found["models"]}
    versions = cli.json("models", "versions", "stability-ai/sdxl")
    assert SDXL_VERSION in [v["id"] for v in versions]
    readme = cli("models", "readme", "replicate/hello-world")
    assert readme.exit_code == 0 and "hello" in readme.stdout
    assert cli.json("models", "readme", "replicate/hello-world")["readme"] == readme.stdout[:-1]


def test_collections_commands(cli: CliInvoker) -> None:
    slugs = [c["slug"] for c in cli.json("collections", "list")]
    assert "text-to-image" in slugs
    found = cli.json("collections", "get", "text-to-image")
    assert "stability-ai/sdxl" in {f"{m['owner']}/{m['name']}" for m in found["models"]}
    assert "stability-ai/sdxl" in cli("collections", "get", "text-to-image").stdout


def test_account_and_hardware(cli: CliInvoker) -> None:
    assert cli.json("account")["username"] == "emulator"
    assert "emulator" in cli("account").stdout
    skus = [h["sku"] for h in cli.json("hardware")]
    assert "gpu-t4" in skus
    assert "gpu-t4" in cli("hardware").stdout


def test_trainings_create_wait_get_list_cancel(
    cli: CliInvoker, emu: Emulator, tmp_path: Path
) -> None:
    trainer = cli.json("models", "get", "replicate/fast-flux-trainer")["latest_version"]["id"]
    images = tmp_path / "images.zip"
    images.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    inputs = ("-i", f"input_images=@{images}", "-i", "training_steps=10")
    created = cli(
        "trainings",
        "create",
        f"replicate/fast-flux-trainer:{trainer}",
        "--destination",
        "emulator/my-flux",
        *inputs,
    )
    assert created.exit_code == 3 and "404" in created.stderr  # the destination must exist
    with emu.client() as client:
        client.models.create("emulator", "my-flux", visibility="private", hardware="gpu-t4")
    done = cli.json(
        "trainings",
        "create",
        f"replicate/fast-flux-trainer:{trainer}",
        "-d",
        "emulator/my-flux",
        *inputs,
        "--wait",
    )
    assert done["status"] == "succeeded" and done["output"]["version"]
    assert cli.json("trainings", "get", done["id"])["status"] == "succeeded"
    assert [t["id"] for t in cli.json("trainings", "list")] == [done["id"]]
    again = cli.json("trainings", "cancel", done["id"])  # finished: returned unchanged
    assert again["status"] == "succeeded"


def test_deployments_crud(cli: CliInvoker) -> None:
    created = cli.json(
        "deployments",
        "create",
        "my-app",
        "--model",
        "stability-ai/sdxl",
        "--version",
        SDXL_VERSION,
        "--hardware",
        "gpu-t4",
    )
    assert created["current_release"]["number"] == 1
    assert cli.json("deployments", "get", "emulator/my-app")["name"] == "my-app"
    assert [d["name"] for d in cli.json("deployments", "list")] == ["my-app"]
    ran = cli.json(
        "run",
        "--deployment",
        "emulator/my-app",
        "-i",
        "prompt=x",
        "-i",
        "width=16",
        "--no-download",
    )
    assert ran["status"] == "succeeded" and ran["version"] == SDXL_VERSION
    updated = cli.json("deployments", "update", "emulator/my-app", "--max-instances", "3")
    assert updated["current_release"]["number"] == 2
    assert updated["current_release"]["configuration"]["max_instances"] == 3
    refused = cli("deployments", "delete", "emulator/my-app")  # no terminal, no --yes
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert cli("deployments", "delete", "emulator/my-app", "--yes").exit_code == 0
    assert cli("deployments", "get", "emulator/my-app").exit_code == 3


def test_deployment_out_of_range_is_a_usage_error(cli: CliInvoker) -> None:
    result = cli(
        "deployments", "create", "x", "--model", "a/b", "--version", "v", "--hardware", "cpu",
        "--max-instances", "99",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--max-instances" in result.stderr


def test_files_crud(
    cli: CliInvoker, tmp_path: Path, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "data.json"
    source.write_text('{"a": 1}')
    created = cli.json("files", "create", str(source), "--metadata", '{"owner": "me"}')
    assert created["name"] == "data.json" and created["size"] == source.stat().st_size
    assert created["metadata"] == {"owner": "me"}
    assert cli.json("files", "get", created["id"])["id"] == created["id"]
    assert [f["id"] for f in cli.json("files", "list")] == [created["id"]]
    monkeypatch.setenv("COLUMNS", "200")  # real file ids are 48 characters wide
    assert "data.json" in cli("files", "list").stdout
    assert cli("files", "delete", created["id"], "--yes").exit_code == 0
    assert emu.files == {} or created["id"] not in emu.files
    bad = cli("files", "create", str(source), "--metadata", "[1]")
    assert bad.exit_code == 2 and "JSON object" in bad.output


def test_webhooks_secret(cli: CliInvoker, emu: Emulator) -> None:
    result = cli("webhooks", "secret")
    assert result.exit_code == 0
    assert result.stdout.strip() == emu.webhook_secret
    assert cli.json("webhooks", "secret") == {"key": emu.webhook_secret}


@pytest.mark.parametrize("name", ["batch", "eval"])
def test_commands_of_other_modules_are_listed_and_never_break_the_rest(
    cli: CliInvoker, name: str
) -> None:
    assert name in cli("--help").stdout
    result = cli(name, "--help")
    assert result.exit_code in (0, 2)
    assert_no_traceback(result)
