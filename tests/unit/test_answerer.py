"""The extractive answerer: sentence units, citation numbering, abstention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pytest

from copilot.retrieval.answerer import (
    NOT_FOUND,
    ExtractiveAnswerer,
    asks_amount,
    asks_cause,
    content_terms,
    defines_asked_role,
    english_spelling,
    lexical_query,
    missing_identifier,
    missing_site,
    named_documents,
    names_a_sibling,
    question_numbers,
    question_parts,
    retrieval_agreement,
    row_holds,
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


class _BatchDependentEmbedder(HashingEmbedder):
    """Like the int8 graph: a text's vector moves a little with the texts embedded beside it."""

    batch_invariant = False

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        vecs = super().embed_documents(texts)
        noise = super().embed_documents([f"batch of {len(texts)}"])[0]
        vecs = vecs + 0.3 * noise
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def test_an_answer_does_not_depend_on_the_questions_asked_before_it() -> None:
    """Sentence vectors are cached across questions; with an embedder whose vectors depend on their batch, a
    sentence first embedded for another question would carry that batch with it. One text per call keeps
    every answer, confidence included, the same whatever was asked before."""
    hits = [
        _hit("Infusion pumps receive preventive maintenance every 12 months. Batteries are replaced yearly.", n=0),
        _hit("Vaccines are stored between 2 and 8 degrees. Excursions go to pharmacy.", doc="folder:sops/cold.md",
             section="Cold", n=1),
    ]
    question = "How often are pump batteries replaced?"
    fresh = ExtractiveAnswerer(_BatchDependentEmbedder(384), abstain_threshold=0.0).answer(question, hits)
    warmed = ExtractiveAnswerer(_BatchDependentEmbedder(384), abstain_threshold=0.0)
    warmed.answer("How cold are vaccines stored?", hits[1:])  # caches the second passage's sentences alone
    again = warmed.answer(question, hits)
    assert (again.text, again.confidence, again.signals) == (fresh.text, fresh.confidence, fresh.signals)
    assert warmed.cache_stats["hits"] > 0  # the cached vectors were used


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


def test_a_list_opener_that_is_not_the_best_sentence_still_brings_its_list() -> None:
    # wide margins: the runner-up (the opener, from the second passage) is chosen beside the best sentence
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0, runner_up_margin=1.0,
                                  coverage_margin=1.0, max_sentences=2)
    report = _hit("The defibrillator failed its daily user test with BATTERY LOW.", doc="folder:maint/sr.md", n=0)
    sop = _hit(
        "If a defibrillator fails its user test, do not wait:\n\n"
        "1. Replace it at once with the spare from the equipment library.\n"
        "2. Attach a red DO NOT USE tag.",
        doc="folder:sops/defib.md",
        n=1,
    )
    answer = answerer.answer("defibrillator failed its user test, what now", [report, sop])
    assert answer.text.startswith("The defibrillator failed")  # the opener is not the lead
    assert "do not wait:" in answer.text and "equipment library" in answer.text and "DO NOT USE" in answer.text


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


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("chem analyser breakdown in jan - how long did the engineer take and what credit do we get",
         ["how long did the engineer take", "what credit do we get"]),
        ("how often are pumps serviced? who signs it off", ["how often are pumps serviced", "who signs it off"]),
        ("minimum rest between shifts and max hours in a week", ["minimum rest between shifts", "max hours in a week"]),
        ("how often are infusion pumps serviced", []),
        # a short prepositional phrase repeating the left's preposition asks the same thing of a second value
        ("tolerance on tidal volume and on peep", ["tolerance on tidal volume", "tolerance on peep"]),
        ("resolution target for p2 tickets and for p4",
         ["resolution target for p2 tickets", "resolution target for p4"]),
        ("count frequency for class A items and for class C",
         ["count frequency for class A items", "count frequency for class C"]),
        ("how long can red bag waste sit at room temp vs in the fridge", []),  # no preposition of the left's
        # written apart from evals/gold/multipart_questions.jsonl
        ("whats the fridge range and who checks it", ["whats the fridge range", "who checks it"]),
        ("temp limits for the drug fridge plus max time out of range",
         ["temp limits for the drug fridge", "max time out of range"]),
        ("who signs off the PM & do we keep a copy", ["who signs off the PM", "do we keep a copy"]),
        ("when is the fire drill held and for how long", ["when is the fire drill held", "for how long"]),
        ("P1 response time? and P3?", ["P1 response time", "P3"]),
        ("where's the cleaning and disinfection policy", []),  # a document noun heads both
        ("rules for storage and handling of sharps bins", []),  # "of sharps bins" belongs to both
        ("ordering, receipt and storage of blood products", []),  # the last item of a series
        ("quick q about (glove and apron use)", []),  # inside brackets
        ("What does the Service Report - Pump BME-INF-0999 say about Findings?", []),  # a dash inside a title
        ("vaccine transport sop - packing: what's the rule", []),  # topic, sub-topic, one question
        ("pump alarms?? per the pm sop", []),  # a prepositional phrase after "?" qualifies the question
        ("vent pm - tidal volume accuracy and peep tolerance", ["tidal volume accuracy", "peep tolerance"]),
        ("how long do we keep cd registers and the waste witness sheets",  # two documents, each with its head
         ["how long do we keep cd registers", "the waste witness sheets"]),
        ("line fill target and the credit for a short delivery",  # "the credit for": its own modifier
         ["line fill target", "the credit for a short delivery"]),
        ("stock take - count variance limit and how soon do we recount",
         ["count variance limit", "how soon do we recount"]),
        ("on which days and at what times does the courier come", []),  # two question words, one clause
        ("who signs it and how long is it valid", ["who signs it", "how long is it valid"]),
    ],
)
def test_question_parts(question: str, asks: list[str]) -> None:
    parts = question_parts(question)
    assert [ask for _, ask in parts] == asks
    if question.startswith("chem"):  # the opening context travels with every part
        assert all(part.startswith("chem analyser breakdown in jan ") for part, _ in parts)


