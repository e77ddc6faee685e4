"""The extractive answerer: sentence units, citation numbering, abstention."""

from __future__ import annotations

from dataclasses import replace

import pytest

from copilot.retrieval.answerer import (
    NOT_FOUND,
    ExtractiveAnswerer,
    content_terms,
    retrieval_agreement,
    split_sentences,
    table_sentences,
)
from copilot.retrieval.embedder import HashingEmbedder
from copilot.types import Chunk, Hit

pytestmark = pytest.mark.unit


def _hit(text: str, *, doc: str = "folder:sops/pump.md", section: str = "Pump PM > Interval", n: int = 0) -> Hit:
    chunk = Chunk(doc_id=doc, ordinal=n, text=text, title="Infusion Pump PM", section=section, page_start=2,
                  page_end=2, source_url=f"file:///{doc}", doc_type="sop", site=None, department=None,
                  acl_groups=("all_staff",), checksum="x")
    return Hit(point_id=chunk.point_id, score=1.0 / (1 + n), chunk=chunk)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two sentences here.", ["One.", "Two sentences here."]),
        ("- first item\n- second item", ["- first item", "- second item"]),
        ("1. Step one\n2) Step two", ["1. Step one", "2) Step two"]),
        ("| Class | Within |\n|---|---|\n| I | 4 hours |", ["Class: I; Within: 4 hours"]),
        ("HEADING\n=======\nBody text follows.", ["HEADING", "Body text follows."]),
        # PDF text wraps a list item across lines (and pages): a lower-case line continues an unfinished one
        ("- ordered only by the Commander (the\n\nsenior nurse out of hours).\n- Never use lifts.",
         ["- ordered only by the Commander (the senior nurse out of hours).", "- Never use lifts."]),
        ("Call the desk.\nthen wait.", ["Call the desk.", "then wait."]),  # a finished line is not continued
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_table_rows_carry_their_headers() -> None:
    rows = ["| Pump | PM interval |", "| --- | --- |", "| IP-7 | 12 months |", "| PCA-2 | 6 months |"]
    assert table_sentences(rows) == ["Pump: IP-7; PM interval: 12 months", "Pump: PCA-2; PM interval: 6 months"]


def test_answer_cites_the_passage_it_quotes() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0)
    hits = [
        _hit("Infusion pumps receive preventive maintenance every 12 months.", n=0),
        _hit("Vaccines are stored between 2 and 8 degrees.", doc="folder:sops/cold.md", section="Cold", n=1),
    ]
    answer = answerer.answer("How often do infusion pumps receive preventive maintenance?", hits)
    assert not answer.abstained
    assert "12 months" in answer.text and answer.text.endswith("[1]")
    assert answer.citations[0].doc_id == "folder:sops/pump.md" and answer.citations[0].page == 2


def test_headings_repeated_in_the_passage_are_not_answers() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0)
    hit = _hit("Infusion Pump PM\n\nInterval\n\nEvery pump is serviced every 12 months by biomedical engineering.")
    answer = answerer.answer("infusion pump PM interval", [hit])
    assert "12 months" in answer.text


def test_abstains_without_passages_and_below_threshold() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.99)
    assert answerer.answer("anything", []).text == NOT_FOUND
    answer = answerer.answer("What is the cafeteria menu on Friday?", [_hit("Pumps are serviced yearly.")])
    assert answer.abstained and answer.citations == () and answer.passages  # closest passages still listed


def test_multi_part_question_gets_a_sentence_per_part() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0)
    hit = _hit(
        "SOPs are reviewed every 2 years by their owner. "
        "Quality sends the owner a reminder 60 days before the review date. "
        "Archived versions are kept for 10 years."
    )
    answer = answerer.answer("how often are sops reviewed and how much reminder notice does quality send", [hit])
    assert "every 2 years" in answer.text and "60 days" in answer.text


def test_a_question_for_a_number_prefers_a_sentence_with_one() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0)
    hit = _hit(
        "Cold-chain items travel from the warehouse in validated insulated boxes with a logger. "
        "A packed insulated box holds temperature for 36 hours."
    )
    answer = answerer.answer("how long can items stay in the insulated box", [hit])
    assert "36 hours" in answer.text


def test_signals_are_recorded_and_a_missing_rare_word_counts() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0)
    hit = _hit("Infusion pumps receive preventive maintenance every 12 months.")
    plain = answerer.answer("infusion pump maintenance interval", [hit]).signals
    rare = answerer.answer("enteral feeding pump maintenance interval", [hit]).signals
    assert set(plain) == {"cosine", "lexical", "coverage", "missing_specific", "numeric_match", "score", "agree"}
    assert plain["missing_specific"] == 0.0 and rare["missing_specific"] > 0.9


def test_a_sentence_ending_in_a_colon_brings_its_list() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0)
    hit = _hit(
        "If a defibrillator fails its user test, do not wait:\n\n"
        "1. Replace it at once with the spare from the equipment library.\n"
        "2. Attach a red DO NOT USE tag.\n"
        "3. Raise a priority 1 ticket.\n\n"
        "Batteries are replaced every 4 years."
    )
    answer = answerer.answer("defibrillator failed its user test, what now", [hit])
    assert "equipment library" in answer.text and "DO NOT USE" in answer.text and "priority 1" in answer.text
    assert "4 years" not in answer.text  # the list ended before it


@pytest.mark.parametrize(
    ("a", "b"),
    [("Who coordinates recalls", "Recall Coordinator"), ("penalties", "penalty"), ("replacement", "replaced")],
)
def test_word_forms_share_a_stem(a: str, b: str) -> None:
    assert content_terms(a.lower()) & content_terms(b.lower())


def _ranked(doc: str, dense: int | None, sparse: int | None) -> Hit:
    return replace(_hit("text", doc=doc), dense_rank=dense, sparse_rank=sparse)


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        ([_ranked("d:a", 1, 2), _ranked("d:a", 2, 1)], 1.0),  # both searches put the same document first
        ([_ranked("d:a", 1, None), _ranked("d:b", None, 1)], 0.0),
        ([_ranked("d:a", 1, None), _ranked("d:b", 2, 3)], 0.0),  # the lexical first did not survive fusion
        ([_hit("text")], 0.5),  # no ranks: the index fused the lists itself
    ],
)
def test_retrieval_agreement(hits: list[Hit], expected: float) -> None:
    assert retrieval_agreement(hits) == expected
