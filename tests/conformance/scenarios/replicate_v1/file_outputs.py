"""README "Run a model in the background" with an image model: the finished prediction's
output URLs, read as files through FileOutput (by streaming the prediction, which wraps
them) and fetched directly, with no token needed."""

import httpx
import replicate
from replicate.helpers import FileOutput

SDXL = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
PNG = b"\x89PNG\r\n\x1a\n"

version = replicate.models.get("stability-ai/sdxl").versions.get(SDXL)
prediction = replicate.predictions.create(
    version=version,
    input={
        "prompt": "wavy colorful abstract patterns",
        "width": 32,
        "height": 32,
        "num_outputs": 2,
    },
)
prediction.wait()
assert prediction.status == "succeeded", prediction.status
assert isinstance(prediction.output, list) and len(prediction.output) == 2, prediction.output
for url in prediction.output:
    assert url.startswith("https://"), url
    response = httpx.get(url)  # output files need no API token
    assert response.status_code == 200, response.status_code
    assert response.content.startswith(PNG)

outputs = replicate.run(
    "stability-ai/sdxl:" + SDXL, input={"prompt": "wavy", "width": 32, "height": 32}
)
assert isinstance(outputs[0], FileOutput), outputs
with open("my_output.png", "wb") as file:
    file.write(outputs[0].read())
with open("my_output.png", "rb") as file:
    assert file.read().startswith(PNG)
print("OK")