@pytest.mark.parametrize(
    ("question", "embedded"),
    [
        ("P1 response time? P2?", ["P1 response time", "P1 response time P2"]),  # "P2" alone says nothing
        ("when is the drill and for how long", ["when is the drill", "when is the drill for how long"]),
        ("when is the drill and who runs it", ["when is the drill", "who runs it"]),  # a question of its own
        ("vent pm - peep tolerance and tidal volume accuracy",  # coordinated things are not elliptical
         ["vent pm peep tolerance", "vent pm tidal volume accuracy"]),
    ],
)
def test_an_elliptical_part_is_asked_of_the_part_before(question: str, embedded: list[str]) -> None:
    assert [part for part, _ in question_parts(question)] == embedded


@pytest.mark.parametrize(
    ("documents", "asks"),
    [
        ("", ["whats in the uptime guarantee", "service credits"]),
        ("## 5. Uptime guarantee and service credits", []),  # the documents say it: one heading, not two parts
        ("Service credits are paid quarterly. The uptime guarantee is 98%.", ["whats in the uptime guarantee",
                                                                             "service credits"]),
    ],
)
def test_a_coordination_the_documents_contain_is_one_thing(documents: str, asks: list[str]) -> None:
    parts = question_parts("whats in the uptime guarantee and service credits", documents)
    assert [ask for _, ask in parts] == asks


@pytest.mark.parametrize("multi_part", [True, False])
def test_each_part_of_a_multi_part_question_is_answered(multi_part: bool) -> None:
    # no runner-ups: only the part-by-part answering can bring the second part's sentence
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.3, calibration=None,
                                  runner_up_margin=0.0, coverage_margin=0.0, multi_part=multi_part)
    hits = [
        _hit("Rule: Minimum rest between shifts; Limit: 10 hours", section="Limits"),
        _hit("Rule: Maximum hours per week; Limit: 60 hours", section="Limits", n=1),
        _hit("Canteen opens at 07:00 on weekdays.", doc="folder:sops/canteen.md", section="Food", n=2),
    ]
    answer = answerer.answer("minimum rest between shifts and maximum hours per week", hits)
    assert "10 hours" in answer.text and "07:00" not in answer.text
    assert ("60 hours" in answer.text) is multi_part


