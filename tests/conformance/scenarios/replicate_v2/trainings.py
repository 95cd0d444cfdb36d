"""Fine-tuning: a training with the trainer's required inputs into a model made for it; the
trained version then runs."""

import io
import zipfile

import httpx
import replicate

username = replicate.account.get().username
replicate.models.create(owner=username, name="flux-tok", visibility="private", hardware="gpu-t4")

buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as archive:
    archive.writestr("1.txt", "a photo of TOK")
images = replicate.files.create(content=buffer.getvalue(), filename="training-images.zip")

trainer = replicate.models.get(model_owner="replicate", model_name="fast-flux-trainer")
training = replicate.trainings.create(
    model_owner="replicate",
    model_name="fast-flux-trainer",
    version_id=trainer.latest_version.id,
    destination=f"{username}/flux-tok",
    input={"input_images": images.urls.get, "trigger_word": "TOK", "training_steps": 10},
)
assert training.status == "starting", training.status
for _ in range(400):
    training = replicate.trainings.get(training_id=training.id)
    if training.status in ("succeeded", "failed", "canceled"):
        break
assert training.status == "succeeded", (training.status, training.error)
assert training.output.version.startswith(f"{username}/flux-tok:"), training.output
weights = httpx.get(training.output.weights)
assert weights.status_code == 200 and weights.content
assert training.id in [t.id for t in replicate.trainings.list()]

trained = replicate.models.get(model_owner=username, model_name="flux-tok")
assert training.output.version.endswith(trained.latest_version.id)
images = replicate.run(
    training.output.version,
    input={"prompt": "a photo of TOK", "width": 16, "height": 16},
    use_file_output=False,
)
# Sync mode answers as recorded from the real API (replicate-python's own
# test_predictions_create_blocking asserts it): processing, files as data: URIs.
assert images and images[0].startswith("data:image/png;base64,"), images
print("OK")
