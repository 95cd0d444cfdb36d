"""The batch command's files: input lines, the results file and the in-flight journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replicate_async.cli._batch_files import (
    InputLine,
    Journal,
    ResultsFile,
    canonical_hash,
    line_hash,
    read_input,
)


def test_input_lines_are_numbered_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n\n   \n{"b": 2}\r\nnot json\n[1]\n{"c": 3}')
    lines = list(read_input(path))
    assert [line.number for line in lines] == [1, 4, 5, 6, 7]
    assert lines[0].parse() == {"a": 1}
    assert lines[1].parse() == {"b": 2}
    with pytest.raises(ValueError, match="not valid JSON"):
        lines[2].parse()
    with pytest.raises(ValueError, match="JSON object"):
        lines[3].parse()
    assert lines[4].parse() == {"c": 3}  # no newline at the end of the file


def test_an_item_is_its_line_number_and_the_hash_of_its_text() -> None:
    a = InputLine(3, '{"x": 1}')
    assert a.key == (3, line_hash('{"x": 1}'))
    assert InputLine(3, '  {"x": 1}  ').key == a.key  # surrounding space does not count
    assert InputLine(4, '{"x": 1}').key != a.key
    assert InputLine(3, '{"x": 2}').key != a.key
    assert canonical_hash({"a": 1, "b": [1, 2]}) == canonical_hash({"b": [1, 2], "a": 1})


def test_results_keep_the_latest_status_and_count_of_each_item(tmp_path: Path) -> None:
    results = ResultsFile(tmp_path / "out" / "results.jsonl")
    assert results.load() == {}
    results.open()
    results.write({"line": 1, "input_hash": "h1", "status": "failed", "error_type": "ModelError"})
    results.write({"line": 2, "input_hash": "h2", "status": "succeeded", "output": Path("x")})
    results.write({"line": 1, "input_hash": "h1", "status": "succeeded"})
    results.close()
    done = results.load()
    assert done[(1, "h1")].status == "succeeded" and done[(1, "h1")].count == 2
    assert done[(2, "h2")].count == 1
    assert json.loads(results.path.read_text().splitlines()[1])["output"] == "x"


def test_a_torn_last_line_is_ignored_and_never_glued_to_the_next(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text('{"line": 1, "input_hash": "h1", "status": "succeeded"}\n{"line": 2, "inp')
    results = ResultsFile(path)
    assert set(results.load()) == {(1, "h1")}
    results.open()
    results.write({"line": 2, "input_hash": "h2", "status": "succeeded"})
    results.close()
    assert set(results.load()) == {(1, "h1"), (2, "h2")}


def test_the_journal_keeps_the_last_word_on_each_item(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "results.jsonl")
    assert journal.path.name == "results.jsonl.inflight"
    journal.open({})
    journal.starting((1, "h1"), 0)
    journal.created((1, "h1"), "p1")
    journal.starting((2, "h2"), 0)
    journal.starting((3, "h3"), 1)
    journal.created((3, "h3"), "p3")
    journal.drop((3, "h3"))
    journal.close()
    live = journal.load()
    assert set(live) == {(1, "h1"), (2, "h2")}
    assert live[(1, "h1")].prediction_id == "p1"
    assert live[(2, "h2")].prediction_id is None
    assert live[(2, "h2")].started > 0

    journal.open(live)  # compacted: one line per live item
    journal.close()
    assert len(journal.path.read_text().splitlines()) == 2
    assert journal.load() == live

    journal.open(live)
    journal.close(remove=True)
    assert not journal.path.exists()