def _sited(text: str, site: str | None) -> Hit:
    hit = _hit(text)
    return replace(hit, chunk=replace(hit.chunk, site=site))


SITES = ("north_campus", "south_campus", "lakeside", "network")


@pytest.mark.parametrize(
    ("question", "hits", "missing"),
    [
        # the only schedule is South Campus's: a question about North Campus is a near miss
        ("what day is the monthly generator load test at north campus",
         [_sited("Load test: monthly, first Tuesday.", "south_campus")], "north_campus"),
        ("what day is the monthly generator load test at south campus",
         [_sited("Load test: monthly, first Tuesday.", "south_campus")], None),
        # an organisation-wide document answers for every site
        ("min password length at lakeside", [_sited("Minimum length 14 characters.", "network")], None),
        ("min password length at lakeside", [_sited("Minimum length 14 characters.", None)], None),
        # the passages mention the site although their metadata names another
        ("who covers lakeside out of hours",
         [_sited("North Campus engineers also cover Lakeside out of hours.", "north_campus")], None),
        ("who covers lakeside out of hours",
         [_sited("Engineers cover out of hours.", "north_campus"), _sited("Lakeside rota.", "lakeside")], None),
        ("fire drills at the lakesider ward", [_sited("Drills quarterly.", "north_campus")], None),  # whole words
    ],
)
def test_a_site_the_passages_are_not_from(question: str, hits: list[Hit], missing: str | None) -> None:
    assert missing_site(question, hits, SITES) == missing


def test_abstains_when_the_question_names_another_site() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0, sites=lambda: SITES)
    hits = [_sited("The monthly load test runs for 30 minutes on the first Tuesday.", "south_campus")]
    assert answerer.answer("what day is the monthly generator load test at north campus", hits).abstained
    assert not answerer.answer("what day is the monthly generator load test at south campus", hits).abstained


NAMES = {"crestline": frozenset({"folder:contracts/crestline.md"}),
         "cleanwave": frozenset({"folder:contracts/cleanwave.md", "folder:sops/linen.md"})}


def _contract(text: str, vendor: str, n: int = 0) -> Hit:
    hit = _hit(text, doc=f"folder:contracts/{vendor.lower()}.md", section="Delivery", n=n)
    return replace(hit, chunk=replace(hit.chunk, title=f"Supply Agreement - {vendor} Inc."))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # the named supplier's documents only, whether or not the passage itself names it
        ("crestline delivery window on saturdays", {"folder:contracts/crestline.md"}),
        ("CleanWave delivery window", {"folder:contracts/cleanwave.md", "folder:sops/linen.md"}),
        # two suppliers compared: either's documents
        ("crestline vs cleanwave delivery windows",
         {"folder:contracts/crestline.md", "folder:contracts/cleanwave.md", "folder:sops/linen.md"}),
        # a question that names no supplier is not narrowed, nor one word inside another
        ("delivery window on saturdays", None),
        ("crestlines delivery window", None),
    ],
)
def test_documents_that_name_what_the_question_names(question: str, expected: set[str] | None) -> None:
    hits = [_contract("Deliveries Monday to Saturday before 06:00.", "CleanWave"),
            _contract("Clinics: Tuesday and Friday, 08:00 to 12:00.", "Crestline", n=1),
            _hit("Linen is stored on covered trolleys.", doc="folder:sops/linen.md", n=2),
            _hit("Gases are delivered twice a week.", doc="folder:sops/gases.md", n=3)]
    assert named_documents(question, hits, NAMES) == expected


