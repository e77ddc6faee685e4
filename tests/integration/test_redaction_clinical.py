"""Clinical writing through the real redactor (spaCy loaded): each row is a line as clinicians write it, the
values that must be redacted and the ones that must stay readable.

The rows were written from general knowledge of ICU and ward notes, tickets and incident reports (names, towns
and hospitals of our own choosing), not copied from the PhysioNet notes: they check that the clinical rules
generalise beyond the corpus they were developed on.
"""

from __future__ import annotations

import pytest

from copilot.ingest.redaction import PresidioRedactor

pytestmark = pytest.mark.integration



CASES = [
    # dates: every element but the year
    ("PT S/P CABG X3 ON 6/14, EXTUBATED 6/15 AM.", ["6/14", "6/15"], ["CABG"]),
    ("pod#2 4/23 afebrile, tol clears", ["4/23"], ["pod#2"]),
    ("Pt admitted 11/2/04 w/ CHF exac, diuresed w/ lasix 40mg iv.", ["11/2/04"], ["lasix", "40mg"]),
    ("ABG 7.38/42/88 on PS 10/5, FiO2 40%. Pain 4/10 after morphine.", [], ["7.38/42/88", "10/5", "4/10"]),
    ("Family meeting planned for Thursday 3/9 with palliative care.", ["3/9"], ["palliative"]),
    ("cx from 2/27-3/1 neg to date", ["2/27", "3/1"], []),
    ("had a fall at home on Christmas eve, seen at urgent care", ["Christmas"], []),
    ("pt was last seen by PCP in April of 2019", ["April"], []),
    ("HR 88 SR, BP 132/70, 1/2 NS at 75cc/hr", [], ["132/70", "1/2 NS"]),
    # names after clinical cues
    ("Dr. Okonkwo aware of K 5.9, kayexalate ordered.", ["Okonkwo"], ["kayexalate"]),
    ("per dr feldstein hold heparin gtt overnight", ["feldstein"], ["heparin"]),
    ("WIFE DORIS AT BEDSIDE, UPDATED BY NP.", ["DORIS"], []),
    ("dtr ellen called for update, will visit tmrw", ["ellen"], []),
    ("Spoke with son, Marcus Delaney, re code status.", ["Marcus Delaney"], []),
    ("R. Castellano RN notified of sbp 80s", ["R. Castellano"], []),
    ("Plan discussed w/ Dr. Amsterdam and Dr. Whitcombe", ["Amsterdam", "Whitcombe"], []),
    # places of care
    ("TRANSFERRED FROM ST. BRENDAN'S HOSPITAL VIA MEDFLIGHT", ["BRENDAN"], ["MEDFLIGHT"]),
    ("transferred to Fairhaven Rehab on 5/2", ["Fairhaven", "5/2"], []),
    ("Pt from Sycamore Falls Nursing Home, baseline A&O x2", ["Sycamore Falls"], ["A&O"]),
    ("OSH CT neg for bleed, sent here for cath", [], ["OSH", "CT"]),
    # phone numbers
    ("son can be reached at (413) 555-2871 or cell 413 555 9920", ["(413) 555-2871", "413 555 9920"], []),
    ("pls page covering resident, beeper #4417", ["4417"], []),
    # clinical vocabulary is not a name or a place
    ("PRBC x2 given, BUN/Cr 44/2.1, Kayexalate 30g po, foley draining", [], ["PRBC", "BUN", "Kayexalate", "foley"]),
    ("Neo gtt weaned off, Levo @ 4mcg, Swan in place, CVP 12", [], ["Neo", "Levo", "Swan"]),
    ("call home 617-555-0148 with any changes", ["617-555-0148"], []),
    ("wife's cell: 508.555.7712", ["508.555.7712"], []),
    ("contact daughter at 555-3390 (home)", ["555-3390"], []),
    ("Pt's husband Raymond (978) 555 0199", ["Raymond", "(978) 555 0199"], []),
    ("Attending pager x4-2210", ["4-2210"], []),
    ("extubated 12/3 @ 1000, reintubated 12/4", ["12/3", "12/4"], ["1000"]),
    ("DOB 3/22/1931, adm 1/5/05", ["3/22/1931", "1/5/05"], []),
    ("seen in clinic Sept 12th, started on coumadin", ["Sept 12th"], ["coumadin"]),
    ("On 1/1 pt had VT arrest x2", ["1/1"], []),
    ("HD #3 (2/14), CVVH running", ["2/14"], ["CVVH"]),
    ("Pt lives in Framingham with her sister Agnes", ["Framingham", "Agnes"], []),
    ("brought in by EMS from Dunmore Heights assisted living", ["Dunmore Heights"], ["EMS"]),
    # saints' hospitals, names in brackets after a service, lists under one title, glued shorthand
    ("pt transferred from St. Agnes ED for further w/u. VSS.", ["St. Agnes"], ["VSS"]),
    ("ST ELEVATION IN V2-V4, ST DEPRESSION LATERALLY, CARDS AWARE", [], ["ST ELEVATION", "ST DEPRESSION"]),
    ("seen by renal (Maloof) who recommends HD in am", ["Maloof"], ["renal", "HD"]),
    ("Team (Quist/Ferraro) aware of plan. GI (Protonix) continued.", ["Quist", "Ferraro"], ["Protonix"]),
    ("Creat up. Dr. Halvorsen and Pettijohn aware, team to f/u.", ["Halvorsen", "Pettijohn"], ["team"]),
    ("phone call from son Bartholomew-who states he will be in tmrw", ["Bartholomew"], ["who states"]),
    ("transferred to 412 Whitlock for step-down care", ["Whitlock"], []),
    ("cx pending from 11/28-11/30. PMH: '04 CABG, '11 ICD", ["11/28-11/30", "04", "11"], ["CABG", "ICD"]),
    ("pt was at Harborview for 2 wks prior to this admit, was at baseline then", ["Harborview"], ["baseline"]),
    ("EMS brought pt to Sinai ED where he was intubated", ["Sinai"], ["ED"]),
    ("Plan d/w team: Lindqvist/Abernathy. pt sedated, team: aware.", ["Lindqvist", "Abernathy"], ["aware"]),
    ("pt sedated, hr 80s. cx sent 14-Jun, echo Jul-2, K 4.1", ["14-Jun", "Jul-2"], ["4.1"]),
    # a name spaCy or the name rules run into the next word: the name stays whole, the drug or verb readable
    ("hr 90s, bp 110s, Pt's daughter Gloria Neo visiting, lasix 40 iv given.", ["Gloria Neo"], ["lasix"]),
    ("pt's brother James Stone called; Bill Green RN aware. plan lasix.", ["James Stone", "Bill Green"], ["plan"]),
    ("shivering, slowly weaned propofol and gaven demerol and versed - team aware", [], ["demerol", "versed"]),
    ("Hx from Mercy Medical Center records", ["Mercy"], []),
    ("Pt will go to Braintree Rehab tomorrow", ["Braintree"], []),
    ("transferred to MGH for ECMO eval", ["MGH"], ["ECMO"]),
    ("Discussed with Dr Patel (cards) and Dr Nakamura (renal)", ["Patel", "Nakamura"], []),
    ("MICU team (Dr. Lindqvist) made aware", ["Lindqvist"], ["MICU"]),
    ("Jenny RN from IV team placed 20g PIV", ["Jenny"], ["PIV"]),
    ("pt's granddaughter Keisha visiting, very supportive", ["Keisha"], []),
    ("friend Bob brought in pt's glasses", ["Bob"], []),
    ("ID fellow Dr. Ferreira recs vanc/zosyn", ["Ferreira"], ["vanc", "zosyn"]),
    ("Pt NPO p MN, OR in am w/ Dr Goldfarb", ["Goldfarb"], ["NPO"]),
    ("lasix 80mg IV given, UO 300cc, K 3.2 repleted, Mg 1.8", [], ["lasix", "UO", "Mg"]),
    ("MAP 60s on levophed, CI 2.1, SvO2 68", [], ["levophed", "SvO2"]),
    ("Coude catheter placed by urology, PICC site CDI", [], ["Coude", "PICC"]),
    ("PT TRANSFERRED FROM LAWRENCE GENERAL FOR CABG EVAL", ["LAWRENCE"], ["CABG"]),
    ("Pt was seen at Beth Israel ED 2 days ago", ["Beth Israel"], []),
    ("TO BE D/C'D TO WINDSOR MANOR NURSING HOME IN AM", ["WINDSOR MANOR"], []),
    ("Pt sent to Whitman Hospital for MRI, returned 1400", ["Whitman"], ["MRI"]),
    ("daughter flying in from Phoenix tonight", ["Phoenix"], []),
    # a state or a country is no PHI under Safe Harbor (only places smaller than a state are)
    ("HUSBAND DRIVING UP FROM NEW JERSEY, ETA 2200", [], ["NEW JERSEY"]),
    ("wife called from Portugal, flying back from Lisbon tonight", ["Lisbon"], ["Portugal"]),
    ("pt is a retired teacher from Worcester", ["Worcester"], []),
    ("pt admitted to 7 Feldberg from ED", ["Feldberg"], []),
    ("RN from Riverbend Home Care will visit 2x/wk", ["Riverbend"], []),
    ("s/p fall 10/3 at home, brought to ED by son Dennis", ["10/3", "Dennis"], []),
    ("CT head done 10/04/2006 neg", ["10/04/2006"], []),
    ("on coumadin since Feb, INR 2.3 on 3-2", ["Feb"], ["INR", "2.3"]),
    ("chest tube placed 11/28, to be pulled 12/1 per CT surgery", ["11/28", "12/1"], []),
    ("DR. HANRAHAN (ORTHO) TO SEE PT IN AM", ["HANRAHAN"], ["ORTHO"]),
    ("Case discussed w/ fellow, Dr. Yusupova; will f/u", ["Yusupova"], []),
    ("spoke to pt's mother, Mrs. Oyelaran, at length", ["Oyelaran"], []),
    ("NEPHEW TOMAS WILL BE HCP PER PT", ["TOMAS"], ["HCP"]),
    ("PT LIVES IN BROCKTON WITH WIFE", ["BROCKTON"], []),
    ("daughter visiting from Albany this wknd", ["Albany"], []),
    ("PLAN TO RETURN TO NEBH WHEN STABLE", ["NEBH"], []),
    ("records requested from SVMC", ["SVMC"], []),
    ("cath done on 7-22, results in chart", ["7-22"], []),
    ("increased from 2-4 mcg, on 2-3L NC", [], ["2-4", "2-3L"]),
    ("SW ANNETTE MET WITH FAMILY", ["ANNETTE"], []),
    ("case manager Joanne Fitzpatrick following for dispo", ["Joanne Fitzpatrick"], []),
    ("Seen by Dr. Brennan-Oakes (GI)", ["Brennan-Oakes"], []),
    ("SISTER & CHARLIE (FRIEND) AT BEDSIDE", ["CHARLIE"], []),
    ("HUSBAND DROVE DOWN FROM SCRANTON LAST NIGHT", ["SCRANTON"], []),
    ("son works in Annapolis, will come after work", ["Annapolis"], []),
    ("Pt is a retired mailman, wife Gloria, 2 kids in Glen Burnie", ["Gloria", "Glen Burnie"], []),
    ("WIFE AND NEICE AT BEDSIDE, DAUGHTER ENROUTE", [], ["NEICE"]),
    ("DR. NG AWARE, WILL SEE PT IN AM", ["NG"], []),
    ("Lungs coarse. See Carevue for vent settings and ABGs.", [], ["See Carevue"]),
    ("PT TRANSFERRED FROM VA FOR CABG, SEEN IN CLINIC JUL 14", ["VA", "JUL 14"], ["CABG"]),
    ("family meeting on the 14th w/ dr ho", ["14th", "ho"], []),
    ("K 3.1 DEC TO 2.9, MAR REVIEWED", [], ["DEC", "MAR"]),
    # street addresses whose suffix is no "Street" or "Road" (the address recognizer's own suffixes)
    ("PT LIVES AT 310 Oak Row WITH WIFE.", ["310 Oak Row"], []),
    ("Social: lives alone at 12 Elm Close, dtr nearby.", ["12 Elm Close"], []),
    ("d/c to home (44 Birch Crescent) w/ VNA.", ["44 Birch Crescent"], ["VNA"]),
    ("| PC-2026-019 | Gerald Fitzpatrick (patient) | 5 Orchard Row, Millbrook, WI 53590 | cancelled |",
     ["5 Orchard Row"], ["PC-2026-019"]),
]


