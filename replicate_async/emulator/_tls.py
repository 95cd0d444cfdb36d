"""HTTPS for the three origins: a CA made on the spot (``trustme``), a server certificate
for the loopback names, and what a client needs to trust it (file, environment, context).

Real file outputs are ``https:`` URLs, and the official clients wrap only ``https:`` and
``data:`` strings as file objects; serving HTTPS makes them behave as they do in production.
``trustme`` is imported only here, and only when ``tls=True``.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["TRUST_ENV_VARS", "TLSUnavailableError", "TlsMaterial", "trustme_missing_message"]

TRUST_ENV_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS")
"""Environment variables that make common clients trust a CA file: OpenSSL-based ones
(Python's ``ssl``, curl, aiohttp, httpx), ``requests``, and Node.js."""


class TLSUnavailableError(RuntimeError):
    """``tls=True`` without ``trustme`` installed."""


def trustme_missing_message() -> str:
    return (
        "Emulator(tls=True) needs the 'trustme' package to make its local certificate "
        "authority: pip install 'replicate_async[emulator]'"
    )


def _load_trustme() -> Any:
    try:
        import trustme
    except ImportError as exc:
        raise TLSUnavailableError(trustme_missing_message()) from exc
    return trustme


class TlsMaterial:
    """A local CA, a server certificate signed by it, and the CA written to a PEM file."""

    def __init__(self, hosts: Sequence[str], directory: str | None = None) -> None:
        trustme = _load_trustme()
        self._ca = trustme.CA(organization_name="replicate_async emulator")
        names = ["localhost", "127.0.0.1", "::1"]
        for host in hosts:
            if host and host not in names and host not in ("0.0.0.0", "::"):
                names.append(host)
        self._leaf = self._ca.issue_cert(*names)
        self._owns_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="replicate-emulator-tls-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca_file = str(self.directory / "emulator-ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_file)
        self.server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._leaf.configure_cert(self.server_context)

    @property
    def ca_pem(self) -> bytes:
        return bytes(self._ca.cert_pem.bytes())

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this CA (and only what the system trusts besides)."""
        context = ssl.create_default_context()
        context.load_verify_locations(cadata=self.ca_pem.decode())
        return context

    def trust_env(self) -> dict[str, str]:
        return dict.fromkeys(TRUST_ENV_VARS, self.ca_file)

    def close(self) -> None:
        """Remove the CA file (and the directory, when the emulator made it)."""
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
        else:
            try:
                os.unlink(self.ca_file)
            except FileNotFoundError:
                pass
