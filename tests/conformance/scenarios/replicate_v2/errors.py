"""Errors as the client surfaces them: 404, 422 input validation, 401 with a wrong token."""

import replicate
from replicate import Replicate

HELLO = "0000000000000000cde1a443fb5c271536f3fbcf69adf80bf7ecb441405a9e44"

try:
    replicate.models.get(model_owner="nobody", model_name="nothing-here")
except replicate.NotFoundError as error:
    assert error.status_code == 404, error.status_code
else:
    raise AssertionError("no 404")

try:
    replicate.predictions.create(version=HELLO, input={"text": 42})
except replicate.UnprocessableEntityError as error:
    assert error.status_code == 422
    assert "text" in str(error.body), error.body
else:
    raise AssertionError("no 422 for an input of the wrong type")

try:
    replicate.predictions.create(version="0" * 64, input={"text": "x"})
except replicate.UnprocessableEntityError as error:
    assert error.body["title"] == "Invalid version or not permitted", error.body
else:
    raise AssertionError("no 422 for an unknown version")

with Replicate(bearer_token="r8_not_the_right_token") as stranger:
    try:
        stranger.models.get(model_owner="replicate", model_name="hello-world")
    except replicate.AuthenticationError as error:
        assert error.status_code == 401
        assert error.body["title"] == "Unauthenticated", error.body
    else:
        raise AssertionError("a wrong token was accepted")
print("OK")
