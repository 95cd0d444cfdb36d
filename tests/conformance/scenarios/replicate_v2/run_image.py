"""README "Run a model" with an image model: FileOutput objects from run(), paths from use()."""

import asyncio
import pathlib

import replicate
from replicate import FileOutput

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
# Without sync mode run() polls to the end: delivery URLs.
[polled] = replicate.run(SDXL, input={"prompt": "x", "width": 16, "height": 16}, wait=False)
assert polled.url.startswith("https://") and polled.read().startswith(PNG), polled.url
data = image.read()
assert data.startswith(PNG), data[:16]
assert int.from_bytes(data[16:20], "big") == 64 and int.from_bytes(data[20:24], "big") == 48
assert b"".join(iter(image)) == data
for index, output in enumerate(outputs):
    with open(f"output_{index}.png", "wb") as file:
        file.write(output.read())

urls = replicate.run(
    SDXL, input={"prompt": "x", "width": 16, "height": 16, "num_outputs": 2}, use_file_output=False
)
assert isinstance(urls, list) and len(urls) == 2 and all(isinstance(u, str) for u in urls), urls

sdxl = replicate.use(SDXL)
paths = sdxl(prompt="a serene landscape", width=16, height=16)
assert len(paths) == 1
assert replicate.get_path_url(paths[0]).startswith("https://")
assert pathlib.Path(paths[0]).read_bytes().startswith(PNG)


async def main() -> bytes:
    async with replicate.AsyncReplicate() as async_client:
        outputs = await async_client.run(SDXL, input={"prompt": "x", "width": 16, "height": 16})
        assert isinstance(outputs[0], replicate.AsyncFileOutput), outputs
        return await outputs[0].read()


assert asyncio.run(main()).startswith(PNG)
print("OK", len(data))
