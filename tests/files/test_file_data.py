"""Pure helpers: data: URIs both ways, safe file names, content types, image sniffing."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replicate_async import InvalidResponseError
from replicate_async._core.file_data import (
    decode_data_uri,
    encode_data_uri,
    guess_content_type,
    safe_filename,
    sniff_image_type,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.mark.parametrize(
    ("uri", "data", "media"),
    [
        ("data:text/plain,hello%20world", b"hello world", "text/plain"),
        ("data:,A%20brief%20note", b"A brief note", "text/plain;charset=US-ASCII"),
        ("data:;base64,aGk=", b"hi", "text/plain;charset=US-ASCII"),
        ("data:image/png;base64,iVBORw0KGgo=", b"\x89PNG\r\n\x1a\n", "image/png"),
        ("DATA:image/png;BASE64,iVBORw0KGgo", b"\x89PNG\r\n\x1a\n", "image/png"),  # no padding
        ("data:application/octet-stream;base64,-_8=", b"\xfb\xff", "application/octet-stream"),
        ("data:text/plain;charset=utf-8,%E2%9C%93", "✓".encode(), "text/plain;charset=utf-8"),
        ("data:text/plain;base64,aGVs%0AbG8=", b"hello", "text/plain"),  # encoded newline
        ("data:text/plain,a+b", b"a+b", "text/plain"),  # '+' is not a space in a data URI
    ],
)
def test_decode_data_uri(uri: str, data: bytes, media: str) -> None:
    assert decode_data_uri(uri) == (data, media)


@pytest.mark.parametrize("uri", ["data:image/png;base64,@@@@", "data:no-comma", "https://x/y"])
def test_decode_data_uri_rejects_garbage(uri: str) -> None:
    with pytest.raises(InvalidResponseError):
        decode_data_uri(uri)


@given(st.binary(max_size=2048), st.sampled_from(["image/png", "audio/wav", None]))
def test_data_uri_round_trip(data: bytes, content_type: str | None) -> None:
    uri = encode_data_uri(data, content_type)
    assert uri.startswith(f"data:{content_type or 'application/octet-stream'};base64,")
    assert decode_data_uri(uri) == (data, content_type or "application/octet-stream")
    assert uri.endswith(base64.b64encode(data).decode())


@pytest.mark.parametrize(
    ("url", "content_type", "expected"),
    [
        ("https://replicate.delivery/pbxt/abc/out-0.png", None, "out-0.png"),
        ("https://replicate.delivery/pbxt/abc/out%200.webp?x=1#f", None, "out 0.webp"),
        ("https://h/a/..%2F..%2Fetc%2Fpasswd", None, "passwd"),
        ("https://h/a/..%5C..%5Cwin.ini", None, "win.ini"),
        ("https://h/%2e%2e", "image/png", "output.png"),
        ("https://h/..", None, "output"),
        ("https://h/", "image/jpeg", "output.jpg"),
        ("https://h/x/.hidden", None, "hidden"),
        ("https://h/x/a%00b%3A%3F.txt", None, "a_b__.txt"),
        ("https://h/x/CON.txt", None, "_CON.txt"),
        ("data:image/png;base64,AAAA", "image/png", "output.png"),
        ("data:audio/mpeg;base64,AAAA", "audio/mpeg", "output.mp3"),
    ],
)
def test_safe_filename(url: str, content_type: str | None, expected: str) -> None:
    assert safe_filename(url, content_type) == expected


@given(st.text(max_size=300))
def test_safe_filename_never_escapes_a_directory(segment: str) -> None:
    from urllib.parse import quote

    name = safe_filename("https://h/dir/" + quote(segment, safe=""))
    assert name and name not in (".", "..")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert os.path.basename(name) == name
    assert len(name.encode()) <= 200


def test_long_names_keep_their_extension() -> None:
    name = safe_filename("https://h/" + "a" * 400 + ".png")
    assert name.endswith(".png") and len(name.encode()) <= 200


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b'  <svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        (b'<?xml version="1.0"?><svg/>', "image/svg+xml"),
        (b"hello", None),
        (b"", None),
    ],
)
def test_sniff_image_type(data: bytes, kind: str | None) -> None:
    assert sniff_image_type(data) == kind


def test_guess_content_type() -> None:
    assert guess_content_type("photo.JPG") == "image/jpeg"
    assert guess_content_type("clip.wav") in ("audio/x-wav", "audio/wav")
    assert guess_content_type("noext") is None
    assert guess_content_type(None) is None
