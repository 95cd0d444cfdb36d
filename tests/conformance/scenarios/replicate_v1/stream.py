"""README "Run a model and stream its output": replicate.stream, and prediction.stream()."""

import asyncio

import replicate
from replicate.stream import ServerSentEvent

OUTPUT, LOGS, DONE = (
    ServerSentEvent.EventType.OUTPUT,
    ServerSentEvent.EventType.LOGS,
    ServerSentEvent.EventType.DONE,
)

tokens = []
for event in replicate.stream(
    "meta/meta-llama-3-8b-instruct",
    input={"prompt": "Please write a haiku about llamas.", "seed": 5, "max_tokens": 20},
):
    print(str(event), end="")
    tokens.append(str(event))
print()
assert "".join(tokens).strip(), tokens

prediction = replicate.predictions.create(
    model="meta/meta-llama-3-8b-instruct",
    input={"prompt": "Please write a haiku about llamas.", "seed": 5, "max_tokens": 20},
    stream=True,
)
assert prediction.urls["stream"].startswith("http"), prediction.urls
events = list(prediction.stream())
streamed = "".join(str(e) for e in events if e.event == OUTPUT)
assert events[-1].event == DONE and events[-1].data == "{}", events[-1]
assert {e.event for e in events[:-1]} == {OUTPUT, LOGS}, events
assert streamed == "".join(tokens), (streamed, tokens)  # same prompt and seed, same text

prediction.reload()
assert prediction.status == "succeeded", prediction.status
assert "".join(prediction.output) == streamed, (prediction.output, streamed)
print("OK", streamed)


async def stream_async() -> str:
    """README "AsyncIO support": the same stream with async_stream."""
    chunks = []
    async for event in await replicate.async_stream(
        "meta/meta-llama-3-8b-instruct",
        input={"prompt": "Please write a haiku about llamas.", "seed": 5, "max_tokens": 20},
    ):
        chunks.append(str(event))
    return "".join(chunks)


assert asyncio.run(stream_async()) == streamed
print("OK async")