def test_another_suppliers_terms_never_answer() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0, names=lambda: NAMES)
    cleanwave = _contract("Deliveries six days a week, Monday to Saturday, before 06:00.", "CleanWave")
    crestline = _contract("Clinics: deliveries Tuesday and Friday, 08:00 to 12:00.", "Crestline", n=1)
    answer = answerer.answer("crestline delivery days", [cleanwave, crestline])
    assert "Tuesday and Friday" in answer.text and "Saturday" not in answer.text
    refused = answerer.answer("crestline delivery days", [cleanwave])
    assert refused.abstained and refused.signals["missing_name"] == 1.0
    # without learned names nothing is narrowed
    plain = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0)
    assert not plain.answer("crestline delivery days", [cleanwave]).abstained


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how much is a replacement badge", False),  # "how much" alone asks for any quantity
        ("price of a sharps container", True),
        ("what do we pay northstar to rent a cylinder", True),
        ("bluegate monthly fee?", True),
        ("How soon must a discrepancy be reported to the pharmacist in charge?", False),  # a person
        ("What rate is overtime paid at?", False),  # a rate: time and a half
        ("what % of the monthly fee do we get back", False),  # a share
    ],
)
def test_questions_for_an_amount_of_money(question: str, expected: bool) -> None:
    assert asks_amount(question) is expected


def test_a_money_question_over_passages_without_an_amount_is_refused() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0)
    sharps = _hit("Replace the sharps container when it is three-quarters full or after 3 months.")
    refused = answerer.answer("price of a sharps container", [sharps])
    assert refused.abstained and refused.signals["missing_amount"] == 1.0
    priced = _hit("A replacement sharps container costs $4.20 from the warehouse.", n=1)
    assert "$4.20" in answerer.answer("price of a sharps container", [sharps, priced]).text
    # not a money question: answered from the same passage
    assert not answerer.answer("when is a sharps container replaced", [sharps]).abstained


class _CoverageConfidence(ExtractiveAnswerer):
    """Confidence is the share of the question's words the judged passages hold."""

    def confidence(self, signals: Mapping[str, float]) -> float:
        return signals["coverage"]


def test_a_named_suppliers_answer_is_judged_on_its_own_documents() -> None:
    # "linen" is in the other supplier's passage only: judged on the named supplier's documents, the question
    # is not covered, so the nearest row of the right contract (a pickup penalty) is not offered as the answer
    answerer = _CoverageConfidence(HashingEmbedder(384), abstain_threshold=0.99, calibration=None,
                                   names=lambda: NAMES)
    cleanwave = _contract("Late linen delivery: penalty $250 per late delivery.", "CleanWave")
    crestline = _contract("Late pickup: penalty $150 per late pickup.", "Crestline", n=1)
    question = "crestline penalty for a late linen delivery"
    assert answerer.answer(question, [cleanwave, crestline]).abstained
    unnamed = _CoverageConfidence(HashingEmbedder(384), abstain_threshold=0.99, calibration=None)
    assert not unnamed.answer(question, [cleanwave, crestline]).abstained


class _LexicalConfidence(ExtractiveAnswerer):
    """Confidence is the best sentence's word overlap: what passes is easy to read off the test."""

    def confidence(self, signals: Mapping[str, float]) -> float:
        return signals["lexical"]


@pytest.mark.parametrize(("threshold", "expected"), [(0.6, ("$300", "7 hours 40 minutes")), (1.1, ())])
def test_a_part_rides_on_a_part_that_passed(threshold: float, expected: tuple[str, ...]) -> None:
    # "how long did the engineer take to turn up" shares one word of three with its sentence: too few to pass
    # alone, but the other part passed, so the passages are about what was asked and its best sentence joins
    answerer = _LexicalConfidence(HashingEmbedder(384), abstain_threshold=threshold, calibration=None)
    hits = [
        _hit("A $300 credit applies.", section="Response"),
        _hit("Engineer on site at 06:05, 7 hours 40 minutes after the call.", section="Response", n=1),
        _hit("Canteen opens at 07:00 on weekdays.", doc="folder:sops/canteen.md", section="Food", n=2),
    ]
    answer = answerer.answer("what credit applies and how long did the engineer take to turn up", hits)
    assert answer.abstained is not expected
    assert all(fact in answer.text for fact in expected) and "07:00" not in answer.text


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("what pressure did pump BME-INF-0231 alarm at", "BME-INF-0231"),  # the passages name another pump
        ("what pressure did pump BME-INF-0263 alarm at", None),
        ("how many ts-300s need the check", None),  # a plural of a named model
        ("is a 24-hour fridge log needed", None),  # not an identifier
    ],
)
def test_an_identifier_no_passage_names(question: str, missing: str | None) -> None:
    hits = [_hit("Asset tag: BME-INF-0263; Result: Fail; Finding: Occlusion alarm at 610 mmHg. TS-300 brakes.")]
    assert missing_identifier(question, hits) == missing


