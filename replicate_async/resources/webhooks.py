"""``client.webhooks.default_secret``: the signing secret of your default webhook.

Fetch it once and verify every delivery with it::

    secret = client.webhooks.default_secret.get()
    prediction = replicate_async.webhooks.verify(request.headers, body, secret.key)

The secret is cached on the client after the first fetch (it changes only when you rotate it on
replicate.com); ``refresh=True`` fetches it again.
"""

from __future__ import annotations

from .._core.http_types import Request
from .._io.bridge import blocking
from ..types import WebhookSecret
from ._base import Namespace, ResourceClient

__all__ = ["DefaultWebhookSecret", "Webhooks"]


class DefaultWebhookSecret(Namespace):
    """``GET /webhooks/default/secret``, cached per client."""

    def __init__(self, client: ResourceClient) -> None:
        super().__init__(client)
        self._cached: WebhookSecret | None = None

    async def async_get(self, *, refresh: bool = False) -> WebhookSecret:
        """The signing secret (``.key`` is ``whsec_…``), fetched once and then cached.

        ``refresh=True`` fetches it again (after rotating it) and updates the cache.
        """
        if self._cached is None or refresh:
            data = await self._object(Request("GET", "/webhooks/default/secret"))
            self._cached = WebhookSecret.from_dict(data)
        return self._cached

    get = blocking(async_get)


class Webhooks(Namespace):
    """``client.webhooks``: ``default_secret.get()``; verify deliveries with
    :func:`replicate_async.webhooks.verify`."""

    def __init__(self, client: ResourceClient) -> None:
        super().__init__(client)
        self.default_secret = DefaultWebhookSecret(client)
