"""Output files kept as URLs (use_file_output=False) and fetched with a plain HTTP client:
no token needed, the bytes are the image that was asked for."""

import httpx
import replicate

SDXL = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"

urls = replicate.run(
    SDXL,
    input={"prompt": "a lighthouse", "width": 40, "height": 24, "num_outputs": 2, "seed": 9},
    use_file_output=False,
    wait=False,  # no sync mode: poll to the end, whose outputs are delivery URLs
)
assert isinstance(urls, list) and len(urls) == 2, urls
images = []
for url in urls:
    assert isinstance(url, str) and url.endswith(".png"), url
    response = httpx.get(url)  # no Authorization header: output files need none
    assert response.status_code == 200, response.status_code
    data = response.content
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), data[:8]
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (40, 24)
    images.append(data)
assert images[0] != images[1]  # two outputs, two pictures
print("OK")
