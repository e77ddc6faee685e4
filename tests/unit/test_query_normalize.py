"""Query normalisation: glossary learned from the documents, medical abbreviations, truncations, typos."""

from __future__ import annotations

import pytest

from copilot.retrieval.normalize import QueryNormalizer, learn_glossary, learn_names, schwartz_hearst

pytestmark = pytest.mark.unit

CORPUS = [
    "Biomedical Engineering (BME) performs preventive maintenance (PM) on every infusion pump.",
    "The PM interval is 12 months. Defibrillators are checked daily; the defibrillator log is kept.",
    "Record the temperature of the medication refrigerator twice a day. Lakeside Hospital receiving dock.",
    "Deliveries are inspected at receiving. The equipment library lends equipment between sites.",
    "Oxygen cylinders are stored upright. The cylinder pressure must be checked before a patient transfer.",
    "The manager of the unit approves. Each patient has a wristband. Patient transport is booked.",
    "The Chief Information Officer (IT) is told of P1 tickets.",
    "General and internal procedures apply to central stores.",
]


@pytest.fixture(scope="module")
def norm() -> QueryNormalizer:
    return QueryNormalizer.from_texts(CORPUS)


def test_schwartz_hearst_aligns_letters_to_words() -> None:
    assert schwartz_hearst("BME", ["performs", "Biomedical", "Engineering"]) == "biomedical engineering"
    assert schwartz_hearst("PM", ["preventive", "maintenance"]) == "preventive maintenance"
    assert schwartz_hearst("XYZ", ["preventive", "maintenance"]) is None


def test_glossary_is_learned_from_definitions_only() -> None:
    glossary = learn_glossary(CORPUS)
    assert glossary["bme"] == "biomedical engineering"
    assert glossary["pm"] == "preventive maintenance"
    assert "medication" not in glossary  # words in brackets are not abbreviations


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("recieving", "receiving"),  # typo: one transposition
        ("lakside", "lakeside"),  # typo: one letter dropped
        ("defribillator", "defibrillator"),  # long word: two edits, same first letter
        ("temp", "temperature"),  # truncation
        ("equip", "equipment"),
        ("mgr", "manager"),  # contraction without vowels
    ],
)
def test_rewrites_into_corpus_words(norm: QueryNormalizer, typed: str, expected: str) -> None:
    assert norm.normalize(f"the {typed} thing").text == f"the {expected} thing"


def test_glossary_abbreviation_gets_its_long_form(norm: QueryNormalizer) -> None:
    assert norm.normalize("pm for pumps").text == "pm preventive maintenance for pumps"


def test_medical_abbreviation_only_when_the_corpus_speaks_of_it(norm: QueryNormalizer) -> None:
    assert norm.normalize("min O2 cyl pressure").text.startswith("min oxygen")
    # "ABG" means arterial blood gas, but nothing in this corpus mentions blood gases: kept as typed
    assert norm.normalize("ABG analyser").text == "ABG analyser"


def test_inflections_of_one_word_do_not_split_the_vote(norm: QueryNormalizer) -> None:
    # the corpus says "cylinders" once and "cylinder" once: one word, so "cyl" is not ambiguous
    assert norm.normalize("min O2 cyl pressure").text == "min oxygen cylinders pressure"
    assert norm.rewrite("defib") in (("defibrillator", "truncation"), ("defibrillators", "truncation"))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("cyls", "cylinder"),  # a truncation in the plural
        ("defibs", "defibrillator"),
        ("equips", "equipment"),
        ("mgrs", "manager"),  # a contraction in the plural
        ("PMs", "preventive maintenance"),  # a glossary abbreviation in the plural
    ],
)
def test_shorthand_in_the_plural_gets_its_singulars_expansion(
    norm: QueryNormalizer, typed: str, expected: str
) -> None:
    assert expected in norm.normalize(f"the {typed} here").text


def test_plural_of_a_word_nobody_shortens_is_left_to_the_typo_step(norm: QueryNormalizer) -> None:
    # "recievings" is no shorthand: its singular is a typo, and only the typo step may touch it
    rewritten = norm.rewrite("recievings")
    assert rewritten is None or rewritten[1] == "typo"
    assert norm.rewrite("gass") is None or norm.rewrite("gass")[1] != "plural truncation"  # "-ss" is no plural


