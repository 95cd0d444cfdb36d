"""Tests of the SSE decoder: WHATWG event-stream rules, chunking, and Replicate's streams."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_async._core.sse import ServerSentEvent, SSEDecoder

E = ServerSentEvent


def decode(
    stream: bytes, chunks: list[int] | None = None, decoder: SSEDecoder | None = None
) -> list[ServerSentEvent]:
    """Feed ``stream`` split at the given offsets (whole when None), then close."""
    dec = decoder if decoder is not None else SSEDecoder()
    cuts = [0, *(chunks or []), len(stream)]
    events: list[ServerSentEvent] = []
    for start, end in itertools.pairwise(cuts):
        events += dec.feed(stream[start:end])
    events += dec.close()
    return events


def bytewise(stream: bytes) -> list[ServerSentEvent]:
    return decode(stream, list(range(1, len(stream))))


def all_ways(stream: bytes) -> list[ServerSentEvent]:
    """Decode whole, byte by byte and split at every point; all must agree. Returns the events."""
    whole = decode(stream)
    assert bytewise(stream) == whole
    for cut in range(1, len(stream)):
        assert decode(stream, [cut]) == whole, f"split at {cut}: {stream[:cut]!r} | ..."
    return whole


def oracle(stream: bytes) -> tuple[list[ServerSentEvent], str, int | None]:
    """A literal, slow transliteration of the WHATWG algorithm over the whole stream."""
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)[:-1]  # the last piece has no line end: discarded
    data = event_type = id_buffer = last_event_id = ""
    retry: int | None = None
    events = []
    for line in lines:
        if line == "":
            last_event_id = id_buffer
            if data == "":
                event_type = ""
                continue
            if data.endswith("\n"):
                data = data[:-1]
            events.append(E(event_type or "message", data, last_event_id, retry))
            data = event_type = ""
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            i = line.index(":")
            field, value = line[:i], line[i + 1 :]
            if value.startswith(" "):
                value = value[1:]
        else:
            field, value = line, ""
        if field == "event":
            event_type = value
        elif field == "data":
            data += value + "\n"
        elif field == "id":
            if "\0" not in value:
                id_buffer = value
        elif field == "retry":
            if value and all(c in "0123456789" for c in value):
                retry = int(value)
    return events, last_event_id, retry


# -- one table row per rule --------------------------------------------------------------------

RULES: list[tuple[str, bytes, list[ServerSentEvent]]] = [
    ("lf", b"data: a\n\n", [E("message", "a", "", None)]),
    ("cr", b"data: a\r\r", [E("message", "a", "", None)]),
    ("crlf", b"data: a\r\n\r\n", [E("message", "a", "", None)]),
    ("mixed line ends", b"data: a\rdata: b\r\ndata: c\n\r\n", [E("message", "a\nb\nc", "", None)]),
    ("cr cr lf is two line ends", b"data: a\r\r\n", [E("message", "a", "", None)]),
    ("bom stripped", b"\xef\xbb\xbfdata: a\n\n", [E("message", "a", "", None)]),
    ("second bom kept: unknown field", b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n", []),
    (
        "bom later is not stripped",
        b"data: a\n\n\xef\xbb\xbfdata: b\n\n",
        [E("message", "a", "", None)],
    ),
    ("comment", b": hi\n\n", []),
    ("comment looking like a field", b":data: x\n\n", []),
    ("field without colon", b"data\n\n", [E("message", "", "", None)]),
    ("two empty data lines", b"data\ndata\n\n", [E("message", "\n", "", None)]),
    ("one space dropped", b"data:  two\n\n", [E("message", " two", "", None)]),
    ("no space", b"data:x\n\n", [E("message", "x", "", None)]),
    ("colon in value", b"data: a: b\n\n", [E("message", "a: b", "", None)]),
    ("multi-line data", b"data: a\ndata: b\n\n", [E("message", "a\nb", "", None)]),
    ("trailing empty data line", b"data: a\ndata:\n\n", [E("message", "a\n", "", None)]),
    ("event type", b"event: output\ndata: a\n\n", [E("output", "a", "", None)]),
    ("event without value", b"event\ndata: a\n\n", [E("message", "a", "", None)]),
    (
        "event type resets after dispatch",
        b"event: x\ndata: a\n\ndata: b\n\n",
        [E("x", "a", "", None), E("message", "b", "", None)],
    ),
    (
        "no data: not dispatched, type reset",
        b"event: x\n\ndata: b\n\n",
        [E("message", "b", "", None)],
    ),
    ("empty data buffer still sets id", b"id: 5\n\ndata: b\n\n", [E("message", "b", "5", None)]),
    (
        "id with nul ignored",
        b"id: 1\ndata: a\n\nid: a\x00b\ndata: b\n\n",
        [E("message", "a", "1", None), E("message", "b", "1", None)],
    ),
    (
        "empty id resets",
        b"id: 1\ndata: a\n\nid\ndata: b\n\n",
        [E("message", "a", "1", None), E("message", "b", "", None)],
    ),
    ("retry digits", b"retry: 3000\ndata: a\n\n", [E("message", "a", "", 3000)]),
    ("retry not digits", b"retry: 3s\ndata: a\n\n", [E("message", "a", "", None)]),
    ("retry negative", b"retry: -1\ndata: a\n\n", [E("message", "a", "", None)]),
    ("retry empty", b"retry:\ndata: a\n\n", [E("message", "a", "", None)]),
    ("retry non-ascii digit", "retry: \uff13\ndata: a\n\n".encode(), [E("message", "a", "", None)]),
    ("retry kept for later events", b"retry: 10\n\ndata: a\n\n", [E("message", "a", "", 10)]),
    ("unknown field ignored", b"foo: bar\ndata: a\n\n", [E("message", "a", "", None)]),
    ("field names are case-sensitive", b"Data: a\n\n", []),
    ("space before colon is part of the name", b"data : a\n\n", []),
    ("incomplete event discarded", b"data: a\n\ndata: b\n", [E("message", "a", "", None)]),
    ("unterminated last line discarded", b"data: a\n\ndata: b", [E("message", "a", "", None)]),
    ("invalid utf-8 replaced", b"data: \xff\xe2\x82\n\n", [E("message", "\ufffd\ufffd", "", None)]),
    ("nul in data kept", b"data: a\x00b\n\n", [E("message", "a\x00b", "", None)]),
]


@pytest.mark.parametrize(("stream", "expected"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule(stream: bytes, expected: list[ServerSentEvent]) -> None:
    assert all_ways(stream) == expected
    assert oracle(stream)[0] == expected  # the test oracle agrees with the table


def test_events_without_id_are_kept__peer_defect_8() -> None:
    stream = b"data: a\n\nid: 7\ndata: b\n\ndata: c\n\n"
    assert all_ways(stream) == [
        E("message", "a", "", None),
        E("message", "b", "7", None),
        E("message", "c", "7", None),  # no id: line, keeps the last id
    ]


def test_unknown_event_names_pass_through__peer_defect_9() -> None:
    stream = b"event: ping\ndata:\n\nevent: \xf0\x9f\x90\x8d\ndata: x\n\nevent: output\ndata: y\n\n"
    assert all_ways(stream) == [
        E("ping", "", "", None),
        E("\U0001f40d", "x", "", None),
        E("output", "y", "", None),
    ]


def test_cr_at_end_of_chunk_then_lf_is_one_line_end() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"data: a\r") == []
    # If the CR and LF counted twice, this would be a blank line dispatching "a" alone.
    assert dec.feed(b"\ndata: b\r") == []
    assert dec.feed(b"\n") == []
    assert dec.feed(b"") == []
    assert dec.feed(b"\r\n") == [E("message", "a\nb", "", None)]


def test_cr_at_end_of_chunk_dispatches_without_waiting() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"data: a\r\r") == [E("message", "a", "", None)]
    assert dec.feed(b"\ndata: b\n\n") == [E("message", "b", "", None)]  # LF after CR skipped


def test_bom_split_across_chunks() -> None:
    for stream in (b"\xef\xbb\xbfdata: a\n\n", b"\xefdata: a\n\n", b"\xef\xbbdata: a\n\n"):
        assert bytewise(stream) == decode(stream) == oracle(stream)[0]
    assert bytewise(b"\xef\xbb\xbfdata: a\n\n") == [E("message", "a", "", None)]


def test_multibyte_utf8_split_across_chunks() -> None:
    text = "data: \u00e9t\u00e9 \u20ac \U0001f600 \u4e2d\u6587\n\n"
    assert all_ways(text.encode()) == [E("message", text[6:-2], "", None)]


def test_last_event_id_and_retry_attributes() -> None:
    dec = SSEDecoder()
    dec.feed(b"retry: 1500\nid: 1690212292:0\ndata: a\n\n")
    assert (dec.last_event_id, dec.retry) == ("1690212292:0", 1500)
    dec.feed(b"id: 1690212292:1\ndata: b\n")  # not dispatched yet: last_event_id unchanged
    assert dec.last_event_id == "1690212292:0"
    assert dec.close() == []
    assert dec.last_event_id == "1690212292:0"  # the discarded event's id never took effect


def test_huge_retry_is_ignored_without_crashing() -> None:
    assert decode(b"retry: " + b"9" * 10_000 + b"\ndata: a\n\n") == [E("message", "a", "", None)]


def test_close_resets_for_a_new_stream_keeping_id_and_retry() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"retry: 5\nid: 3\ndata: a\n\nevent: x\ndata: partial") == [
        E("message", "a", "3", 5)
    ]
    assert dec.close() == []
    # A reconnection body: BOM stripped again, no leftovers from the broken event.
    assert dec.feed(b"\xef\xbb\xbfdata: b\n\n") == [E("message", "b", "3", 5)]


def test_decoder_can_start_from_a_known_last_event_id() -> None:
    dec = SSEDecoder(last_event_id="1690212292:4", retry=100)
    assert dec.feed(b"data: a\n\n") == [E("message", "a", "1690212292:4", 100)]


def test_five_megabyte_data_line() -> None:
    payload = b"x" * (5 * 1024 * 1024)
    stream = b"event: output\ndata: " + payload + b"\n\n"
    chunked = decode(stream, list(range(64 * 1024, len(stream), 64 * 1024)))
    assert chunked == decode(stream)
    assert len(chunked) == 1 and chunked[0].data == payload.decode()
    small = decode(stream, list(range(1000, len(stream), 1000)))  # 5,000+ chunks, no LF in most
    assert small == chunked


def test_five_megabyte_multi_line_output_with_crlf() -> None:
    line = "\u00e9" * 100_000
    stream = ("event: output\r\n" + f"data: {line}\r\n" * 25 + "\r\n").encode()
    events = decode(stream, list(range(4093, len(stream), 4093)))  # odd size: splits chars
    assert events == [E("output", "\n".join([line] * 25), "", None)]


# -- Replicate-style streams -------------------------------------------------------------------

REPLICATE_STREAM = (
    b": hi\n\n"
    b"event: output\nid: 1690212292:0\ndata: Hello\n\n"
    b"event: logs\nid: 1690212292:1\ndata: generating...\n\n"
    b"event: output\nid: 1690212292:2\ndata: , world\ndata: \ndata: second line\n\n"
    b"event: output\nid: 1690212292:3\ndata:  leading space\n\n"
    b"event: done\nid: 1690212292:4\ndata: {}\n\n"
)


def test_replicate_stream() -> None:
    assert all_ways(REPLICATE_STREAM) == [
        E("output", "Hello", "1690212292:0", None),
        E("logs", "generating...", "1690212292:1", None),
        E("output", ", world\n\nsecond line", "1690212292:2", None),
        E("output", " leading space", "1690212292:3", None),
        E("done", "{}", "1690212292:4", None),
    ]


def test_replicate_stream_with_crlf_is_the_same() -> None:
    assert all_ways(REPLICATE_STREAM.replace(b"\n", b"\r\n")) == decode(REPLICATE_STREAM)
    assert all_ways(REPLICATE_STREAM.replace(b"\n", b"\r")) == decode(REPLICATE_STREAM)


def test_replicate_error_then_done() -> None:
    stream = (
        b": hi\n\n"
        b'event: error\nid: 1690212292:0\ndata: {"detail": "CUDA out of memory"}\n\n'
        b'event: done\nid: 1690212292:1\ndata: {"reason": "error"}\n\n'
    )
    assert all_ways(stream) == [
        E("error", '{"detail": "CUDA out of memory"}', "1690212292:0", None),
        E("done", '{"reason": "error"}', "1690212292:1", None),
    ]


def test_replicate_408_comment_ends_quietly() -> None:
    stream = b": hi\n\nevent: output\nid: 1:0\ndata: a\n\n:408: 408 Request Timeout\n\n"
    dec = SSEDecoder()
    assert all_ways(stream) == [E("output", "a", "1:0", None)]
    dec.feed(stream)
    assert dec.last_event_id == "1:0"


# -- properties --------------------------------------------------------------------------------

TOKENS = [
    b"data", b"event", b"id", b"retry", b"foo", b":", b": ", b" ", b"\r", b"\n", b"\r\n",
    b"x", b"7", b"12", b"\x00", b"\xef\xbb\xbf", b"\xe2\x82\xac", b"\xe2", b"\x82", b"\xff",
]  # fmt: skip


@st.composite
def cuts(draw: st.DrawFn, length: int) -> list[int]:
    if length < 2:
        return []
    return sorted(set(draw(st.lists(st.integers(1, length - 1), max_size=12))))


@settings(max_examples=400, deadline=None)
@given(st.data(), st.lists(st.sampled_from(TOKENS), max_size=60))
def test_any_byte_soup_matches_the_oracle_at_any_chunking(
    data: st.DataObject, tokens: list[bytes]
) -> None:
    stream = b"".join(tokens)
    expected, last_id, retry = oracle(stream)
    dec = SSEDecoder()
    cut = [0, *data.draw(cuts(len(stream))), len(stream)]
    events = [ev for a, b in itertools.pairwise(cut) for ev in dec.feed(stream[a:b])]
    assert events == expected
    assert (dec.last_event_id, dec.retry) == (last_id, retry)
    assert dec.close() == []


line_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]))


# Built once: a strategy made inside a composite is validated again on every draw.
event_specs = st.tuples(
    st.none() | line_text.filter(lambda s: s != ""),  # event name
    st.lists(line_text, min_size=1, max_size=4),  # data lines
    st.none() | line_text.filter(lambda s: "\0" not in s),  # id
    st.none() | st.integers(0, 10**9),  # retry
)
EOLS = {"\r": st.sampled_from(["\r", "\r\n"]), "": st.sampled_from(["\n", "\r", "\r\n"])}


@settings(max_examples=300, deadline=None)
@given(
    st.data(),
    st.lists(event_specs, max_size=8),
    st.sampled_from(["\n", "\r", "\r\n"]) | st.just("mixed"),
    st.booleans(),
)
def test_serialised_events_round_trip(
    data: st.DataObject,
    specs: list[tuple[str | None, list[str], str | None, int | None]],
    eol_choice: str,
    bom: bool,
) -> None:
    previous = [""]

    def eol() -> str:
        if eol_choice != "mixed":
            return eol_choice
        # A CR then an LF that ends an empty line would be one CRLF, not two line ends.
        previous[0] = data.draw(EOLS["\r" if previous[0] == "\r" else ""])
        return previous[0]

    out = ["\ufeff" if bom else ""]
    expected = []
    last_id, last_retry = "", None
    for name, lines, ident, retry in specs:
        out.append(": comment" + eol())
        if name is not None:
            out.append(f"event: {name}{eol()}")
        if ident is not None:
            out.append(f"id: {ident}{eol()}")
            last_id = ident
        if retry is not None:
            out.append(f"retry: {retry}{eol()}")
            last_retry = retry
        for line in lines:
            out.append(f"data: {line}{eol()}")
        out.append(eol())
        expected.append(E(name or "message", "\n".join(lines), last_id, last_retry))
    stream = "".join(out).encode()
    assert decode(stream, data.draw(cuts(len(stream)))) == expected
