"""A faithful local Replicate API for demos, tests and offline development.

Start it in-process (``async with Emulator() as emu``), in a background thread
(``with Emulator() as emu``), stand-alone (``python -m replicate_async.emulator``), or as the
``replicate_emulator`` pytest fixture. Point any Replicate client at ``emu.url``.
"""

from ._clock import Clock, RealClock, VirtualClock
from ._faults import Fault, Faults
from ._jobs import Job
from ._options import Options
from ._server import Emulator, serve_forever
from ._state import DeliveryRecord, RequestRecord, Stats
from ._tls import TLSUnavailableError
from ._webhooks import WebhookDelivery, sign

__all__ = [
    "Clock",
    "DeliveryRecord",
    "Emulator",
    "Fault",
    "Faults",
    "Job",
    "Options",
    "RealClock",
    "RequestRecord",
    "Stats",
    "TLSUnavailableError",
    "VirtualClock",
    "WebhookDelivery",
    "serve_forever",
    "sign",
]
