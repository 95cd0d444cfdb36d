"""The files API: create (path and file object), get, list, delete; an upload as a model
input."""

import hashlib
import pathlib

import replicate
from replicate.exceptions import ReplicateError

path = pathlib.Path("upload.txt")
content = b"hello from the conformance scenario\n"
path.write_bytes(content)

created = replicate.files.create(path, metadata={"purpose": "test"})
assert created.id and created.size == len(content), created
assert created.name == "upload.txt", created.name
assert created.content_type.startswith("text/plain"), created.content_type
assert created.checksums["sha256"] == hashlib.sha256(content).hexdigest(), created.checksums
assert created.metadata == {"purpose": "test"}, created.metadata
assert created.urls["get"].endswith("/files/" + created.id), created.urls

with open(path, "rb") as handle:
    second = replicate.files.create(
        handle, filename="renamed.bin", content_type="application/octet-stream"
    )
assert second.name == "renamed.bin" and second.content_type == "application/octet-stream"

fetched = replicate.files.get(created.id)
assert fetched.id == created.id and fetched.size == created.size
listed = [f.id for f in replicate.files.list()]
assert created.id in listed and second.id in listed, listed

# An uploaded file as a model input: echo-file reads it back.
echo = replicate.models.get("replicate/echo-file").latest_version.id
report = replicate.run(f"replicate/echo-file:{echo}", input={"file": created.urls["get"]})
assert str(hashlib.sha256(content).hexdigest()) in str(report), report

replicate.files.delete(created.id)
try:
    replicate.files.get(created.id)
except ReplicateError as error:
    assert error.status == 404, error.status
else:
    raise AssertionError("a deleted file is still there")
print("OK")
