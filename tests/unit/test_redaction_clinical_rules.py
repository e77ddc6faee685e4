"""The clinical rules one by one, without spaCy: which kind a text is, and what each clinical recognizer finds.

Rows are written from general knowledge of nursing notes, SOPs and tickets (not copied from any gold set).
"""

from __future__ import annotations

import pytest

from copilot.ingest.redaction import clinical
from copilot.ingest.redaction.clinical import (
    ClinicalDateRecognizer,
    ClinicalNameRecognizer,
    FacilityRecognizer,
    ShorthandPhoneRecognizer,
    profile_for_doc_type,
    text_kind,
)
from fixtures.redaction import found

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("PT AWAKE, FOLLOWS COMMANDS. HR 80S SR, BP 110/60. CONT LASIX GTT. WIFE AT BEDSIDE.", "clinical"),
        ("neuro: sedated on propofol. resp: vent 40% peep 5, abg 7.38/40/90. gu: foley uo 40cc/hr", "clinical"),
        (
            "4.2 The supplier shall deliver within 5 business days of the purchase order; late delivery penalties "
            "apply under section 9 of this agreement.",
            "operational",
        ),
        (
            "Preventive maintenance of BME-INF-0231 is due every 12 months; the technician records the work order.",
            "operational",
        ),
        ("Thanks, see you tomorrow.", "general"),
    ],
)
def test_text_kind(text: str, kind: str) -> None:
    assert text_kind(text)[0] == kind


def test_text_kind_is_bounded_on_huge_text() -> None:
    assert text_kind("pt stable. " * 1_000_000)[0] == "clinical"


@pytest.mark.parametrize(
    ("doc_type", "profile"),
    [
        ("sop", "operational"),
        ("contract", "operational"),
        ("maintenance_log", "operational"),
        ("incident_report", "clinical"),
        ("document", "auto"),
        (None, "auto"),
    ],
)
def test_profile_for_doc_type(doc_type: str | None, profile: str) -> None:
    assert profile_for_doc_type(doc_type) == profile


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("s/p cabg 7/22, extubated 7/23", ["7/22", "7/23"]),
        ("ADMITTED 10/3/05 FROM ED", ["10/3/05"]),
        ("cx 2/27-3/1 pending", ["2/27", "2/27-3/1", "3/1"]),  # both ends, and the range with its dash
        ("seen Sept 12th and again on 14 March 2019", ["14 March 2019", "Sept 12th"]),
        ("home since christmas, PCP visit in march of 2019", ["christmas", "march"]),
        # "may" and "march" are words too: a date with a day, the ordinal's suffix included; a holiday's eve
        ("Admit date: March 3rd, MAY 2ND dc'd, fell on xmas eve", ["MAY 2ND", "March 3rd", "xmas eve"]),
        ("pain 4/10, murmur 2/6, strength 5/5, 1/2 NS at 75", []),
        ("on PS 10/5 and CPAP of 5/5, ABG 7.41/38/92", []),
        ("DECREASED TO 5 DEC, T 101.5 DEC", []),
        ("blood cx 2/4 bottles pos", []),
        # a month's abbreviation in a lower-case note ("dec" is "decreased"); a date and a later day
        ("s/p cabg jul 22nd, f/u sept 9, cx from 7/1-3 neg", ["7/1-3", "jul 22nd", "sept 9"]),
        ("dec 5 units, dec 2 today", []),
        ("home 11/30-1 wk, 7/22-3 PRBC given", ["11/30", "7/22"]),  # a dash, then no later day of the month
        ("cabg Jul 2019, ptca JUNE, 2101", ["JUNE, 2101", "Jul 2019"]),  # a month and its year
        # a month and a two- or four-digit year in a history, a letter glued on or not
        ("PMH: MI 3/88, hip fx9/04 (ORIF), AVR 11/2012", ["11/2012", "3/88", "9/04"]),
        ("fio2 4/50%, pain 2/40", []),
        # settings later in a ventilator clause: a volume times a rate, "weaning on"
        ("SIMV 600 X 12, 40% 5/5. weaning on 10/5 this am", []),
    ],
)
def test_clinical_dates(text: str, dates: list[str]) -> None:
    assert found(ClinicalDateRecognizer(), text) == sorted(dates)