def test_words_are_not_rewritten(norm: QueryNormalizer) -> None:
    # real English words the corpus lacks stay ("smartphone"); a pronoun is not the IT department
    assert norm.normalize("my smartphone broke, is it covered").text == "my smartphone broke, is it covered"
    assert norm.normalize("how long does it take").text == "how long does it take"
    # a rare word one edit from a corpus word but with another first letter is not a typo of it
    assert "enteral" in norm.normalize("enteral feeding pump").text


def test_changes_are_reported(norm: QueryNormalizer) -> None:
    out = norm.normalize("lakside temp")
    assert [(c[0], c[2]) for c in out.changes] == [("lakside", "typo"), ("temp", "truncation")]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("a 30k order", "a 30,000 order"),
        ("over $1000", "over $1,000"),
        ("in 2025", "in 2025"),  # a year
        ("a 5m walk", "a 5m walk"),  # minutes or metres as often as millions
        ("3.5 units", "3.5 units"),
        ("pump BME-INF-0231", "pump BME-INF-0231"),  # an asset tag keeps its digits
        ("PO 0042", "PO 0042"),  # a leading zero: an identifier, not an amount
    ],
)
def test_amounts_as_documents_write_them(norm: QueryNormalizer, typed: str, expected: str) -> None:
    assert norm.normalize(typed).text == expected


def test_from_chunks_learns_the_sites_of_the_metadata() -> None:
    from copilot.types import Chunk

    def chunk(text: str, site: str | None) -> Chunk:
        return Chunk(doc_id="d", ordinal=0, text=text, title="t", section="s", page_start=None, page_end=None,
                     source_url="file:///d", doc_type="sop", site=site, department=None, acl_groups=("all_staff",),
                     checksum="x")

    norm = QueryNormalizer.from_chunks([chunk("Generators are tested monthly.", "south_campus"),
                                        chunk("Passwords have 14 characters.", None)])
    assert norm.sites == frozenset({"south_campus"})
    assert "generators" in norm.vocabulary


def _filler(ids: str) -> list[tuple[str, str]]:
    """Documents that only carry the organisation's name (a name in all of them tells none apart)."""
    return [(doc, "Riverside Health Network. Nothing here.") for doc in ids]


def test_proper_names_are_learned_from_how_the_documents_write_them() -> None:
    docs = [
        ("a", "Riverside Health Network and Crestline Medical Supply agree. Orders to Crestline by noon."),
        ("a", "Orders go to orders@crestline.com; the Customer pays within 30 days."),
        ("b", "Riverside Health Network and CleanWave Linen agree. Then CleanWave collects linen on Friday."),
        ("c", "Riverside Health Network. Pumps made by Medirion go to Apex for repair; Apex returns them."),
        ("c", "The apex of the curve. The AEDs and the Medirion pumps are checked on Friday."),
        *_filler("defghijk"),
    ]
    names = learn_names(docs)
    # written capitalised inside sentences, twice or more, in few documents, and no English word
    assert {"crestline", "cleanwave", "medirion"} <= set(names)
    assert names["crestline"] == {"a"} and names["medirion"] == {"c"}  # with the documents that write them
    assert "apex" not in names  # also written in lower case (and an English word)
    assert "riverside" not in names  # in every document: tells none apart
    assert "friday" not in names  # a date
    assert "aeds" not in names  # an abbreviation's plural
    assert "customer" not in names  # an English word


def test_a_companys_first_word_is_a_name_even_when_english_has_it() -> None:
    docs = [
        ("a", "Riverside Health Network and Keystone Power & Fire Services Inc. agree. Keystone tests them."),
        ("b", "Parties: Riverside Health Network and Precision Instrument Repair LLC. Then Precision repairs."),
        ("c", "Riverside Health Network. Beyond a keystone habit, the Summit team meets."),
        ("d", "Riverside Health Network. The Summit team meets; then Summit reports."),
        *_filler("efghijkl"),
    ]
    names = learn_names(docs)
    assert "precision" in names  # closed by its legal form, capitalised wherever a sentence writes it
    assert "keystone" not in names  # also written in lower case
    assert "summit" not in names  # capitalised every time, but no company's name: English
