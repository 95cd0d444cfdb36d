"""Run the official Python clients' user scenarios against the emulator.

Each official client is installed into its own directory (``make conformance-clients``), since
``replicate`` 1.x and 2.x cannot share one environment. A scenario is a plain script written
as a user of that client writes it (token and base URL from the environment); it runs in a
subprocess with ``PYTHONPATH`` pointing at the client's directory, against an emulator of its
own (forked from a server that has imported the client's dependencies once: ``forks.py``).
The client talks to the API through a recording proxy, so that every response body it
saw can then be checked against Replicate's published OpenAPI document.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
from aiohttp import web
from forks import ForkServer, ScriptTimeout

from replicate_async.emulator import Emulator
from replicate_async.emulator.pytest_plugin import FAST_DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SCENARIOS_DIR = HERE / "scenarios"
CONFORMANCE_DIR = ROOT / ".venv" / "conformance"

# Keep in step with REPLICATE_V1 / REPLICATE_V2 in the Makefile.
CLIENTS = {"v1": "1.0.7", "v2": "2.0.0b4"}

SCENARIO_TIMEOUT = 60.0
TOKEN = "r8_conformance_token_0123456789abcdef"

# The validator of tests/emulator/test_spec_conformance.py (spec loading, OpenAPI 3.0
# ``nullable`` translation, format checks), reused rather than copied.
sys.path.insert(0, str(ROOT / "tests" / "emulator"))
import test_spec_conformance as spec_validator  # noqa: E402

sys.path.remove(str(ROOT / "tests" / "emulator"))


def client_dir(client: str) -> Path:
    return CONFORMANCE_DIR / f"replicate-{CLIENTS[client]}"


def client_installed(client: str) -> bool:
    version = CLIENTS[client]
    return (client_dir(client) / f"replicate-{version}.dist-info").is_dir()


@dataclass(frozen=True)
class Scenario:
    """``client`` (``v1``/``v2``), the script's name, and emulator options it needs."""

    client: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.client}-{self.name}"

    @property
    def script(self) -> Path:
        return SCENARIOS_DIR / f"replicate_{self.client}" / f"{self.name}.py"


@dataclass
class Exchange:
    """One API request the client made and the response it got."""

    method: str
    path: str
    status: int
    content_type: str
    body: bytes


@dataclass
class Result:
    scenario: Scenario
    returncode: int
    stdout: str
    stderr: str
    exchanges: list[Exchange]

    def describe(self) -> str:
        return (
            f"{self.scenario.id}: exit {self.returncode}\n--- stdout\n{self.stdout[-3000:]}"
            f"\n--- stderr\n{self.stderr[-6000:]}"
        )


HOP_BY_HOP = {
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "content-encoding",
    "accept-encoding",
}


