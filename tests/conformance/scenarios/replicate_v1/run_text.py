"""README "Run a model": a language model by name, and a community model by version."""

import replicate

output = replicate.run(
    "meta/meta-llama-3-8b-instruct",
    input={"prompt": "Please write a haiku about llamas.", "seed": 7, "max_tokens": 24},
)
# An official language model's output is a list of tokens to concatenate.
assert isinstance(output, list), type(output)
assert output and all(isinstance(token, str) for token in output), output
text = "".join(output)
assert text.strip(), repr(text)

hello = replicate.run(
    "replicate/hello-world:0000000000000000b67bd330526532a2c38286724803ddbbea2833fef099e6a5",
    input={"text": "Alice"},
)
assert hello == "hello Alice", repr(hello)

# The same call with the latest version, looked up the way the README shows.
model = replicate.models.get("replicate/hello-world")
assert model.owner == "replicate" and model.name == "hello-world"
assert model.latest_version is not None
version = model.versions.get(model.latest_version.id)
prediction = replicate.predictions.create(version=version, input={"text": "Bob"})
prediction.wait()
assert prediction.status == "succeeded", prediction.status
assert prediction.output == "hello Bob", prediction.output
print("OK", text)