def test_abstains_when_the_asked_about_record_is_not_in_the_passages() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0)
    hits = [_hit("Asset tag: BME-INF-0263; Result: Fail; Finding: Occlusion alarm at 610 mmHg.")]
    assert not answerer.answer("occlusion alarm pressure of pump BME-INF-0263", hits).abstained
    answer = answerer.answer("occlusion alarm pressure of pump BME-INF-0231", hits)
    assert answer.abstained and answer.signals["missing_identifier"] == 1.0


def test_a_sentence_carries_its_documents_title() -> None:
    """The vendor a contract's title names counts for every sentence of it, like the heading does."""
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0)
    table = "| Priority | On site |\n|---|---|\n| Emergency | 2 hours |"
    chunk = replace(_hit(table).chunk, title="Maintenance Contract - Keystone Power",
                    section="Maintenance Contract > Response times")
    keystone = replace(_hit(table), chunk=chunk)
    raw = answerer._sentences([keystone])
    assert raw and {"keyston", "emergenc"} <= raw[0][4]


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("how fast does keystone have to be onsite if a generator won't start",
         {"keyston", "onsit", "generat", "start"}),
        ("how quickly and how soon", set()),
        ("whats bluegate's target", {"bluegat", "target"}),
        ("i dont have a smartphone", {"smartphon"}),
    ],
)
def test_question_forms_and_contractions_are_not_content(question: str, terms: set[str]) -> None:
    assert content_terms(question) == terms


def test_the_dense_first_passage_is_embedded_when_word_overlap_leaves_it_out() -> None:
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0, max_embedded=2)
    lexical = _hit("Shift swap requests go to the manager. Swap forms are kept for a year. Swaps need two weeks.")
    sharps = replace(_hit("Replace the container when three-quarters full.", doc="d:sharps", n=1), dense_rank=1)
    raw = answerer._sentences([lexical, sharps])
    assert all(r[0] == 0 for r in answerer._promising("when do you swap a sharps bin", raw, 2))
    pool = answerer._promising("when do you swap a sharps bin", raw, 2, favoured=1)
    assert len(pool) == 3 and pool[-1][2].startswith("Replace the container")


def test_a_part_the_documents_do_not_answer_is_named() -> None:
    # "who approves overtime exceptions" shares no word with any passage: the answer says so instead of
    # answering the first part alone as if it were the whole question
    answerer = _LexicalConfidence(HashingEmbedder(384), abstain_threshold=0.6, calibration=None)
    hits = [
        _hit("Rule: Minimum rest between shifts; Limit: 10 hours", section="Limits"),
        _hit("Canteen opens at 07:00 on weekdays.", doc="folder:sops/canteen.md", section="Food", n=1),
    ]
    answer = answerer.answer("minimum rest between shifts and who approves overtime exceptions", hits)
    assert not answer.abstained and "10 hours" in answer.text
    assert answer.missing_parts == ("who approves overtime exceptions",)
    assert answer.text.endswith('documents you can access: "who approves overtime exceptions".')
    assert answer.to_dict()["missing_parts"] == ["who approves overtime exceptions"]
    # both parts answered: nothing is missing
    hits.append(_hit("Overtime exceptions are approved by the nurse manager.", section="Overtime", n=2))
    both = answerer.answer("minimum rest between shifts and who approves overtime exceptions", hits)
    assert both.missing_parts == () and "nurse manager" in both.text


def test_a_wide_table_row_is_also_read_one_cell_at_a_time() -> None:
    """A question about one column of a wide row: the row's first cell with that column is closer to it than
    the whole row, whose other cells dilute its embedding."""
    row = (
        "| Measure | Target | Reporting | Penalty or credit | Review |\n|---|---|---|---|---|\n"
        "| On-time delivery | 98% of deliveries per month | Monthly scorecard by the buyer | "
        "2% of order value per late day | Quarterly business review with the supplier |"
    )
    question = "what penalty for a late delivery"
    hits = [_hit(row)]
    whole = ExtractiveAnswerer(HashingEmbedder(384), row_cells=0).score_candidates(question, hits)
    cells = ExtractiveAnswerer(HashingEmbedder(384), row_cells=4).score_candidates(question, hits)
    assert len(whole) == len(cells) == 1
    assert cells[0].cosine > whole[0].cosine + 0.05
    assert cells[0].text == whole[0].text  # the answer is still the whole row


