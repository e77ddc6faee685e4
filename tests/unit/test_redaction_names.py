"""Person-name recall: gazetteers read from installed packages, casing rules, cues and lists.

Real gazetteers (``names``, ``gender-guesser``, ``wordfreq``), no mocks; operational text must stay readable.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from copilot.ingest.redaction import names as N
from copilot.ingest.redaction.names import NameRecognizer
from fixtures.redaction import found

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def rec() -> NameRecognizer:
    r = NameRecognizer()
    r.load()
    return r




# -- gazetteers ---------------------------------------------------------------------------------------------
def test_first_names_join_census_and_international_lists() -> None:
    first = N.load_first_names()
    assert {"MEGAN", "SZABINA", "GUÐGEIR", "MIKLÓS", "JÁN"} <= first
    assert "JUNWEI" in first and "JUN-WEI" in first  # "Jun+Wei" in nam_dict
    assert "WILL" not in first and "AMBER" not in first  # domain words stay words
    assert len(first) > 40_000


def test_gazetteers_load_fast_and_once() -> None:
    N.load_first_names.cache_clear()
    t0 = time.perf_counter()
    N.load_first_names()
    assert time.perf_counter() - t0 < 2.0
    t0 = time.perf_counter()
    N.load_first_names()
    assert time.perf_counter() - t0 < 0.001


def test_nam_dict_format(tmp_path: Path) -> None:
    """Comments, short=long pairs, duplicate umlaut-sorted rows, "+" joins and legacy escapes."""
    rows = [
        "# comment line",
        "=  Aris Aristotelis",
        "M  Aadam" + " " * 41 + "1",
        "F  Åsa".ljust(29) + "+" + "118",
        "?  Jun+Wei".ljust(30) + "1",
        "F  Ren<e'>e".ljust(30) + "1",
    ]
    path = tmp_path / "nam_dict.txt"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert N._nam_dict_names(path) == {"AADAM", "JUNWEI", "JUN-WEI"}


@pytest.mark.parametrize(
    ("word", "lower", "strength"),
    [
        ("Megan", False, 2),  # as frequent in text as its bearers explain
        ("Scott", False, 2),
        ("Szabina", False, 2),  # international, no English word
        ("Chase", False, 1),  # a census name, mostly a word
        ("Said", False, 1),  # an international name, mostly a word
        ("Will", False, 0),  # a domain word
        ("Hospital", False, 0),
        ("patricia", True, 2),
        ("logan", True, 1),
    ],
)
def test_first_name_strength(word: str, lower: bool, strength: int) -> None:
    assert N.first_name_strength(word, lower=lower) == strength


def test_surname_strength() -> None:
    assert N.surname_strength("Becker") == 2
    assert N.surname_strength("Philips") == 1  # a brand far more than a family
    assert N.surname_strength("Stryker") == 1
    assert N.surname_strength("Lindqvist") == 0  # not in the census list: casing finds it


# -- recognizer ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # international names: known first name, surname by casing
        ("song by Szabina J Gelencsér - good", ["Szabina J Gelencsér"]),
        ("the verses from Faina D. Yefremova's tales", ["Faina D. Yefremova"]),
        ("Maybe it's under Miklós Hajdu", ["Miklós Hajdu"]),
        ("Elínborg Guðmundsdóttir said so", ["Elínborg Guðmundsdóttir"]),
        ("Wisława Szczepańska's killers sentenced", ["Wisława Szczepańska"]),
        ("Daan van der Berg called", ["Daan van der Berg"]),
        ("Jean-Pierre Dubois called", ["Jean-Pierre Dubois"]),
        ("Grace Adebayo-Hill, Hep B", ["Grace Adebayo-Hill"]),
        # lower case
        ("follow up with patricia desrosiers in a couple of months.", ["patricia desrosiers"]),
        ("follow up with benjamin a seiler soon", ["benjamin a seiler"]),
        ("my name is vitoria", ["vitoria"]),
        # lone names in lists, dialogue and after cues
        ("They had 6: Romi, Erik, Amy", ["Amy", "Erik", "Romi"]),
        ("founders: Kónya, Becker and Vasquez.", ["Becker", "Kónya", "Vasquez"]),
        ("Enrico shouted at Gary", ["Enrico", "Gary"]),
        ("What's your last name? Boyle", ["Boyle"]),
        ("my kid Lukas", ["Lukas"]),
        ("Directed By: Johannes Varvio", ["Johannes Varvio"]),
        ("Her maiden name is Key", ["Key"]),
        ("I'm so jealous! said Maslin to Antonio", ["Antonio", "Maslin"]),
        ("Ella: What a wife.", ["Ella"]),
        ("Amanda's badge", ["Amanda"]),
        ("Hi Rose, the pump is back", ["Rose"]),  # a word-like name after a greeting
        ("per Johnson the order is late", ["Johnson"]),
        ("This song by ex-Zombie Kastner is a perfect example", ["Kastner"]),  # a surname mid-sentence
        # later mentions of a found name
        ("verses from Emmie Ström's Tales. Better than early Ström?", ["Emmie Ström", "Ström"]),
        ("directed by Brad L Key and starring Key", ["Brad L Key", "Key"]),
        # upper-case notes
        ("Pt J. SMITH stable", ["J. SMITH"]),
        ("SMITH, JOHN 94 yo", ["SMITH, JOHN"]),
        ("GELENCSÉR, SZABINA 45F", ["GELENCSÉR, SZABINA"]),
        ("HUSBAND THOMAS WRIGHT AT BEDSIDE", ["THOMAS WRIGHT"]),
        ("PT NOWAK REFUSED MEDS", ["NOWAK"]),
        ("RN NOTE 1900: PT DAVID O'BRIEN AMBULATING", ["DAVID O'BRIEN"]),
    ],
)
def test_finds_names(rec: NameRecognizer, text: str, expected: list[str]) -> None:
    hits = found(rec, text)
    for e in expected:
        assert any(e in f for f in hits), (e, hits)


@pytest.mark.parametrize(
    "text",
    [
        # operational text: domain words, suppliers, products, sites, headings
        "Grace period for PCA pumps reduced from 30 to 14 days",
        "Requested through a ticket in the Equipment Loan category",
        "80% to 89% | Amber | Unit manager reviews",
        "the Victoria Hospital pump and Lake Victoria campus",
        "Order from Medline, Cardinal and Owens today",
        "Heparin, Warfarin and Apixaban are stocked",
        "Pharmacy, Biomed and Facilities signed off",
        "emailed Stryker about the bed frame",  # a brand: a rare surname for its frequency in text
        "Thanks Team, per Policy the Baxter Sigma Spectrum pump is quarantined",
        "Purchases above $5,000 wait for a person: a named approver must approve them",
        "healthcare recognizers (MRN, NPI, member/claim IDs, DOB)",
        "hybrid p95 at 13 ms. Copilot therefore searches",
        # upper-case notes full of words
        "THANKS IN ADVANCE! HI ALL",
        "THE BADGE READER ACCEPTS MY CARD BUT LOGIN FAILS",
        "LAB RESULTS ARE NOT SHOWING IN THE PATIENT RECORD",
        "SWAPPED PER SOP. PT TEARFUL.",
        # addresses named after people belong to the address rules
        "I need to add 04862 Victor Hugo u. 49. Suite 638",
        "He lives on the north side of Joaquin Suarez 2906.",
        "the corner of Kuusiku 7 and Alexander Flat",
        "Mora de Rubielos, Spain 16200",
    ],
)
def test_operational_text_stays(rec: NameRecognizer, text: str) -> None:
    assert found(rec, text) == []


def test_place_preposition_keeps_score_low(rec: NameRecognizer) -> None:
    """A first name after "in"/"from" may be a town: PERSON stays weak so a LOCATION detection wins."""
    text = "flew in from Victoria yesterday"
    scores = [r.score for r in rec.analyze(text, []) if text[r.start : r.end] == "Victoria"]
    assert scores and max(scores) < 0.6


def test_e_mail_and_url_parts_are_no_names(rec: NameRecognizer) -> None:
    assert found(rec, "e-mail: eva.kleist@rhyta.com website: https://www.patricia.example/") == []


def test_long_text_is_fast(rec: NameRecognizer) -> None:
    text = "Pt Megan Young seen by Dr. Szabina Gelencsér; Kónya, Becker and Vasquez notified. " * 60
    rec.analyze(text[:200], [])
    t0 = time.perf_counter()
    out = rec.analyze(text, [])
    assert time.perf_counter() - t0 < 1.0
    assert len(out) >= 60 * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HOLD HEPARIN PER DR NISHIMURA.", ["NISHIMURA"]),
        ("HOLD MORPHINE PER DR WHITE.", ["WHITE"]),
        ("Seen by Dr. Korutürk today", ["Korutürk"]),
        ("pain 6/10, rn filippo aware.", ["filippo"]),
        ("pt stable, rn aware of plan", []),
        ("Call the Dr Office first", []),
    ],
)
def test_clinical_shorthand_after_titles_and_roles(rec: NameRecognizer, text: str, expected: list[str]) -> None:
    assert found(rec, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Halldór: What a wife.", ["Halldór"]),
        ("Callback: 555-0116 please", []),
        ("Extension: 4412", []),
    ],
)
def test_speaker_labels_are_not_form_fields(rec: NameRecognizer, text: str, expected: list[str]) -> None:
    assert found(rec, text) == expected


def test_a_shadowed_names_package_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(N, "_package_dir", lambda name: tmp_path)  # a names.py with no census lists beside it
    with caplog.at_level("WARNING", logger=N.logger.name):
        assert N._read_census("dist.all.last") == {}
    assert "shadowing" in caplog.text
