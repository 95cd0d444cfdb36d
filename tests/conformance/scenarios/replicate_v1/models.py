"""README "List models", collections, "Create a model", hardware, versions."""

import replicate

model = replicate.models.get("stability-ai/sdxl")
assert model.owner == "stability-ai" and model.name == "sdxl"
assert model.latest_version is not None and len(model.latest_version.id) == 64
assert model.run_count > 0 and model.visibility == "public"
schema = model.latest_version.openapi_schema
assert "prompt" in schema["components"]["schemas"]["Input"]["properties"]

versions = model.versions.list()
assert model.latest_version.id in [v.id for v in versions], versions
version = model.versions.get(model.latest_version.id)
assert version.cog_version and version.created_at

models = []
for page in replicate.paginate(replicate.models.list):
    models.extend(page.results)
    if len(models) > 100:
        break
names = {f"{m.owner}/{m.name}" for m in models}
assert {"stability-ai/sdxl", "meta/meta-llama-3-8b-instruct"} <= names, names

collections = [c for page in replicate.paginate(replicate.collections.list) for c in page]
slugs = [c.slug for c in collections]
assert "text-to-image" in slugs, slugs
assert collections[0].description
text_to_image = replicate.collections.get("text-to-image")
assert "stability-ai/sdxl" in [f"{m.owner}/{m.name}" for m in text_to_image.models]

skus = [hw.sku for hw in replicate.hardware.list()]
assert "cpu" in skus and any(s.startswith("gpu-") for s in skus), skus

username = replicate.default_client.accounts.current().username
created = replicate.models.create(
    owner=username,
    name="my-model",
    visibility="private",
    hardware="gpu-a40-large",
    description="made by the conformance scenario",
)
assert (created.owner, created.name, created.visibility) == (username, "my-model", "private")
assert created.latest_version is None
again = replicate.models.get(f"{username}/my-model")
assert again.description == "made by the conformance scenario"
print("OK", len(names))
