"""Generate ``demo_operational_dates.json``: every calendar date in the demo's SOPs, policies, contracts and
maintenance documents, which redaction must leave readable ("will be replaced by 28 February 2026", "next due
2026-07-01", a contract's term, a test log's dates).

Why: Safe Harbor covers dates that relate to a patient. An operational document's dates are deadlines, terms and
service history; staff lose the fact when they become ``<DATE_TIME>``. The set is made by one regex over the
documents' text (ISO dates, "14 May 2025", "May 14, 2025"), not picked by hand, and leaves out any date that is a
planted PHI value of ``demo_phi.json``. Run ``python evals/gold/make_operational_dates.py`` after the corpus
changes; ``copilot eval redaction --dataset demo`` reports how many got redacted.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FOLDERS = ("sops", "policies", "contracts", "maintenance")
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
DATE = re.compile(rf"\b\d{{1,2}} {_MONTH} \d{{4}}\b|\b{_MONTH} \d{{1,2}}, \d{{4}}\b|\b20\d\d-\d\d-\d\d\b")


def main(out: Path = HERE / "demo_operational_dates.json") -> int:
    from copilot.evals.redaction import DEMO_CORPUS, _read_doc

    planted: dict[str, list[str]] = {}
    for e in json.loads((HERE / "demo_phi.json").read_text(encoding="utf-8"))["entities"]:
        planted.setdefault(e["doc"], []).append(e["value"])
    rows = []
    for folder in FOLDERS:
        for path in sorted((DEMO_CORPUS / folder).iterdir()):
            text = _read_doc(path)
            if not text:
                continue
            doc = f"{folder}/{path.name}"
            seen = set()
            for m in DATE.finditer(text):
                value = m.group()
                if value in seen or any(value in p or p in value for p in planted.get(doc, [])):
                    continue
                seen.add(value)
                rows.append({"doc": doc, "type": "OPERATIONAL_DATE", "value": value})
    out.write_text(json.dumps({"description": __doc__.split("\n\n")[0], "dates": rows}, indent=1) + "\n")
    print(f"{len(rows)} dates in {len({r['doc'] for r in rows})} documents -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])) if len(sys.argv) > 1 else main())