class _CountingEmbedder(HashingEmbedder):
    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.embedded: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return super().embed_documents(texts)


_PUMP_TABLE = "| Item | Interval | Owner |\n|---|---|---|\n" + "\n".join(
    f"| Pump model {n} | every {n} months | biomedical engineering |" for n in range(1, 9)
)


def test_only_the_closest_rows_are_read_cell_by_cell() -> None:
    embedder = _CountingEmbedder(384)
    answerer = ExtractiveAnswerer(embedder, row_cells=2, cache_size=0)
    answerer.score_candidates("pump model 3 schedule", [_hit(_PUMP_TABLE)])
    pairs = [t for t in embedder.embedded if t.count(";") == 1]  # "Item: ...; Interval: ..." pairs
    assert len(pairs) == 2 * 2  # two rows, two cells after the first each


def test_a_column_the_question_names_is_the_only_one_read() -> None:
    """"pump model 3 interval" names the Interval column: its cells are read, the Owner column's are not."""
    embedder = _CountingEmbedder(384)
    answerer = ExtractiveAnswerer(embedder, row_cells=2, cache_size=0)
    answerer.score_candidates("pump model 3 interval", [_hit(_PUMP_TABLE)])
    pairs = [t for t in embedder.embedded if t.count(";") == 1]
    assert len(pairs) == 2 and all("; Interval: every" in t for t in pairs)


@pytest.mark.parametrize(
    ("question", "cause"),
    [
        ("why did the generator fail its load test", True),
        ("What was wrong with pump BME-INF-0231?", True),
        ("what caused the fridge excursion", True),
        ("root cause of the fall on ward 3", True),
        ("how come the autoclave was pulled", True),
        ("When is a root cause analysis due after a sentinel event?", False),  # asks when, not why
        ("how often is the generator load tested", False),
        ("which scrap reason code do I use", False),
    ],
)
def test_questions_that_ask_for_a_cause(question: str, cause: bool) -> None:
    assert asks_cause(question) is cause
    assert (lexical_query(question) != question) is cause


def test_a_cause_question_prefers_what_the_report_found_to_its_symptom() -> None:
    """A service report opens with the symptom, in the question's own words; the cause is under Findings. Only
    a question that asks for a cause moves the Findings sentence up, by ``cause_weight``."""
    hits = [
        _hit("Quarantined after the stretcher moved during a transfer.", doc="folder:maintenance/sr.md",
             section="Service Report: Stretcher > 2. Reason for service"),
        _hit("Worn cam and broken spring on caster 3.", doc="folder:maintenance/sr.md",
             section="Service Report: Stretcher > 3. Findings", n=1),
    ]

    def best(question: str, weight: float) -> tuple[str, dict[str, float]]:
        cands = ExtractiveAnswerer(HashingEmbedder(384), cause_weight=weight).score_candidates(question, hits)
        return max(cands, key=lambda c: c.score).text, {c.text[:4]: c.score for c in cands}

    why = "why did the stretcher move away from the table with the brake on"
    (plain, scores), (typed, boosted) = best(why, 0.0), best(why, 0.3)
    assert plain.startswith("Quarantined") and typed.startswith("Worn")  # by its words alone, the symptom wins
    assert boosted == pytest.approx({"Quar": scores["Quar"], "Worn": scores["Worn"] + 0.3})
    when = "when did the stretcher move away from the table with the brake on"  # no cause asked: no boost
    assert best(when, 0.3)[0].startswith("Quarantined")


