"""Predictions: create, get, list, cancel, wait; ModelError from a failed run."""

import replicate
from replicate.exceptions import ModelError

HELLO = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"

# hello-world is slow here (the scenario's emulator runs it for minutes): cancel it.
slow = replicate.predictions.create(version=HELLO, input={"text": "slow"})
assert slow.status == "starting", slow.status
assert slow.urls.get.endswith("/predictions/" + slow.id), slow.urls
canceled = replicate.predictions.cancel(prediction_id=slow.id)
assert canceled.id == slow.id
fetched = replicate.predictions.get(prediction_id=slow.id)
assert fetched.status == "canceled", fetched.status
assert fetched.completed_at is not None
assert fetched.input == {"text": "slow"}, fetched.input

llm = replicate.models.predictions.create(
    model_owner="meta",
    model_name="meta-llama-3-8b-instruct",
    input={"prompt": "Hi", "max_tokens": 8},
)
assert llm.status in ("starting", "processing"), llm.status
done = replicate.predictions.wait(prediction_id=llm.id)
assert done.status == "succeeded", done.status
assert isinstance(done.output, list) and "".join(done.output), done.output
assert done.metrics and done.metrics.predict_time >= 0, done.metrics
assert done.started_at and done.completed_at and done.created_at < done.completed_at

ids = [p.id for p in replicate.predictions.list()]
assert llm.id in ids and slow.id in ids, ids
assert ids.index(llm.id) < ids.index(slow.id)  # newest first

fails = replicate.models.get(model_owner="replicate", model_name="always-fails")
try:
    replicate.run(f"replicate/always-fails:{fails.latest_version.id}", input={"text": "x"})
except ModelError as e:
    print(f"Prediction failed: {e}")
    assert e.prediction.status == "failed", e.prediction.status
    assert e.prediction.error
    assert "Traceback" in (e.prediction.logs or ""), e.prediction.logs
else:
    raise AssertionError("no ModelError")
print("OK")