@pytest.mark.parametrize(("text", "redacted", "kept"), CASES)
def test_clinical_line(redactor: PresidioRedactor, text: str, redacted: list[str], kept: list[str]) -> None:
    spans = redactor.analyze_batch([text])[0]

    def covered(value: str) -> bool:
        start = text.index(value)
        return any(s.start < start + len(value) and start < s.end for s in spans)

    assert [v for v in redacted if not covered(v)] == []
    assert [v for v in kept if covered(v)] == []


OPERATIONAL = [
    # operational dates, asset tags, lots and suppliers stay readable in an SOP or a service report
    (
        "All Corvance D-500 batteries older than 3.5 years will be replaced by 28 February 2026 (work order "
        "WO-2026-00580). Biomedical Engineering will no longer defer battery replacement for stock reasons.",
        ["28 February 2026", "WO-2026-00580", "Corvance D-500"],
    ),
    (
        "Next PM due 2026-07-01 for BME-INF-0231; lot 4471-A from supplier Meridian Health Supply, expiry 03/2027.",
        ["2026-07-01", "BME-INF-0231", "4471-A", "Meridian Health Supply"],
    ),
]


@pytest.mark.parametrize(("text", "kept"), OPERATIONAL)
def test_operational_facts_stay(redactor: PresidioRedactor, text: str, kept: list[str]) -> None:
    spans = redactor.analyze_batch([text])[0]
    for value in kept:
        start = text.index(value)
        assert not any(s.start < start + len(value) and start < s.end for s in spans), value


