"""Errors as the client surfaces them: 404, 422 input validation, 401 with a wrong token."""

import replicate
from replicate.client import Client
from replicate.exceptions import ReplicateError

HELLO = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"

try:
    replicate.models.get("nobody/nothing-here")
except ReplicateError as error:
    assert error.status == 404, error.status
    assert error.detail, error
else:
    raise AssertionError("no 404")

try:
    replicate.predictions.create(version=HELLO, input={"text": 42})
except ReplicateError as error:
    assert error.status == 422, error.status
    assert "text" in (error.detail or ""), error.detail
else:
    raise AssertionError("no 422 for an input of the wrong type")

try:
    replicate.predictions.create(version="0" * 64, input={"text": "x"})
except ReplicateError as error:
    assert error.status == 422 and error.title == "Invalid version or not permitted", error
else:
    raise AssertionError("no 422 for an unknown version")

stranger = Client(api_token="r8_not_the_right_token")
try:
    stranger.models.get("replicate/hello-world")
except ReplicateError as error:
    assert error.status == 401, error.status
    assert error.title == "Unauthenticated", error.title
    assert "r8_not_the_right_token" not in str(error)
else:
    raise AssertionError("a wrong token was accepted")
print("OK")
