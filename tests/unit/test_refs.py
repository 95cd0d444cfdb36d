"""Tests of model and deployment reference parsing."""

from __future__ import annotations

import pytest

from replicate_async._core.errors import InvalidReferenceError, ReplicateAsyncError
from replicate_async._core.refs import ModelRef, parse_deployment, parse_ref

HEX = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"

LLAMA = "meta/meta-llama-3-8b-instruct"
FLUX = "black-forest-labs/flux-schnell"

VALID: list[tuple[str, ModelRef, str]] = [
    (LLAMA, ModelRef("meta", "meta-llama-3-8b-instruct", None), LLAMA),
    (f"stability-ai/sdxl:{HEX}", ModelRef("stability-ai", "sdxl", HEX), f"stability-ai/sdxl:{HEX}"),
    (HEX, ModelRef(None, None, HEX), HEX),
    (HEX.upper(), ModelRef(None, None, HEX), HEX),
    (f"a/b:{HEX.upper()}", ModelRef("a", "b", HEX), f"a/b:{HEX}"),
    ("  owner/name \n", ModelRef("owner", "name", None), "owner/name"),
    ("Owner_1/My.Model-v2", ModelRef("Owner_1", "My.Model-v2", None), "Owner_1/My.Model-v2"),
    (
        f"{FLUX}:dp-8e3b7c9a4f",
        ModelRef("black-forest-labs", "flux-schnell", "dp-8e3b7c9a4f"),
        f"{FLUX}:dp-8e3b7c9a4f",
    ),
    ("openai/gpt-4o:hidden", ModelRef("openai", "gpt-4o", "hidden"), "openai/gpt-4o:hidden"),
    ("o/n:some_version-1", ModelRef("o", "n", "some_version-1"), "o/n:some_version-1"),
    ("0/x", ModelRef("0", "x", None), "0/x"),
]


@pytest.mark.parametrize(("text", "expected", "canonical"), VALID, ids=[v[0] for v in VALID])
def test_valid_refs(text: str, expected: ModelRef, canonical: str) -> None:
    ref = parse_ref(text)
    assert ref == expected
    assert str(ref) == canonical
    assert parse_ref(str(ref)) == ref  # the canonical form round-trips


def test_bare_version_id_is_accepted__peer_defect_5() -> None:
    ref = parse_ref(HEX)
    assert (ref.model, ref.version, str(ref)) == (None, HEX, HEX)


def test_model_property() -> None:
    assert parse_ref(f"meta/llama:{HEX}").model == "meta/llama"
    assert parse_ref("meta/llama").model == "meta/llama"
    assert parse_ref(HEX).model is None


INVALID: list[tuple[object, str]] = [
    ("", "empty"),
    ("   ", "empty"),
    ("owner/", "name is empty"),
    ("/name", "owner is empty"),
    ("/", "owner is empty"),
    ("a/b/c", "exactly one '/'"),
    ("a/b/c:v", "exactly one '/'"),
    ("owner/name:", "version after ':' is empty"),
    ("owner/name:v:w", "not a version id"),
    ("owner/name:has space", "not a version id"),
    ("owner/name:a/b", "not a version id"),
    ("llama", "64-hex"),
    ("deadbeef", "64-hex"),
    (HEX[:-1], "64-hex"),
    (HEX + "0", "64-hex"),
    ("g" * 64, "64-hex"),
    (f":{HEX}", "needs its model"),
    ("https://replicate.com/meta/llama", "did you mean 'meta/llama'"),
    ("http://example.com/a/b", "URL"),
    ("www.replicate.com/a/b", "URL"),
    ("../etc", "owner '..'"),
    ("./x", "owner '.'"),
    ("-o/n", "owner '-o'"),
    ("own er/name", "owner 'own er'"),
    ("owner/na me", "name 'na me'"),
    ("owner/name?x=1", "name 'name?x=1'"),
    ("owner/_name", "name '_name'"),
    ("ówner/name", "owner"),
    (None, "expected a str"),
    (42, "expected a str"),
]


@pytest.mark.parametrize(("text", "why"), INVALID, ids=[repr(v[0]) for v in INVALID])
def test_invalid_refs(text: str, why: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_ref(text)
    message = str(info.value)
    assert why in message
    assert repr(text) in message  # quotes the bad value
    assert "owner/name:version" in message and HEX in message  # lists the forms, with examples
    assert isinstance(info.value, ValueError) and isinstance(info.value, ReplicateAsyncError)
    assert info.value.args


def test_model_ref_invariants() -> None:
    with pytest.raises(InvalidReferenceError):
        ModelRef("owner", None, None)
    with pytest.raises(InvalidReferenceError):
        ModelRef(None, None, None)
    assert str(ModelRef("o", "n")) == "o/n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("acme/image-gen", ("acme", "image-gen")), (" Acme/img.v2 ", ("Acme", "img.v2"))],
)
def test_parse_deployment(text: str, expected: tuple[str, str]) -> None:
    assert parse_deployment(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("acme/image-gen:v1", "deployments have no versions"),
        (HEX, "expected 'owner/name'"),
        ("acme", "expected 'owner/name'"),
        ("acme/", "expected 'owner/name'"),
        ("a/b/c", "expected 'owner/name'"),
        ("", "expected 'owner/name'"),
        (None, "expected a str"),
    ],
)
def test_parse_deployment_rejects(text: str, why: str) -> None:
    with pytest.raises(InvalidReferenceError, match="invalid deployment reference") as info:
        parse_deployment(text)
    assert why in str(info.value)
    assert repr(text) in str(info.value)
