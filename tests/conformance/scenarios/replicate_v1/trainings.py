"""README "Fine-tune a model": a training with the trainer's required inputs, into a model
created for it; then the trained version runs."""

import pathlib
import zipfile

import httpx
import replicate

username = replicate.default_client.accounts.current().username
destination = replicate.models.create(
    owner=username, name="flux-tok", visibility="private", hardware="gpu-t4"
)

with zipfile.ZipFile("training-images.zip", "w") as archive:
    archive.writestr("1.txt", "a photo of TOK")
images = replicate.files.create(pathlib.Path("training-images.zip"))

trainer = replicate.models.get("replicate/fast-flux-trainer")
training = replicate.trainings.create(
    model="replicate/fast-flux-trainer",
    version=trainer.latest_version.id,
    input={"input_images": images.urls["get"], "trigger_word": "TOK", "training_steps": 10},
    destination=f"{destination.owner}/{destination.name}",
)
assert training.status == "starting", training.status
statuses = {training.status}
for _ in range(400):
    training.reload()
    statuses.add(training.status)
    if training.status in ("succeeded", "failed", "canceled"):
        break
assert training.status == "succeeded", (training.status, training.error)
assert statuses <= {"starting", "processing", "succeeded"}, statuses
assert training.output["version"].startswith(f"{username}/flux-tok:"), training.output
weights = httpx.get(training.output["weights"])  # on the file host: no token needed
assert weights.status_code == 200 and weights.content, weights
assert training.id in [t.id for t in replicate.trainings.list().results]

trained = replicate.models.get(f"{username}/flux-tok")
assert trained.latest_version is not None
assert training.output["version"].endswith(trained.latest_version.id)
images = replicate.run(
    training.output["version"],
    input={"prompt": "a photo of TOK", "width": 16, "height": 16},
    use_file_output=False,
)
# Sync mode answers as recorded from the real API (replicate-python's own
# test_predictions_create_blocking asserts it): processing, files as data: URIs.
assert images and images[0].startswith("data:image/png;base64,"), images
print("OK")
