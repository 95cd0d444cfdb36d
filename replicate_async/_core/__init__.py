"""The pure core: everything decided without the network.

Errors, configuration, request builders, model references, retry and backoff, rate limiting, the
SSE decoder, output shaping and the one cattrs converter. Nothing here imports
aiohttp or the client.
"""