VOCABULARY_NOT_NAMES = [
    # spaCy's small model calls headings, table cells and equipment people or places; in an SOP, a contract or
    # a service report a span made only of clinical-vocabulary words is none of them, while a name still is
    ("# Phlebotomy Trays and Tourniquets\nReplace tourniquets weekly.", ["Phlebotomy Trays"], []),
    ("# Service Report: Defibrillator BME-DEF-0207\n\nPads replaced.", ["Defibrillator"], []),
    (
        "| Item | Route | Container |\n|---|---|---|\n| Cytotoxic medicines | Hazardous waste incineration | "
        "Purple-lidded bin |",
        ["Cytotoxic"],
        [],
    ),
    (
        "Technician: Tomasz Nowak, BME Technician II. The patient, Raymond Castellanos, slid off the trolley.",
        [],
        ["Tomasz Nowak", "Raymond Castellanos"],
    ),
    ("Contact Rose Hill in Purchasing before the order is placed.", [], ["Rose Hill"]),
    # eponyms: one name right before the kind of thing it names; a person's full name before "test" stays a name
    ("On 2 December the daily Bowie-Dick test failed twice.", ["Bowie-Dick"], []),
    ("Check the Hickman line and the Foley catheter; record the Braden scale.", ["Hickman", "Foley", "Braden"], []),
    ("Call Maria Gonzalez test results to the ward.", [], ["Maria Gonzalez"]),
    ("Reviewed by Anna Lee, Line Manager.", [], ["Anna Lee"]),
    # English words that are also towns (Earth TX, Lead SD, Needles CA), in table cells with no place cue; with a
    # cue or a state after them they are the town
    ("| Electrical safety (IEC 62353) | - | Earth 0.08 ohm | at most 0.3 ohm | Pass |", ["Earth"], []),
    ("| Role | Name |\n| Lead | BME Technician II |", ["Lead"], []),
    ("| Waste | Bin |\n| Needles | Yellow sharps bin |", ["Needles"], []),
    ("Replacement parts ship from the supplier's depot in Mobile, AL within 2 days.", [], ["Mobile"]),
    ("The courier's hub in Reading handles the weekend runs.", [], ["Reading"]),
    ("The field engineer drove from Temple to the site in 3 hours.", [], ["Temple"]),
    # part and serial numbers, acronyms some town shares, role nouns in a table: no person, place or date
    ("Battery (part CD5-BAT-LI) installed May 2021: 4 years 8 months old.", ["CD5-BAT-LI"], []),
    ("| Part | Description | Quantity |\n| CD5-BAT-LI | Lithium-ion battery pack | 1 |", ["CD5-BAT-LI"], []),
    ("Sign the business associate agreement (BAA) before access is granted.", ["BAA"], []),
    ("Department codes: BME (Biomedical Engineering), NUR (Nursing), FAC (Facilities).", ["NUR"], []),
    ("| Document type | Approver |\n| Network policy | Executive Committee |", ["Approver"], []),
    ("| Role | Responsibility |\n| Requester | Raises the request in Odoo |", ["Requester"], []),
    ("| Approver | Name |\n| Supply Chain Manager | Priya Raman |", ["Approver"], ["Priya Raman"]),
    ("| Technician | Date |\n| Tomasz Nowak | 12 January 2026 |", [], ["Tomasz Nowak"]),
]


