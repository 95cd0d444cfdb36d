"""README "Run a model in the background", "Cancel a prediction", "List predictions", and
ModelError from a failed run."""

import replicate
from replicate.exceptions import ModelError

HELLO = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"

model = replicate.models.get("replicate/hello-world")
version = model.versions.get(HELLO)
assert version.id == HELLO

# hello-world is slow here (the scenario's emulator runs it for minutes): cancel it.
slow = replicate.predictions.create(version=version, input={"text": "slow"})
assert slow.status == "starting", slow.status
assert slow.id and slow.urls["get"].endswith("/predictions/" + slow.id), slow.urls
as_dict = dict(slow)
assert as_dict["id"] == slow.id and as_dict["status"] == "starting", as_dict
slow.cancel()
slow.reload()
assert slow.status == "canceled", slow.status
assert slow.completed_at is not None

fetched = replicate.predictions.get(slow.id)
assert fetched.id == slow.id and fetched.status == "canceled"
assert fetched.input == {"text": "slow"}, fetched.input

# A language model finishes: starting -> ... -> succeeded, with logs and metrics.
llm = replicate.predictions.create(
    model="meta/meta-llama-3-8b-instruct", input={"prompt": "Hi", "max_tokens": 8}
)
seen = {llm.status}
while llm.status not in ("succeeded", "failed", "canceled"):
    llm.reload()
    seen.add(llm.status)
assert llm.status == "succeeded", llm.status
assert seen <= {"starting", "processing", "succeeded"}, seen
assert isinstance(llm.output, list) and "".join(llm.output), llm.output
assert llm.metrics and llm.metrics["predict_time"] >= 0, llm.metrics
assert llm.started_at and llm.completed_at and llm.created_at
assert isinstance(llm.logs, str)

page1 = replicate.predictions.list()
ids = [p.id for p in page1.results]
assert llm.id in ids and slow.id in ids, ids
assert ids.index(llm.id) < ids.index(slow.id)  # newest first
assert page1.next is None

try:
    replicate.run(
        "replicate/always-fails:"
        + replicate.models.get("replicate/always-fails").latest_version.id,
        input={"text": "x"},
    )
except ModelError as e:
    assert e.prediction.status == "failed", e.prediction.status
    assert e.prediction.error, e.prediction.error
    assert "Traceback" in (e.prediction.logs or ""), e.prediction.logs
    print("Failed prediction: " + e.prediction.id)
else:
    raise AssertionError("no ModelError")
print("OK")