def test_a_date_and_a_later_day_survive_the_date_check() -> None:
    from copilot.ingest.redaction import PresidioRedactor, RedactionConfig

    red = PresidioRedactor(RedactionConfig())
    text = "cx from 7/1-3 neg, pain 3/4-5 at rest"
    got = [text[s.start : s.end] for s in red.analyze_batch([text], profile="clinical")[0]]
    assert got == ["7/1-3"]


def test_the_date_check_keeps_a_month_and_its_year_and_drops_a_pressure_range() -> None:
    from copilot.ingest.redaction.presidio import _valid_numeric_date

    def ok(value: str) -> bool:
        return _valid_numeric_date(value, 0, len(value))

    assert ok("1/78") and ok("12/2019") and ok("7/1-3")
    assert not ok("13/78") and not ok("1/1850") and not ok("28/10-14")  # no month; a pressure and its range


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("dr. chen and dr. murray aware", ["chen", "murray"]),
        ("per Dr. Tyro hold lasix", ["Tyro"]),
        ("dtr laverne called, son rob at bedside", ["laverne", "rob"]),
        ("daughters sarah and margie visited", ["margie", "sarah"]),
        ("HERMAN W. EMPERATRICE, RRT", ["HERMAN W. EMPERATRICE"]),
        ("Z. MILLER AWARE OF CT OUTPUT", ["Z. MILLER"]),
        # shorthand after a cue is no name
        ("PA line intact, wife states pt slept, son present", []),
        ("pt needs a nasal trumpet, md aware", []),
        ("MS, THEREFORE DECREASED ATIVAN", []),
        ("dr. o'connell and declined an autopsy", ["o'connell"]),
        ("d/w Hendricks re heparin gtt", ["Hendricks"]),  # "discussed with"
        ("S/W Lopez to meet w/ family, s/w pt re: plan", ["Lopez"]),  # social work, or "spoke with"
        # signatures glued to a dash or an initial's dot
        ("will cont to monitor. --Kowalczyk, RN", ["Kowalczyk"]),
        ("uo adequate. -K.Nguyen rn", ["K.Nguyen"]),
        ("wean vent as tol. T.Wojcik,RNC", ["T.Wojcik"]),
        # a surname that is also an abbreviation ("CHO") beside a known name in a team's brackets
        ("MICU TEAM (ABERNATHY/CHO) AWARE", ["ABERNATHY", "CHO"]),
        ("renal (ARF/CHO) following", []),
        # a common surname that is an English word, beside a clinician's title or role
        ("CONT TO MONITOR. BLACK RN", ["BLACK"]),
        ("care turned over to Small, RN. per NP Brown, hold lasix", ["Small", "Brown"]),
        ("paged Wood (cards fellow) for low bp", ["Wood"]),
        # ... and not a word before a role that starts a clause, a role's qualifier or a rare surname
        ("pt on PA line, md aware. LASIX GIVEN, RN TO FOLLOW K. charge RN, KEEP NP ON", []),
        # a family's names in brackets; a two-letter first name written as a name
        ("FAMILY (MARY) AWARE, husband (Ray) updated, son Ed at bedside", ["MARY", "Ray", "Ed"]),
        ("family (x3) in, family (wife, son) aware, SON ED VISIT, dtr (RN) asking", []),
        # people close to the patient who are not family
        ("HER CAREGIVER, DOLORES, AT BEDSIDE. neighbor Marguerite checking on cat", ["DOLORES", "Marguerite"]),
        ("lawyer (Thaddeus Okafor) reviewing POA", ["Thaddeus Okafor"]),
        # units and drugs after a number are no cue, "w" without a dot is "with", "ms" is morphine or mental
        # status, and a lower-case word after a title in mixed-case text is a word
        ("ETT at the 22cm mark, #18 FR FOLEY in place", []),
        ("3VD W HEAVY CALCIFICATION, LAD W BRIDGE COLLATERALS", []),
        ("4mg ms given for pain, ms contin at hs, MS back to baseline", []),
        ("Rising PA pressures, CVP up. Discussed with NP Okafor.", ["Okafor"]),
    ],
)
def test_clinical_names(text: str, names: list[str]) -> None:
    got = found(ClinicalNameRecognizer(), text)
    assert [n for n in names if n not in got] == []
    # nothing else but later mentions of the names' own words
    words = {w.lower() for n in names for w in n.replace(".", " ").split()}
    assert [g for g in got if g not in names and not set(g.lower().replace(".", " ").split()) <= words] == []


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("TRANSFER TO QUARTERMAIN 2 TODAY", ["QUARTERMAIN"]),
        ("transfer to quartermain 2 today", ["quartermain"]),  # a note typed in lower case
        # mixed-case text capitalises a ward's name: "caster 3" is a part, "Quartermain 3" a ward
        ("Brake on caster 3 did not lock. Pt transferred to Quartermain 3.", ["Quartermain"]),
        ("transferred from Fairhaven Rehab on 5/2", ["Fairhaven"]),
        ("PT WAS ADMITTED TO HARFORD MEMORIAL FOR VFIB", ["HARFORD MEMORIAL"]),
        ("med flighted to GH cath lab", ["GH"]),
        ("from University of Maryland hospital", ["University of Maryland"]),
        ("went to holy cross with fever", ["holy cross"]),
        ("son lives in california, flying in", ["california"]),  # a state in lower case after a motion cue
        ("dtr lives in columbia, SON LIVES IN READING", ["columbia", "READING"]),  # a town that is a word
        ("lives in fear of falling, lives in an apartment", []),
        # a family's travel
        ("DTR FLYING IN FROM OHIO, son driving up from Towson tonight", ["OHIO", "Towson"]),
        ("WENT HOME TO NH, coming off vent, flying in from the floor", []),
        # where a patient is from (after an age), and "here" before the preposition
        ("72 YO M FROM TOWSON, TRANSFERRED HERE FROM DUNDALK", ["TOWSON", "DUNDALK"]),
        ("63 yo female from home, 70 yo in afib", []),
        ("SPOKE TO DAUGHTER, WHO MOVED TO TEXAS", ["TEXAS"]),
        # a hospital named by English words before its head word, after a place preposition, in any case
        ("TRANSFERRED FROM HARBOR HOSPITAL, THEN TO the peninsula regional", ["HARBOR", "peninsula"]),
        ("MT. AUBURN ED sent pt, family drove up from Mount Airy", ["MT. AUBURN", "Mount Airy"]),
        ("admitted to this hospital, was at the heart hospital, lives in hospital housing", []),
        # places of care that are no facility's name
        ("transferred to the floor, then to OSH for CT", []),
        ("returned from cath lab, to ccu", []),
        # a hospital's acronym after a place preposition, even one the vocabulary knows ("GH"); every later
        # mention of it; "the" before it
        ("tranfered to BH last pm, BH team called, consult from the SVMC", ["BH", "BH", "SVMC"]),
        ("in HIGH spirits, to COUGH and deep breathe, back to NH", []),
        # a second place joined to one found
        ("SCREENED BY GLENDARROCH REHAB AND TALLMADGE FOR PLACEMENT", ["GLENDARROCH", "TALLMADGE"]),
        ("transferred to Fairhaven Rehab and intubated", ["Fairhaven"]),
    ],
)
def test_facilities(text: str, places: list[str]) -> None:
    got = found(FacilityRecognizer(), text)
    assert [p for p in places if p not in got] == []
    words = {w.lower() for p in places for w in p.split()}
    assert [g for g in got if g not in places and not set(g.lower().split()) <= words] == []