@pytest.mark.parametrize(
    ("question", "row", "holds"),
    [
        ("who signs off a PO over 5,000 dollars", "Order value (USD): $5,000.01 to $50,000; Approver: Director", True),
        ("who signs off a PO over 5,000 dollars", "Order value (USD): $1,000.01 to $5,000; Approver: Head", False),
        ("PO for $32k - who approves", "Order value (USD): $5,000.01 to $50,000; Approver: Director", True),
        ("a 300k order", "Order value (USD): above $250,000; Approver: Board", True),
        ("our unit scored 85%", "Score: 80% to 89%; Rating: Amber", True),
        ("our unit scored 85%", "Score: 90% or above; Rating: Green", False),
        ("our unit scored 75%", "Score: Below 80%; Rating: Red", True),
        ("uptime was 99.2% last month", "Shortfall: Availability 99.0% to 99.49%; Credit: 10%", True),
        ("uptime was 99.2% last month", "Shortfall: Availability 99.5% to 99.89%; Credit: 5%", False),
        ("uptime was 99.2% last month", "Order value (USD): $50 to $150; Approver: Head", False),  # not a percentage
    ],
)
def test_a_table_row_whose_range_holds_the_questions_number(question: str, row: str, holds: bool) -> None:
    assert row_holds(row, question_numbers(question)) is holds


@pytest.mark.parametrize("question", ["class 1 recall in 2025", "pump BME-INF-0231", "what breaks on a 12 hr shift"])
def test_years_identifiers_and_small_bare_numbers_are_no_lookup_key(question: str) -> None:
    assert question_numbers(question) == []


def test_the_row_whose_range_holds_the_amount_is_preferred() -> None:
    table = (
        "| Order value (USD) | Approver |\n|---|---|\n| $1,000.01 to $5,000 | Department head |\n"
        "| $5,000.01 to $50,000 | Director of Operations |"
    )
    question = "who approves a purchase order over 5,000 dollars"
    typed = ExtractiveAnswerer(HashingEmbedder(384)).score_candidates(question, [_hit(table)])
    plain = ExtractiveAnswerer(HashingEmbedder(384), range_weight=0.0).score_candidates(question, [_hit(table)])
    gained = {"Operations" in c.text: c.score - p.score for c, p in zip(typed, plain, strict=True)}
    assert gained == pytest.approx({True: 0.1, False: 0.0})


def test_a_question_about_a_span_of_time_prefers_a_duration_to_any_number() -> None:
    text = "Library pool size: 40 pumps.\n\nThe standard loan period is up to 30 days.\n\nLoans are logged daily."
    question = "how long can we borrow a pump"
    typed = ExtractiveAnswerer(HashingEmbedder(384)).score_candidates(question, [_hit(text)])
    plain = ExtractiveAnswerer(HashingEmbedder(384), answer_type_weight=0.0).score_candidates(question, [_hit(text)])
    gained = {c.text.split()[1]: round(c.score - p.score, 4) for c, p in zip(typed, plain, strict=True)}
    # a number that is no duration earns nothing: "40 pumps" is the pool's size, not how long
    assert gained == {"pool": -0.05, "standard": 0.05, "are": 0.05}


@pytest.mark.parametrize(
    ("question", "sentence", "sibling"),
    [
        ("how long to resolve a P3 ticket", "A P1 ticket not resolved within 2 hours is escalated.", True),
        ("how long to resolve a P3 ticket", "Priority: P3; Resolution target: 3 business days", False),
        ("how long to resolve a P3 ticket", "P1 and P3 tickets are logged in Odoo.", False),  # names the asked one too
        ("how long to resolve a P3 ticket", "Tickets are resolved in order.", False),  # names no code
        ("how long to resolve a P3 ticket", "Q4 2025 results", False),  # another enumeration
        ("helpdesk targets", "A P1 ticket not resolved within 2 hours is escalated.", False),  # the question names none
        # a member named by its class noun and a label, lower case and Roman numerals included
        ("count frequency for class a items", "Class: C; Count frequency: Twice a year", True),
        ("count frequency for class a items", "Class: A; Count frequency: Monthly", False),
        ("who is told about a class 2 recall", "Class III; Unlikely to cause harm; Not required", True),
        ("who is told about a class 2 recall", "Class II; Temporary or reversible harm", False),
        ("what level of harm was the fall", "Severity: Level 3 - Moderate harm", False),  # the question names none
    ],
)
def test_a_sentence_about_another_member_of_the_questions_enumeration(
    question: str, sentence: str, sibling: bool
) -> None:
    from copilot.retrieval.answerer import _codes

    assert names_a_sibling(_codes(question), sentence) is sibling


