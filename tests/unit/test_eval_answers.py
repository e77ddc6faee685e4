"""The answers eval: gold files, the demo-staff split, per-kind metrics and restricted leaks, end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from copilot.config import Settings
from copilot.evals import runner as R

pytestmark = pytest.mark.unit

SECRET_LINE = "Jane Roe MRN 4471902"


def _write(tmp: Path, lines: list[str]) -> Path:
    path = tmp / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _row(**kw: object) -> str:
    base = {"id": "x1", "question": "q?", "answer_facts": ["12 months"], "doc": "a.md", "answerable": True}
    return json.dumps(base | kw)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([SECRET_LINE], "line 1: not JSON"),
        ([_row(), json.dumps(["a"])], "line 2: not a JSON object"),
        ([json.dumps({"id": "x", "question": "q"})], "missing field(s) answer_facts, answerable"),
        ([_row(), _row()], "line 2: duplicate id 'x1'"),
        ([_row(doc=None)], "needs its 'doc'"),
    ],
)
def test_bad_gold_lines_are_named_not_quoted(tmp_path: Path, lines: list[str], message: str) -> None:
    with pytest.raises(R.GoldFileError) as err:
        R.load_gold_file(_write(tmp_path, lines))
    assert message in str(err.value) and "Jane" not in str(err.value)


def test_demo_staff_split_is_fixed_and_a_third() -> None:
    gold = R.load_gold_file(R.GOLD_DIR / "demo_staff.jsonl")
    test = [g["id"] for g in gold if R.staff_split(g["id"]) == "test"]
    assert len(gold) >= 150 and 0.28 <= len(test) / len(gold) <= 0.40
    assert R.staff_split("sa001") == R.staff_split("sa001")


def test_demo_staff_facts_are_in_their_documents() -> None:
    """Every fact of an answerable question is written in its document's source (the gold cannot rot)."""
    from copilot.demo.render import load_sources, plain

    text_of = {s.out: re.sub(r"\s+", " ", plain(s.body) + " " + " ".join(
        " ".join(r) for b in s.blocks for r in b.rows)).lower() for s in load_sources()}
    for g in R.load_gold_file(R.GOLD_DIR / "demo_staff.jsonl"):
        kinds = set(g.get("kind") or ())
        assert kinds, g["id"]
        if g["answerable"]:
            body = text_of[g["doc"]]
            assert all(re.sub(r"\s+", " ", f).lower() in body for f in g["answer_facts"]), g["id"]
        elif "restricted" in kinds:
            assert g["restricted_doc"] in text_of and g["groups"] == ["all_staff"], g["id"]


def _answer(text: str, *, abstained: bool = False, cites: tuple[str, ...] = ()) -> SimpleNamespace:
    return SimpleNamespace(text=text, abstained=abstained, confidence=0.5,
                           citations=tuple(SimpleNamespace(doc_id=d) for d in cites))


def test_per_kind_rows_and_restricted_leaks() -> None:
    q_table = R.EvalQuestion("t", "q", {"d1"}, facts=("12 months",), kinds=("table", "typo"))
    q_multi = R.EvalQuestion("m", "q", {"d1"}, facts=("2 years", "60 days"), kinds=("multi_part",))
    q_none = R.EvalQuestion("u", "q", answerable=False, kinds=("unanswerable",))
    q_leak = R.EvalQuestion("r", "q", answerable=False, facts=("$400",), kinds=("restricted",),
                            restricted_docs={"secret"})
    answers = [
        (q_table, _answer("Every 12 months [1]", cites=("d1",))),
        (q_multi, _answer("every 2 years [1]", cites=("d1",))),
        (q_none, _answer("not found", abstained=True)),
        (q_leak, _answer("The credit is $400 [1]", cites=("other",))),
    ]
    m = R.answer_metrics(answers)
    assert m["all_facts_accuracy"] == 0.5 and m["restricted"] == 1 and m["restricted_leaks"] == 1
    rows = R.per_kind(answers)
    assert rows["table"]["all_facts_accuracy"] == 1.0 and rows["multi_part"]["all_facts"] == 0
    assert rows["unanswerable"]["abstained_on_unanswerable"] == 1 and rows["restricted"]["restricted_leaks"] == 1
    # citing the restricted document is a leak even without naming the fact
    assert R._leaked(q_leak, _answer("see [1]", cites=("secret",)))


def test_eval_answers_on_any_gold_file_and_folder(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "pumps.md").write_text(
        "# Infusion pump maintenance\n\nInfusion pumps receive preventive maintenance every 12 months.\n"
    )
    (corpus / "fridge.md").write_text("# Vaccine fridge\n\nVaccines are stored between 2 and 8 degrees.\n")
    # the folder's sidecar gives the ACL (a folder without one is visible to nobody: fail closed)
    (corpus / "copilot-meta.yaml").write_text("defaults: {acl_groups: [all_staff]}\n")
    gold = _write(tmp_path, [
        _row(id="p1", question="how often do infusion pumps get preventive maintenance", doc="pumps.md",
             kind=["plain"]),
        _row(id="p2", question="what is the cafeteria menu on friday", answer_facts=[], doc=None,
             answerable=False, kind=["unanswerable"]),
    ])
    settings = Settings(data_dir=tmp_path / "data", embedding_backend="hashing", redaction="none",
                        abstain_threshold=0.0)
    report = R.run_answers("demo", settings, file=str(gold), corpus=str(corpus))
    assert report["dataset"] == "gold.jsonl" and report["answerable"] == 1 and report["unanswerable"] == 1
    assert report["per_kind"]["plain"]["all_facts_accuracy"] == 1.0
    assert report["citation_correct"] == 1.0


def test_split_applies_to_the_split_sets_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedding_backend="hashing", redaction="none")
    with pytest.raises(ValueError, match=re.escape("train|test applies to --dataset demo-staff")):
        R.run_answers("demo", settings, split="train")
    with pytest.raises(ValueError, match=re.escape("train|test applies to --dataset demo-staff")):
        R.run_answers("demo-staff", settings, split="dev")
    with pytest.raises(ValueError, match=re.escape("dev|test to demo-staff2")):
        R.run_answers("demo-staff2", settings, split="train")


def test_demo_staff2_is_cut_in_two_halves_by_id() -> None:
    ids = [g["id"] for g in R.load_gold_file(R.GOLD_DIR / "demo_staff2.jsonl")]
    parts = [R.staff2_split(i) for i in ids]
    assert set(parts) == {"dev", "test"}
    assert (parts.count("dev"), parts.count("test")) == (61, 59)  # fixed by the salt: never re-drawn