def test_a_facility_is_redacted_wherever_it_is_mentioned() -> None:
    text = "Transfer to Quartermain 2 when bed available. QuartermainBuilding aware."
    assert found(FacilityRecognizer(), text) == ["Quartermain"]
    assert len([r for r in FacilityRecognizer().analyze(text, []) if r.score >= 0.4]) >= 2


@pytest.mark.parametrize(
    ("text", "phones"),
    [
        ("can be reached at 202 2671093", ["202 2671093"]),
        ("beeper #4417, x52231", ["4417", "x52231"]),  # the number, not the word before it
        ("dr paged at 4-1234, pls page 38123", ["4-1234", "38123"]),
        ("wife @ 555-1234", ["555-1234"]),
        ("paged x2 for low uo", []),
        ("SON ROB 482-5518 AND DTR 648-9903 AWARE", ["482-5518", "648-9903"]),
        ("uo 200-1500 cc/hr, plts 150-400, giving 250-2000 ml", []),
        ("WIFE'S # IS 555-2231", ["555-2231"]),
        ("555-0148 home", ["555-0148"]),
        ("goal uo 500-1000cc, tv 930-1130", []),
        ("X 2000 ml", []),
        ("son can be reached at 5-1234 after 5", ["5-1234"]),  # in-house extension beside a phone word
        ("k 3-4000 range, po 2-1000cc", []),  # ... and a range of values without one
        (
            "ROB 555-1234 AWARE, daughter +1 617 555 1234 or 617--555-4321",
            ["555-1234", "+1 617 555 1234", "617--555-4321"],
        ),
        ("svr 882-1326, k 300-800, tv 450-1000, 545-1215pm", []),  # within two-fold, round, or a time of day
        # a letter glued on either side; not a link of a longer run of numbers
        ("w/617-555-1234, 617-555-4321-home", ["617-555-1234", "617-555-4321"]),
        ("3/617-555-1234, 1234-5678-9012", []),
        # a pager after its word with a colon, a "#" or as "PG"
        ("Pager: #40417, PG 31177, pg: 2210", ["40417", "31177", "2210"]),
        ("10 pg/ml, pg 12 of chart", []),
        # a pager a few words after its word, within its clause; an extension "x 4567" beside a phone word
        ("pager number 12345, beeper no. 34567, paged x 2 at 45678", ["12345", "34567", "45678"]),
        ("Pager 12345/67890 covering", ["12345", "67890"]),
        ("Call x 4567 with questions", ["4567"]),
        ("paged MD at 0300, paged re heparin 25000 units. Pager off; 12345 ml in", []),
        ("ivf x 1000, x 2 today", []),
        # ten digits grouped as read out, beside a phone word; never without one, never an invalid number
        ("wife can be reached at 617 555 12 34", ["617 555 12 34"]),
        ("DTR'S # 617-55-51234 CALLED", ["617-55-51234"]),
        ("bp 135 102 24 18 10 this am", []),  # no phone word, no valid area code
        ("called, labs 617 555 12 34", ["617 555 12 34"]),
        ("called re 117 555 12 34", []),  # an area code never starts with 1
    ],
)
def test_shorthand_phones(text: str, phones: list[str]) -> None:
    got = found(ShorthandPhoneRecognizer(), text)
    assert [p for p in phones if p not in got] == []
    assert [g for g in got if not any(g in p for p in phones)] == []  # nothing outside the phones


