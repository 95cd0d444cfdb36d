"""The files API: create, get, list, delete; an upload as a model input."""

import hashlib
import pathlib

import replicate

content = b"hello from the conformance scenario\n"
path = pathlib.Path("upload.txt")
path.write_bytes(content)

created = replicate.files.create(content=path, metadata={"purpose": "test"})
assert created.id and created.size == len(content), created
assert created.content_type.startswith("text/plain"), created.content_type
assert created.checksums.sha256 == hashlib.sha256(content).hexdigest(), created.checksums
# (2.x sends metadata as multipart fields metadata[purpose]; what the API keeps of that
# is not on record, so only its type is checked.)
assert isinstance(created.metadata, dict), created.metadata
assert created.urls.get.endswith("/files/" + created.id), created.urls

second = replicate.files.create(
    content=content, filename="renamed.bin", type="application/octet-stream"
)
assert second.content_type == "application/octet-stream", second

fetched = replicate.files.get(file_id=created.id)
assert fetched.id == created.id and fetched.size == created.size
listed = [f.id for f in replicate.files.list()]
assert created.id in listed and second.id in listed, listed

echo = replicate.models.get(model_owner="replicate", model_name="echo-file")
report = replicate.run(
    f"replicate/echo-file:{echo.latest_version.id}", input={"file": created.urls.get}
)
assert hashlib.sha256(content).hexdigest() in str(report), report

replicate.files.delete(file_id=created.id)
try:
    replicate.files.get(file_id=created.id)
except replicate.NotFoundError:
    pass
else:
    raise AssertionError("a deleted file is still there")
print("OK")
