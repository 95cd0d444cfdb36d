"""Tests of schema-aware output shaping."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from replicate_async._core.output import OutputSpec


@attrs.frozen
class F:
    """Stand-in for a file object: records the value it was made from."""

    url: str


def doc(output: Any, **schemas: Any) -> dict[str, Any]:
    """A Cog-style OpenAPI document with the given Output (and extra component schemas)."""
    return {
        "openapi": "3.0.2",
        "components": {"schemas": {"Input": {"type": "object"}, "Output": output, **schemas}},
    }


CONCAT = {
    "type": "array",
    "items": {"type": "string"},
    "title": "Output",
    "x-cog-array-type": "iterator",
    "x-cog-array-display": "concatenate",
}
ITERATOR = {"type": "array", "items": {"type": "string"}, "x-cog-array-type": "iterator"}
URI = {"type": "string", "format": "uri"}
URI_LIST = {"type": "array", "items": URI, "title": "Output"}
DELIVERY = "https://replicate.delivery/pbxt/abc/out-0.png"
DATA_URI = "data:image/png;base64,iVBORw0KGgo="


def test_concatenate_iterator_is_joined__peer_defect_2() -> None:
    spec = OutputSpec.from_schema(doc(CONCAT), "0.9.4")
    assert (spec.known, spec.concatenate, spec.iterator, spec.has_files) == (
        True,
        True,
        True,
        False,
    )
    assert spec.shape(["Hello", ",", " world"], to_file=F) == "Hello, world"
    assert spec.shape([], to_file=F) == ""
    assert spec.shape("already text", to_file=F) == "already text"
    assert spec.shape(None, to_file=F) is None
    assert spec.shape(["a", None, "b"], to_file=None) == "ab"


def test_concatenated_text_with_urls_stays_text__peer_defect_7() -> None:
    spec = OutputSpec.from_schema(doc(CONCAT))
    assert spec.shape(["see ", "https://example.com/x.png", " ok"], to_file=F) == (
        "see https://example.com/x.png ok"
    )
    assert spec.shape_stream_item("https://replicate.delivery/x.png", to_file=F) == (
        "https://replicate.delivery/x.png"
    )


def test_text_output_containing_https_stays_text__peer_defect_7() -> None:
    for schema in ({"type": "string"}, ITERATOR, {"type": "object", "properties": {}}):
        spec = OutputSpec.from_schema(doc(schema))
        assert spec.has_files is False
        assert spec.shape("https://example.com/a.png", to_file=F) == "https://example.com/a.png"
        assert spec.shape(["https://x.y/z"], to_file=F) == ["https://x.y/z"]
        assert spec.shape({"u": "https://x.y/z"}, to_file=F) == {"u": "https://x.y/z"}


def test_non_concatenate_iterator_stays_a_list() -> None:
    spec = OutputSpec.from_schema(doc(ITERATOR), "0.9.4")
    assert (spec.concatenate, spec.iterator) == (False, True)
    assert spec.shape(["a", "b"], to_file=F) == ["a", "b"]


def test_plain_array_is_not_an_iterator_on_modern_cog() -> None:
    spec = OutputSpec.from_schema(doc({"type": "array", "items": {"type": "string"}}), "0.9.4")
    assert (spec.concatenate, spec.iterator) == (False, False)
    assert spec.shape(["a", "b"], to_file=F) == ["a", "b"]


@pytest.mark.parametrize(
    ("cog_version", "iterator"),
    [
        ("0.3.8", True),
        ("0.2.1", True),
        ("0.3", True),
        ("v0.3.4", True),
        ("0.3.9", False),
        ("0.3.10", False),
        ("0.8.6", False),
        ("0.10.0-alpha3", False),
        ("1.0.0", False),
        ("dev", False),
        (None, False),
    ],
)
def test_arrays_of_cog_before_0_3_9_are_iterators(cog_version: str | None, iterator: bool) -> None:
    spec = OutputSpec.from_schema(doc({"type": "array", "items": {"type": "string"}}), cog_version)
    assert spec.iterator is iterator
    assert spec.concatenate is False  # never joined without the marker
    assert OutputSpec.from_schema(doc({"type": "string"}), cog_version).iterator is False


def test_scalar_uri_becomes_a_file() -> None:
    spec = OutputSpec.from_schema(doc(URI))
    assert spec.has_files and not spec.iterator
    assert spec.shape(DELIVERY, to_file=F) == F(DELIVERY)
    assert spec.shape(DATA_URI, to_file=F) == F(DATA_URI)  # data: URIs are files too
    assert spec.shape(None, to_file=F) is None


def test_list_of_uri_becomes_files() -> None:
    spec = OutputSpec.from_schema(doc(URI_LIST))
    assert spec.has_files and not spec.concatenate
    assert spec.shape([DELIVERY, DATA_URI], to_file=F) == [F(DELIVERY), F(DATA_URI)]
    assert spec.shape_stream_item(DELIVERY, to_file=F) == F(DELIVERY)


def test_file_iterator_streams_files() -> None:
    spec = OutputSpec.from_schema(doc({**URI_LIST, "x-cog-array-type": "iterator"}))
    assert (spec.iterator, spec.concatenate, spec.has_files) == (True, False, True)
    assert spec.shape_stream_item(DATA_URI, to_file=F) == F(DATA_URI)


def test_iterator_marked_concatenate_but_of_files_is_not_joined() -> None:
    schema = {**CONCAT, "items": URI}
    spec = OutputSpec.from_schema(doc(schema))
    assert spec.concatenate is False
    assert spec.shape([DELIVERY], to_file=F) == [F(DELIVERY)]


def test_to_file_none_leaves_strings() -> None:
    for schema in (URI, URI_LIST):
        spec = OutputSpec.from_schema(doc(schema))
        assert spec.shape(DELIVERY, to_file=None) == DELIVERY
        assert spec.shape([DELIVERY], to_file=None) == [DELIVERY]
        assert spec.shape_stream_item(DELIVERY, to_file=None) == DELIVERY


def test_object_with_uri_properties() -> None:
    schema = {
        "type": "object",
        "title": "Output",
        "properties": {
            "image": URI,
            "masks": {"type": "array", "items": URI},
            "caption": {"type": "string"},
            "nested": {"type": "object", "properties": {"video": URI, "n": {"type": "integer"}}},
            "extras": {"type": "object", "additionalProperties": URI},
        },
    }
    spec = OutputSpec.from_schema(doc(schema))
    out = {
        "image": DELIVERY,
        "masks": [DELIVERY, DATA_URI],
        "caption": "see https://example.com",
        "nested": {"video": DATA_URI, "n": 3},
        "extras": {"a": DELIVERY},
        "unknown": "https://x.y/z",
    }
    assert spec.shape(out, to_file=F) == {
        "image": F(DELIVERY),
        "masks": [F(DELIVERY), F(DATA_URI)],
        "caption": "see https://example.com",
        "nested": {"video": F(DATA_URI), "n": 3},
        "extras": {"a": F(DELIVERY)},
        "unknown": "https://x.y/z",
    }
    assert spec.shape_stream_item(DELIVERY, to_file=F) == DELIVERY  # objects do not stream files


def test_ref_and_all_of_schemas() -> None:
    document = doc(
        {"$ref": "#/components/schemas/ModelOutput"},
        ModelOutput={
            "title": "ModelOutput",
            "type": "object",
            "properties": {
                "image": {"allOf": [{"$ref": "#/components/schemas/Image"}], "title": "Image"},
                "frames": {"type": "array", "items": {"$ref": "#/components/schemas/Image"}},
                "text": {"type": "string"},
            },
        },
        Image={"title": "Image", "type": "string", "format": "uri"},
    )
    spec = OutputSpec.from_schema(document)
    assert spec.has_files
    out = {"image": DELIVERY, "frames": [DATA_URI], "text": "https://not.a/file"}
    assert spec.shape(out, to_file=F) == {
        "image": F(DELIVERY),
        "frames": [F(DATA_URI)],
        "text": "https://not.a/file",
    }


def test_all_of_merges_properties_and_markers() -> None:
    document = doc(
        {
            "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"properties": {"extra": URI}},
            ]
        },
        Base={"type": "object", "properties": {"image": URI, "seed": {"type": "integer"}}},
    )
    spec = OutputSpec.from_schema(document)
    assert spec.shape({"image": "a", "extra": "b", "seed": 1}, to_file=F) == {
        "image": F("a"),
        "extra": F("b"),
        "seed": 1,
    }
    concat = OutputSpec.from_schema(doc({"allOf": [{"$ref": "#/components/schemas/T"}]}, T=CONCAT))
    assert concat.concatenate and concat.shape(["a", "b"], to_file=None) == "ab"


def test_nullable_any_of_uri() -> None:
    spec = OutputSpec.from_schema(doc({"anyOf": [URI, {"type": "null"}]}))
    assert spec.shape(DELIVERY, to_file=F) == F(DELIVERY)
    assert spec.shape(None, to_file=F) is None
    typed = OutputSpec.from_schema(doc({"type": ["string", "null"], "format": "uri"}))
    assert typed.shape(DELIVERY, to_file=F) == F(DELIVERY)


def test_union_dispatches_by_type_and_is_cautious_when_ambiguous() -> None:
    spec = OutputSpec.from_schema(doc({"anyOf": [URI, URI_LIST, {"type": "integer"}]}))
    assert spec.shape(DELIVERY, to_file=F) == F(DELIVERY)
    assert spec.shape([DELIVERY], to_file=F) == [F(DELIVERY)]
    assert spec.shape(3, to_file=F) == 3
    ambiguous = OutputSpec.from_schema(doc({"oneOf": [URI, {"type": "string"}]}))
    assert ambiguous.shape(DELIVERY, to_file=F) == DELIVERY  # could be plain text: left alone


def test_cyclic_refs_terminate() -> None:
    document = doc(
        {"$ref": "#/components/schemas/Node"},
        Node={
            "type": "object",
            "properties": {"file": URI, "child": {"$ref": "#/components/schemas/Node"}},
        },
    )
    spec = OutputSpec.from_schema(document)
    out = {"file": "a", "child": {"file": "b", "child": None}}
    assert spec.shape(out, to_file=F) == {"file": F("a"), "child": {"file": "b", "child": None}}
    loop = doc({"$ref": "#/components/schemas/A"}, A={"$ref": "#/components/schemas/A"})
    assert OutputSpec.from_schema(loop).shape("x", to_file=F) == "x"


@pytest.mark.parametrize(
    "schema",
    [
        None,
        {},
        {"components": {}},
        {"components": {"schemas": {"Input": {}}}},
        {"components": {"schemas": {"Output": "nonsense"}}},
        {"components": "nonsense"},
    ],
)
def test_unknown_schema_returns_output_unchanged(schema: Any) -> None:
    spec = OutputSpec.from_schema(schema)
    assert spec == OutputSpec.unknown()
    assert (spec.known, spec.concatenate, spec.iterator, spec.has_files) == (
        False,
        False,
        False,
        False,
    )
    for output in (["Hello", " world"], DELIVERY, {"a": DELIVERY}, None, 3, [DELIVERY]):
        assert spec.shape(output, to_file=F) == output
    assert spec.shape_stream_item(DELIVERY, to_file=F) == DELIVERY


def test_mismatched_values_are_left_alone() -> None:
    spec = OutputSpec.from_schema(doc(URI_LIST))
    assert spec.shape({"not": "a list"}, to_file=F) == {"not": "a list"}
    assert spec.shape([DELIVERY, 3, None], to_file=F) == [F(DELIVERY), 3, None]
    scalar = OutputSpec.from_schema(doc(URI))
    assert scalar.shape([DELIVERY], to_file=F) == [F(DELIVERY)]  # liberal in
    assert scalar.shape(42, to_file=F) == 42


def test_unresolvable_refs_are_plain() -> None:
    spec = OutputSpec.from_schema(doc({"$ref": "other.json#/Output"}))
    assert spec.known and not spec.has_files
    assert spec.shape(DELIVERY, to_file=F) == DELIVERY
    missing = OutputSpec.from_schema(doc({"$ref": "#/components/schemas/Missing"}))
    assert missing.shape(DELIVERY, to_file=F) == DELIVERY


def test_emulator_style_documents() -> None:
    """The shapes of the emulator's catalog, when it is importable."""
    schemas = pytest.importorskip("replicate_async.emulator._schemas")
    llama = OutputSpec.from_schema(schemas.LLAMA3_SCHEMA)
    assert llama.concatenate and llama.shape(["a", "b"], to_file=F) == "ab"
    sdxl = OutputSpec.from_schema(schemas.SDXL_SCHEMA)
    assert sdxl.has_files and sdxl.shape([DELIVERY], to_file=F) == [F(DELIVERY)]