@pytest.mark.parametrize(("text", "kept", "redacted"), VOCABULARY_NOT_NAMES)
def test_operational_vocabulary_is_no_name(
    redactor: PresidioRedactor, text: str, kept: list[str], redacted: list[str]
) -> None:
    spans = redactor.analyze_batch([text], "operational")[0]

    def covered(value: str) -> bool:
        start = text.index(value)
        return any(s.start < start + len(value) and start < s.end for s in spans)

    assert [v for v in kept if covered(v)] == []
    assert [v for v in redacted if not covered(v)] == []


def test_profile_override(redactor: PresidioRedactor) -> None:
    text = "Replace the filter by 3/15 and log it."
    assert redactor.analyze_batch([text], "operational")[0] == []
    assert [text[s.start : s.end] for s in redactor.analyze_batch([text], "clinical")[0]] == ["3/15"]
    with pytest.raises(ValueError):
        redactor.analyze_batch([text], "lenient")


def test_cli_redact_profiles(tmp_path, capsysbinary, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``copilot redact --jsonl`` decides the kind per text by default; ``--profile`` overrides it."""
    from copilot.cli import main
    from copilot.config import get_settings

    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"text": "PT S/P CABG 6/14, DTR MARGIE AT BEDSIDE, TRANSFER TO QUARTERMAIN 2"}\n'
        b'{"text": "Replace the battery of BME-DEF-0112 by 28 February 2026 (work order WO-2026-00580)."}\n'
        b"\xff\xfe not utf-8\n"
    )
    rows = []
    for profile in (None, "operational"):
        argv = ["redact", "--jsonl", str(src)] + (["--profile", profile] if profile else [])
        assert main(argv) == 0
        rows.append([__import__("json").loads(x) for x in capsysbinary.readouterr().out.decode().splitlines()])
    auto, operational = rows
    assert "6/14" not in auto[0]["text"] and "MARGIE" not in auto[0]["text"] and "QUARTERMAIN" not in auto[0]["text"]
    assert "28 February 2026" in auto[1]["text"] and "WO-2026-00580" in auto[1]["text"]
    assert auto[2]["error"]["code"] == "invalid_utf8"
    assert "6/14" in operational[0]["text"] and "MARGIE" not in operational[0]["text"]
    get_settings.cache_clear()


def test_role_nouns_are_not_surnames() -> None:
    """A role noun is made from a common word and known to no census list; surnames made the same way
    ("Fowler", "Hiller", "Rainer") stay names."""
    from copilot.ingest.redaction.presidio import _role_noun

    assert [w for w in ("Approver", "Requester", "Assignee", "Validator", "Dispatcher") if not _role_noun(w)] == []
    assert [w for w in ("Fowler", "Hiller", "Rainer", "Waller", "Stoner", "Keeler", "Tanner") if _role_noun(w)] == []
