"""Models, versions, collections, hardware, account, and creating a model."""

import replicate

model = replicate.models.get(model_owner="stability-ai", model_name="sdxl")
assert model.owner == "stability-ai" and model.name == "sdxl"
assert model.latest_version is not None and len(model.latest_version.id) == 64
assert model.run_count > 0 and model.visibility == "public"
schema = model.latest_version.openapi_schema
assert "prompt" in schema["components"]["schemas"]["Input"]["properties"]

versions = list(replicate.models.versions.list(model_owner="stability-ai", model_name="sdxl"))
assert model.latest_version.id in [v.id for v in versions], versions
version = replicate.models.versions.get(
    model_owner="stability-ai", model_name="sdxl", version_id=model.latest_version.id
)
assert version.cog_version and version.created_at

names = set()
for m in replicate.models.list():
    names.add(f"{m.owner}/{m.name}")
    if len(names) > 100:
        break
assert {"stability-ai/sdxl", "meta/meta-llama-3-8b-instruct"} <= names, names

slugs = [c.slug for c in replicate.collections.list()]
assert "text-to-image" in slugs, slugs
text_to_image = replicate.collections.get(collection_slug="text-to-image")
assert "stability-ai/sdxl" in [f"{m.owner}/{m.name}" for m in text_to_image.models]

skus = [hw.sku for hw in replicate.hardware.list()]
assert "cpu" in skus and any(s.startswith("gpu-") for s in skus), skus

account = replicate.account.get()
created = replicate.models.create(
    owner=account.username,
    name="my-model",
    visibility="private",
    hardware="gpu-a40-large",
    description="made by the conformance scenario",
)
assert (created.owner, created.name, created.visibility) == (
    account.username,
    "my-model",
    "private",
)
again = replicate.models.get(model_owner=account.username, model_name="my-model")
assert again.description == "made by the conformance scenario"
print("OK", len(names))
