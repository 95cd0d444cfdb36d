"""The library needs only aiohttp, attrs, cattrs and yarl: click, rich and PyYAML are the
``cli`` extra. Without them the library works and the command says what to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKER = textwrap.dedent(
    """
    import sys

    class RefuseCliExtra:
        # A meta-path finder that makes the cli extra's modules "not installed".
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("click", "rich", "yaml"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, RefuseCliExtra())
    """
)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_console_script_says_what_to_install() -> None:
    result = run_python(
        """
        from replicate_async.cli import main
        main(["--help"])
        """
    )
    assert result.returncode == 1
    assert "pip install 'replicate_async[cli]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_python_dash_m_says_the_same() -> None:
    result = run_python(
        """
        import runpy
        runpy.run_module("replicate_async", run_name="__main__")
        """
    )
    assert result.returncode == 1
    assert "pip install 'replicate_async[cli]'" in result.stderr


def test_the_library_imports_and_works_without_the_cli_extra() -> None:
    result = run_python(
        """
        import sys
        import replicate_async
        from replicate_async import Client, batch, webhooks, providers
        from replicate_async.emulator import Emulator

        with Emulator() as emu:
            with Client(api_token="r8_x", base_url=emu.url) as client:
                print(client.run_sync("replicate/hello-world", input={"text": "lean"}))
        assert not {"click", "rich", "yaml"} & set(sys.modules), sorted(sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["hello lean"]


def test_yaml_configs_say_what_to_install(tmp_path: object) -> None:
    result = run_python(
        f"""
        from pathlib import Path
        from replicate_async.providers._eval_config import load_eval_config
        from replicate_async import ConfigurationError
        path = Path({str(tmp_path)!r}) / "eval.yaml"
        path.write_text("providers: []\\n")
        try:
            load_eval_config(path)
        except ConfigurationError as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'replicate_async[cli]'" in result.stdout
