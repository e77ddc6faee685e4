"""The multi-part splitter eval: its fixed dev/test split and its precision/recall arithmetic."""

from __future__ import annotations

from copilot.evals import parts as P


def test_the_split_is_fixed_and_about_half() -> None:
    rows = P.load()
    test = [r for r in rows if P.multipart_split(r["id"]) == "test"]
    assert P.multipart_split("mp001") == P.multipart_split("mp001")
    assert 0.35 < len(test) / len(rows) < 0.65
    assert {r["parts"] > 1 for r in test} == {True, False}  # both kinds on each side


def test_precision_recall_and_exact_parts() -> None:
    rows = [
        {"id": "a", "question": "whats the fridge range and who checks it", "parts": 2},  # split: right
        {"id": "b", "question": "minimum rest between shifts and max hours in a week", "parts": 1},  # split: wrong
        {"id": "c", "question": "how often are pumps serviced", "parts": 2},  # missed
        {"id": "d", "question": "how often are pumps serviced", "parts": 1},
    ]
    s = P.score(rows)
    assert (s["split"], s["precision"], s["recall"], s["exact_parts"]) == (2, 0.5, 0.5, 0.5)
    assert [w["id"] for w in s["wrong"]] == ["b", "c"]
