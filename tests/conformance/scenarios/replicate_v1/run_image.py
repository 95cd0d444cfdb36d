"""README "Run a model" / "Load output files": an image model's outputs are FileOutput
objects, read with .read(), iterated in chunks, or kept as URLs with use_file_output=False."""

import asyncio

import replicate
from replicate.helpers import FileOutput

SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
PNG = b"\x89PNG\r\n\x1a\n"

outputs = replicate.run(
    SDXL, input={"prompt": "astronaut riding a rocket like a horse", "width": 64, "height": 48}
)
assert isinstance(outputs, list) and len(outputs) == 1, outputs
image = outputs[0]
assert isinstance(image, FileOutput), type(image)
# Sync mode answers as recorded from the real API (replicate-python's own
# test_predictions_create_blocking asserts it): processing, files as data: URIs.
assert image.url.startswith("data:image/png;base64,"), image.url
data = image.read()
assert data.startswith(PNG), data[:16]
# The IHDR chunk holds the size that was asked for.
assert int.from_bytes(data[16:20], "big") == 64 and int.from_bytes(data[20:24], "big") == 48
assert b"".join(iter(image)) == data  # the iterator protocol streams the same bytes

with open("output_0.png", "wb") as file:
    file.write(image.read())

# Same prompt and seed: the same picture.
again = replicate.run(
    SDXL,
    input={
        "prompt": "astronaut riding a rocket like a horse",
        "width": 64,
        "height": 48,
        "seed": 3,
    },
)
twice = replicate.run(
    SDXL,
    input={
        "prompt": "astronaut riding a rocket like a horse",
        "width": 64,
        "height": 48,
        "seed": 3,
    },
)
assert again[0].read() == twice[0].read()

urls = replicate.run(
    SDXL, input={"prompt": "x", "width": 16, "height": 16, "num_outputs": 2}, use_file_output=False
)
assert isinstance(urls, list) and len(urls) == 2 and all(isinstance(u, str) for u in urls), urls
assert all(u.startswith("data:image/png;base64,") for u in urls), urls
# Without sync mode run() polls to the end: delivery URLs.
[polled] = replicate.run(SDXL, input={"prompt": "x", "width": 16, "height": 16}, wait=False)
assert polled.url.startswith("http") and polled.read().startswith(PNG), polled.url


async def main() -> bytes:
    outputs = await replicate.async_run(SDXL, input={"prompt": "x", "width": 16, "height": 16})
    assert isinstance(outputs[0], FileOutput)
    return await outputs[0].aread()


assert asyncio.run(main()).startswith(PNG)
print("OK", len(data))