def test_a_cause_question_also_gets_what_the_report_found() -> None:
    """The sentence closest to "why did ..." restates the event; the finding joins it when not far below."""
    event = _hit("The infusion pump on the ward stopped during the night shift without an alarm.",
                 section="Incident > Description", n=0)
    finding = _hit("The infusion pump door seal on the ward was cracked and let the set slip during the shift.",
                   section="Incident > Findings", n=1)
    # no cause weight: the finding stays a runner-up too far below to be chosen as one (0.16 < 0.2)
    answerer = ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0, calibration=None, cause_weight=0.0)
    why = answerer.answer("why did the infusion pump on the ward stop during the night shift", [event, finding])
    assert "stopped during the night" in why.text and "seal on the ward was cracked" in why.text
    what = answerer.answer("what did the infusion pump on the ward do during the night shift", [event, finding])
    assert "seal on the ward was cracked" not in what.text


def test_a_finding_of_no_fault_is_no_cause() -> None:
    text = "1. Door seal cracked at the hinge.\n2. Side rails and mattress: no defect.\n3. Battery in good condition."
    question = "what was wrong with the pump"
    hit = _hit(text, section="Service Report > Findings")
    typed = ExtractiveAnswerer(HashingEmbedder(384)).score_candidates(question, [hit])
    plain = ExtractiveAnswerer(HashingEmbedder(384), cause_weight=0.0).score_candidates(question, [hit])
    gained = {c.text[:2]: round(c.score - p.score, 4) for c, p in zip(typed, plain, strict=True)}
    assert gained == {"1.": 0.1, "2.": 0.0, "3.": 0.0}


@pytest.mark.parametrize(
    ("word", "spelt"),
    [
        ("strenght", "strength"),  # two letters swapped
        ("recieving", "receiving"),
        ("dollers", "dollars"),  # one changed
        ("positve", "positive"),  # one dropped
        ("enteral", None),  # rare, but no common word one edit away: a word of its own
        ("medirion", None),  # a name
        ("chlorine", None),  # common enough to be meant
        ("foto", None),  # under five letters: too many neighbours to tell
        ("zzzzq", None),  # its neighbour "zzzz" is no common word
    ],
)
def test_english_spelling_of_a_slip(word: str, spelt: str | None) -> None:
    assert english_spelling(word) == spelt


def test_a_misspelt_word_the_passages_lack_weighs_as_its_spelling() -> None:
    """"what strenght chlorine": "strength" is missing from the passages, as an everyday word, not as a rare one
    (wordfreq lists the slip itself at Zipf 2.2, which would make it the question's most specific word)."""
    answerer = ExtractiveAnswerer(HashingEmbedder(dimension=64))
    hits = [_hit("Clean with the chlorine-based product (1,000 ppm available chlorine).")]
    slip = answerer.signals("what strenght chlorine", None, hits)["missing_specific"]
    spelt = answerer.signals("what strength chlorine", None, hits)["missing_specific"]
    assert slip == spelt < 0.5


@pytest.mark.parametrize(
    ("question", "sentence", "defines"),
    [
        ("who is the recall coordinator", "- Recall Coordinator: the Supply Chain Quality Lead; receives all notices.",
         True),
        ("Who coordinates product recalls?", "Recall Coordinator: the Supply Chain Quality Lead.", True),  # stems
        ("who is the recall coordinator", "The coordinator sends the recall notice to all sites.", False),  # acts
        ("who approves a write-off over $2,500", "Director of Operations: approves any single write-off.", False),
        ("who has to do the DOT course", "Course: Hazardous materials (DOT); Who: Staff who sign manifests", False),
        ("what does the recall coordinator do", "Recall Coordinator: the Supply Chain Quality Lead.", False),  # no who
    ],
)
def test_a_roles_list_line_answers_who_holds_the_role(question: str, sentence: str, defines: bool) -> None:
    assert defines_asked_role(question, sentence) is defines
