"""Generate ``clinical_probe_dev.jsonl`` and ``clinical_probe_check.jsonl``: nurse-voice lines with PHI the
PhysioNet dev notes barely show, for ``copilot eval redaction --dataset clinical-probe|clinical-probe-check``.

Why: the PhysioNet dev part has almost no misses left to read (11 of 379 spans), and its holdout may only be
scored, so the redaction round of 2026-12-06 (evening) developed on lines of its own. Each line is a frame from
ICU nursing notes (transfers, a family's travel, signatures, a clinician's title, dates of procedures) with a
value written in from general knowledge (US hospital nicknames and towns, common surnames that are English words,
short first names, clinical date forms), in Title case, UPPER CASE and lower case, as notes are typed.

- ``dev`` (4,269 lines): the probes the round's rules were shaped on (places, clinicians, relatives, dates).
- ``check`` (1,200 lines): written after the round's rules, before they were run on it, and never used to shape
  one; 60 of its lines hold no PHI at all (clinical words that look like names or places: "BLACK STOOL",
  "GREEN BILIOUS OUTPUT", "A-line", "Long discussion") and measure over-redaction.

Deterministic: no randomness. Run ``python evals/gold/make_clinical_probes.py [OUT_DIR]`` (default: next to this
file). Each line: ``{"frame", "text", "phi": [{"value", "entity_type"}], "keep": []}`` (see ``load_value_gold``);
a frame holds one value, so its first occurrence is the planted one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

CASES: tuple[Callable[[str], str], ...] = (str, str.upper, str.lower)

DEV: dict[str, tuple[str, list[str], list[str]]] = {
    "place_a": (
        "LOCATION",
        [
            "Good Sam", "Mount Sinai", "Beth Israel", "Lenox Hill", "Mount Auburn", "Johns Hopkins", "Sacred Heart",
            "Mass General", "Brigham", "Lahey", "Baystate", "South Shore", "Cape Cod Hospital", "Spaulding",
            "Newton Wellesley", "St Elizabeth's", "Carney", "Faulkner", "Hebrew Rehab", "Youville", "Kindred",
            "Union Memorial", "Sinai", "Franklin Square", "Greater Baltimore", "Shore Health", "Peninsula Regional",
            "Anne Arundel", "Howard County General", "Suburban", "Washington Adventist", "Dundalk", "Towson",
            "Glen Burnie", "Ocean City", "Frederick", "Hagerstown", "Salisbury", "Easton", "Bel Air", "Columbia",
            "Timonium", "Hopkins", "Bayview", "Harbor Hospital", "North Arundel", "Upper Chesapeake",
            "Atlantic General", "Keswick", "Genesis", "Future Care", "Manor Care", "Lorien", "Brightview", "Sunrise",
            "the Cape", "Florida", "Ohio", "New Jersey", "Nova Scotia", "Puerto Rico",
        ],
        [
            "pt transferred from {} for further care.", "ADMITTED TO {} WITH CP.", "dtr lives in {}, will call in am.",
            "plan d/c to {} rehab when stable.", "seen at {} last week.", "Pt was at {} 2 wks ago.",
            "family driving up from {} tonight.",
        ],
    ),
    "place_b": (
        "LOCATION",
        [
            "Saint Francis", "Mercy", "Northwest Hospital", "Riverside", "Lakeview Nursing Home", "Kaiser", "Cedars",
            "Beaumont", "Providence", "Baptist", "Methodist", "Presbyterian", "Christiana", "Geisinger",
            "Yale New Haven", "Dartmouth", "Maine Med", "Rhode Island Hospital", "Miriam", "Tufts",
            "Boston Medical Center", "Caritas", "Winchester", "Melrose", "Lowell General", "Anna Jaques", "Emerson",
            "Milford Regional", "Saint Vincent", "Metrowest", "Jordan Hospital", "Cambridge", "Somerville", "Quincy",
            "Brockton", "Framingham", "Worcester", "Springfield", "Pittsfield", "Fall River", "New Bedford", "Hyannis",
            "Plymouth", "Salem", "Lynn", "Nashua", "Manchester", "Portland", "Burlington", "Albany", "Hartford",
            "Vermont", "Maine", "Georgia", "Arizona", "Ireland", "Haiti", "Greece", "Taunton", "Leominster",
        ],
        [
            "Pt is a 70yo from {}, admitted with sepsis.", "TRANSFERED HERE FROM {} ICU",
            "son called from {} and will be in tomorrow", "dtr flying in from {} tonight.", "PT WORKS AT {} AS A CNA",
            "hx: cabg at {} 2019", "Wife lives in {}.",
        ],
    ),
    "clinician": (
        "PERSON",
        [
            "Rose", "Young", "Brown", "King", "Hill", "Wood", "Love", "Price", "Long", "Black", "Gold", "Fox", "Nguyen",
            "O'Brien", "McCarthy", "Patel", "Kowalski", "Chen", "Rosenberg", "Fitzgerald", "Hart", "Small", "Strong",
            "Bell", "Bishop", "Page", "Walker", "Baker", "Carter", "Cook",
        ],
        [
            "Dr {} aware of k 3.1", "d/w DR. {} re: plan", "paged {} (cards fellow) for low bp",
            "MICU team (Dr {}) in to see pt", "Discussed with Dr. {}, will start heparin", "{} RN",
            "care turned over to {}, RN", "per NP {}, hold lasix",
        ],
    ),
    "relative": (
        "PERSON",
        [
            "Mary", "Jim", "Bob", "Grace", "Joy", "Hope", "Rose", "Art", "Bill", "Pat", "Sue", "Ann", "Will", "Faith",
            "June", "Mark", "Frank", "Ray", "Dawn", "Iris", "Lily", "Ruby", "Jack", "Don", "Gene", "Rich", "Sandy",
            "Dot", "Al", "Ed",
        ],
        [
            "wife {} at bedside", "DAUGHTER {} CALLED FOR UPDATE", "spoke with son {} re DNR",
            "pt's sister {} in to visit", "HCP is niece {}, # on chart", "husband ({}) updated by md",
            "family ({}) aware",
        ],
    ),
    "date": (
        "DATE",
        [
            "7/22", "12/3", "7-22", "July 22", "Jul 22nd", "22 July", "7/22-7/25", "Mon 7/22", "the 22nd", "3/4/01",
            "Sept 9", "9/9/88", "07/22", "7/1-3", "Aug. 3rd", "12/25", "6/30", "1/31",
        ],
        [
            "s/p CABG {}, extubated next day", "PLAN: F/U W/ CARDIOLOGY {}", "pt last seen {} by pcp", "LAST BM {}",
            "Admitted on {} w/ CP", "cx from {} neg to date", "dtr will visit {} pm",
        ],
    ),
}

CHECK: dict[str, tuple[str, list[str], list[str]]] = {
    "place": (
        "LOCATION",
        [
            "Sibley", "Greater Southeast", "Church Hospital", "Holy Redeemer", "Bon Secours", "Saint Agnes",
            "Northwest", "Laurel Regional", "Prince George's", "Dorchester General", "Good Shepherd",
            "Mount Washington", "Catonsville", "Essex", "Pikesville", "Annapolis", "Silver Spring", "Rockville",
            "Delaware", "Pennsylvania", "West Virginia",
        ],
        [
            "PT TRANSFERRED TO US FROM {} FOR CATH", "son works at {} as a tech", "went to {} ER last pm w/ sob",
            "Pt is a 58 yo woman from {} w/ hx etoh", "wife coming in from {} tomorrow am",
            "lives alone in {}, has VNA",
        ],
    ),
    "clinician": (
        "PERSON",
        [
            "Green", "White", "Gray", "Moore", "Ford", "Ellis", "Rivera", "Kim", "Goldberg", "Murphy", "Stone", "Lane",
            "Mills", "Banks", "Ward", "Fields", "Reed", "Bush", "Sharp", "Rich",
        ],
        [
            "-{}, RN", "Dr. {} in to see pt, plan to diurese", "d/w NP {} re: k repletion", "renal fellow ({}) aware",
            "MICU resident {} paged x2", "Care endorsed to {} RN at 1900",
        ],
    ),
    "relative": (
        "PERSON",
        ["Linda", "Carol", "Tom", "Joe", "Rose", "Ann", "Sam", "Kay", "Lou", "Jean", "Dale", "Terry", "Robin", "Jo"],
        [
            "wife {} here all day", "SON {} CALLED, UPDATED ON POC", "spoke w/ dtr {} at length",
            "HCP ({}) aware of code status", "sister {} and her husband in to visit",
            "brother {}'s # on front of chart",
        ],
    ),
    "date": (
        "DATE",
        ["8/14", "11/2", "Aug 14", "aug 14th", "14 August", "8/14-16", "8/14/99", "Nov. 2nd", "Oct 30", "10/30"],
        [
            "Extubated {} w/o difficulty", "PICC PLACED {}", "last dose vanco {} @ 2200", "to OR {} for ex-lap",
            "rpt echo planned for {}",
        ],
    ),
}
SAFE = [
    "pt on heparin gtt at 1000u/hr, ptt 65", "A-line dampened, flushed, good waveform",
    "Lungs clear bilat, sats 98% on 2L NP", "BLACK STOOL X1, GUAIAC POS, HCT 27", "GREEN BILIOUS OUTPUT FROM NGT",
    "pt resting comfortably, sleeping on and off", "MAE, follows commands, PERRL", "cont to wean vent as tol, RSBI 45",
    "WHITE COUNT UP TO 14, CX SENT", "Plan: cont abx, f/u cx, ?transfer to floor in am",
    "SMALL AMT SEROSANG DRG FROM JP", "Long discussion w/ family re: goals",
    "Pt states pain 2/10 after morphine 2mg IV", "skin intact, pink, warm, dry", "K 3.2 repleted w/ 40meq KCL",
    "LEFT ARM SWOLLEN, ELEVATED ON PILLOWS", "FOLEY DRAINING CLEAR YELLOW URINE", "BS + X4, ABD SOFT NT/ND",
    "seen by PT, ambulated to chair w/ assist x1", "Good UO, 100-200cc/hr, lasix given",
]


def lines(spec: dict[str, tuple[str, list[str], list[str]]], safe: list[str]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for kind, (entity, values, frames) in spec.items():
        for value in values:
            for frame in frames:
                for case in CASES:
                    text, planted = case(frame.format(value)), case(value)
                    out.append(
                        {"frame": kind, "text": text, "phi": [{"value": planted, "entity_type": entity}], "keep": []}
                    )
    for line in safe:
        for case in CASES:
            out.append({"frame": "no_phi", "text": case(line), "phi": [], "keep": []})
    return out


def main(out_dir: Path) -> None:
    sets = (("clinical_probe_dev.jsonl", lines(DEV, [])), ("clinical_probe_check.jsonl", lines(CHECK, SAFE)))
    for name, rows in sets:
        path = out_dir / name
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{path}: {len(rows)} lines")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
