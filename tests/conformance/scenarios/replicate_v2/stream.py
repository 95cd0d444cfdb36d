"""README "Streaming output": use(..., streaming=True), and the legacy replicate.stream()."""

import warnings

import replicate

llama = replicate.use("meta/meta-llama-3-8b-instruct", streaming=True)
chunks = []
for event in llama(prompt="Please write a haiku about llamas.", seed=5, max_tokens=20):
    print(str(event), end="")
    chunks.append(str(event))
print()
text = "".join(chunks)
assert text.strip(), chunks

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    legacy = list(
        replicate.stream(
            "meta/meta-llama-3-8b-instruct",
            input={"prompt": "Please write a haiku about llamas.", "seed": 5, "max_tokens": 20},
        )
    )
assert "".join(str(e) for e in legacy) == text, (legacy, text)

# A streaming prediction carries its capability URL for the server-sent events.
prediction = replicate.predictions.create(
    version="meta/meta-llama-3-8b-instruct",
    input={"prompt": "Please write a haiku about llamas.", "seed": 5, "max_tokens": 20},
    stream=True,
)
assert prediction.urls.stream and prediction.urls.stream.startswith("http"), prediction.urls
done = replicate.predictions.wait(prediction_id=prediction.id)
assert done.status == "succeeded" and "".join(done.output) == text, done.output
print("OK", text)