def test_vocabulary_guard() -> None:
    for word in ("PRBC", "BUN", "Kayexalate", "Foley", "SpO2", "fio2", "pre-illness", "ALINE", "Quinton", "Carevue"):
        assert clinical.is_clinical_word(word), word
    for word in ("Margie", "Logan", "Okonkwo", "Mary"):
        assert not clinical.is_clinical_word(word), word
    assert clinical.is_misspelt_word("PRESNT") and clinical.is_misspelt_word("recieve")
    assert not clinical.is_misspelt_word("Nessenson")


def test_a_slow_judgement_of_one_match_does_not_end_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """``regex`` counts the CPU time of the loop body against a ``finditer`` time limit: the recognizers collect
    their matches before judging them, so every facility after a slow one is still found."""
    import time

    real = clinical._facility_words

    def slow(cand: str, resides: bool = False) -> list[tuple[int, int]]:
        t0 = time.process_time()
        while time.process_time() - t0 < 0.03:
            pass
        return real(cand, resides)

    monkeypatch.setattr(clinical, "REGEX_TIMEOUT_S", 0.05)
    monkeypatch.setattr(clinical, "_facility_words", slow)
    text = "transferred to Glendarroch, then sent to Tallmadge, later moved to Quillfarne"
    assert {"Glendarroch", "Tallmadge", "Quillfarne"} <= set(found(FacilityRecognizer(), text))