class RecordingProxy:
    """A transparent HTTP proxy in front of the emulator's API origin that keeps every
    exchange (the emulator's request log does not keep bodies)."""

    def __init__(self, upstream: str, ca_file: str | os.PathLike[str] | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.ca_file = ca_file
        self.exchanges: list[Exchange] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.origin = ""

    async def __aenter__(self) -> RecordingProxy:
        ssl_context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=ssl_context if ssl_context else True),
            timeout=aiohttp.ClientTimeout(total=SCENARIO_TIMEOUT + 30),
        )
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.origin = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as upstream:
            payload = await upstream.read()
            status = upstream.status
            content_type = upstream.headers.get("Content-Type", "")
            out_headers = [
                (k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP
            ]
        self.exchanges.append(Exchange(request.method, request.path, status, content_type, payload))
        response = web.Response(status=status, body=payload)
        for key, value in out_headers:
            response.headers.add(key, value)
        return response


def _origin(url: str) -> str:
    match = re.match(r"^(https?://[^/]+)", url)
    assert match, url
    return match.group(1)


def _child_env(client: str, base_url: str) -> dict[str, str]:
    """What a user's shell would have: the token, the base URL, no proxies, nothing of ours."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(client_dir(client)),
        "PYTHONDONTWRITEBYTECODE": "1",
        "REPLICATE_API_TOKEN": TOKEN,
        "REPLICATE_BASE_URL": base_url,
        # Poll as often as the emulator's fast defaults make worthwhile (a documented setting).
        "REPLICATE_POLL_INTERVAL": "0.05",
        "NO_PROXY": "*",
        "no_proxy": "*",
    }
    return env


def _server_env(client: str) -> dict[str, str]:
    """The fork server's own environment: the client's directory, nothing of ours."""
    env = _child_env(client, "")
    return {k: env[k] for k in ("PATH", "HOME", "LANG", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}


async def run_scenario(scenario: Scenario, forks: ForkServer) -> Result:
    """Start an emulator and a recording proxy, run the script (forked from ``forks``, the
    server of the scenario's client), return what happened.

    An emulator that cannot start with the scenario's options is a failed scenario too."""
    options = {**FAST_DEFAULTS, **scenario.options}
    try:
        emu = Emulator(**options)
    except Exception as error:  # an option the emulator does not have (yet)
        return Result(scenario, -1, "", f"Emulator({scenario.options}) failed: {error!r}", [])
    async with emu:
        # An HTTPS emulator (tls=True) issues its certificates from a private CA: the child
        # trusts it the way a user would, through SSL_CERT_FILE.
        ca_file = getattr(emu, "ca_file", None) if options.get("tls") else None
        async with RecordingProxy(_origin(emu.url), ca_file) as proxy:
            # 1.x appends /v1 itself; 2.x wants the API root including /v1.
            base_url = proxy.origin if scenario.client == "v1" else proxy.origin + "/v1"
            env = _child_env(scenario.client, base_url)
            if ca_file:
                env["SSL_CERT_FILE"] = str(ca_file)
            # A fresh working directory: what a scenario writes (uploads, saved outputs) never
            # lands in the repository.
            with tempfile.TemporaryDirectory(prefix="conformance-") as workdir:
                try:
                    code, out, err = await forks.run(
                        scenario.script, workdir, env, SCENARIO_TIMEOUT
                    )
                except ScriptTimeout as timeout:
                    code, out, err = -9, timeout.stdout, timeout.stderr
                    err += b"\n[conformance] scenario timed out"
            return Result(
                scenario,
                code,
                out.decode(errors="replace"),
                err.decode(errors="replace"),
                list(proxy.exchanges),
            )


async def run_all(scenarios: list[Scenario], parallel: int = 3) -> dict[str, Result]:
    """Run ``scenarios``, ``parallel`` at a time; each client's scripts fork from one server
    that has imported that client's dependencies (``fork_server.py``)."""
    gate = asyncio.Semaphore(parallel)
    servers = {client: ForkServer(_server_env(client)) for client in CLIENTS}

    async def one(s: Scenario) -> Result:
        async with gate:
            try:
                return await run_scenario(s, servers[s.client])
            except Exception:  # the harness broke: that scenario fails, the others still run
                return Result(s, -1, "", traceback.format_exc(), [])

    try:
        results = await asyncio.gather(*(one(s) for s in scenarios))
    finally:
        for server in servers.values():
            await server.aclose()
    return {r.scenario.id: r for r in results}


# -- validation against the published spec --------------------------------------------------

SPEC = spec_validator.SPEC
DOC = spec_validator.DOC


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^/v1{pattern}/?$")


ROUTES = sorted(
    (
        (method.upper(), template, _template_regex(template))
        for template, item in SPEC["paths"].items()
        for method in item
        if method in spec_validator.METHODS
    ),
    # Literal paths first (/models/{o}/{n}/versions before /collections/{slug}), longest first.
    key=lambda r: (-len(re.sub(r"\{[^}]+\}", "", r[1])), r[1]),
)


def operation_for(method: str, path: str) -> tuple[str, str] | None:
    for route_method, template, regex in ROUTES:
        if route_method == method.upper() and regex.match(path):
            return route_method, template
    return None


def spec_problems(exchange: Exchange) -> list[str]:
    """Why this response does not match the spec (empty when it does)."""
    found = operation_for(exchange.method, exchange.path)
    where = f"{exchange.method} {exchange.path} -> {exchange.status}"
    if found is None:
        return [f"{where}: no such operation in the spec"]
    method, template = found
    responses = SPEC["paths"][template][method.lower()]["responses"]
    key = str(exchange.status)
    if key not in responses:
        if exchange.status < 400:
            return [f"{where}: status not in the spec ({sorted(responses)})"]
        return []  # an error status the spec does not list: nothing to validate against
    declared = responses[key].get("content", {})
    if not declared:
        return [] if exchange.body == b"" else [f"{where}: the spec says no body"]
    media = next(iter(declared))
    if not media.endswith("json"):
        return []
    try:
        body = json.loads(exchange.body)
    except ValueError as error:
        return [f"{where}: not JSON ({error})"]
    schema = dict(DOC)
    schema["$ref"] = spec_validator._pointer(
        "paths", template, method.lower(), "responses", key, "content", media, "schema"
    )
    validator = jsonschema.Draft202012Validator(schema, format_checker=spec_validator.FORMATS)
    return [
        f"{where}: {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
        for e in validator.iter_errors(body)
    ]


# -- field shapes the spec leaves open, as recorded traffic shows them ----------------------

TERMINAL = {"succeeded", "failed", "canceled", "aborted"}


def _objects(kind: str, exchange: Exchange) -> list[dict[str, Any]]:
    """The ``kind`` objects (``files``, ``trainings``, ``models``) in one response body."""
    if not 200 <= exchange.status < 300 or "json" not in exchange.content_type:
        return []
    found = operation_for(exchange.method, exchange.path)
    if found is None:
        return []
    template = found[1]
    body = json.loads(exchange.body)
    single = {
        "files": {"/files", "/files/{file_id}"},
        "trainings": {
            "/models/{model_owner}/{model_name}/versions/{version_id}/trainings",
            "/trainings/{training_id}",
            "/trainings/{training_id}/cancel",
        },
        "models": {"/models/{model_owner}/{model_name}"},
    }[kind]
    pages = {"files": {"/files"}, "trainings": {"/trainings"}, "models": {"/models"}}[kind]
    if isinstance(body, dict) and "results" in body and template in pages:
        return [r for r in body["results"] if isinstance(r, dict)]
    if kind == "models" and template == "/collections/{collection_slug}":
        return [m for m in body.get("models", []) if isinstance(m, dict)]
    if template in single or (template in pages and exchange.method == "POST"):
        return [body] if isinstance(body, dict) else []
    return []


def shape_problems(kind: str, exchanges: list[Exchange]) -> tuple[int, list[str]]:
    """How many ``kind`` objects the client saw, and how they differ from the real shapes:
    files carry ``checksums.md5`` beside ``sha256``; trainings always have ``output`` and
    ``completed_at`` (null until they finish); models always have ``weights_url``."""
    seen = 0
    problems: list[str] = []
    for exchange in exchanges:
        for obj in _objects(kind, exchange):
            seen += 1
            where = f"{exchange.method} {exchange.path}"
            if kind == "files":
                checksums = obj.get("checksums") or {}
                if not {"md5", "sha256"} <= set(checksums):
                    problems.append(f"{where}: checksums {sorted(checksums)}, want md5+sha256")
            elif kind == "trainings":
                for key in ("output", "completed_at"):
                    if key not in obj:
                        problems.append(f"{where}: training {obj.get('id')} has no {key!r}")
                    elif obj.get("status") not in TERMINAL and obj[key] is not None:
                        problems.append(f"{where}: unfinished training with {key}={obj[key]!r}")
            elif "weights_url" not in obj:
                problems.append(
                    f"{where}: model {obj.get('owner')}/{obj.get('name')} has no 'weights_url'"
                )
    return seen, problems
