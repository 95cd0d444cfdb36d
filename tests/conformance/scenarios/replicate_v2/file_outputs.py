"""A finished image prediction's output files: FileOutput from run(), plain URLs from the
prediction, fetched with no token (output files need none)."""

import httpx
import replicate
from replicate import FileOutput

SDXL = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
PNG = b"\x89PNG\r\n\x1a\n"

prediction = replicate.predictions.create(
    version=SDXL,
    input={
        "prompt": "wavy colorful abstract patterns",
        "width": 32,
        "height": 32,
        "num_outputs": 2,
    },
)
prediction = replicate.predictions.wait(prediction_id=prediction.id)
assert prediction.status == "succeeded", prediction.status
assert isinstance(prediction.output, list) and len(prediction.output) == 2, prediction.output
for url in prediction.output:
    assert url.startswith("https://"), url
    response = httpx.get(url)
    assert response.status_code == 200 and response.content.startswith(PNG)

outputs = replicate.run(
    "stability-ai/sdxl:" + SDXL, input={"prompt": "wavy", "width": 32, "height": 32}
)
assert isinstance(outputs[0], FileOutput), outputs
with open("my_output.png", "wb") as file:
    file.write(outputs[0].read())
with open("my_output.png", "rb") as file:
    assert file.read().startswith(PNG)
print("OK")
