"""The real redactor with spaCy loaded once per session: end-to-end cases and bad input."""

from __future__ import annotations

import io
import json
import resource
import time
from collections.abc import Iterator

import pytest

from copilot.ingest.redaction import PresidioRedactor, RedactionConfig, redact_jsonl

pytestmark = pytest.mark.integration



@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Pt J. SMITH, MRN 00123456, DOB 03/14/1948.", ["SMITH", "00123456", "03/14/1948"], ["MRN", "DOB"]),
        ("Call Maria Lopez at (617) 555-0134, fax 617-555-0199.", ["Lopez", "555-0134", "555-0199"], ["fax"]),
        ("SSN 512-44-8721 for the patient", ["512-44-8721"], ["SSN"]),
        ("Email jane.doe@example.com please", ["jane.doe@example.com"], []),
        (
            "Pump BME-INF-0231, LOT 24C117, PO-2026-00418 from Baxter.",
            [],
            ["BME-INF-0231", "LOT 24C117", "PO-2026-00418", "Baxter"],
        ),
        (
            "Pt Anna Kowalczyk moved to RM 336 on 4 West; Hillrom Centrella bed and Baxter Clearlink IV sets "
            "swapped, ticket RITM3123894, Zosyn hung in PACU.",
            ["Kowalczyk"],
            ["RM 336", "4 West", "Hillrom Centrella", "Baxter Clearlink IV", "RITM3123894", "Zosyn", "PACU"],
        ),
        (
            # a product name and its model code ("Aeris T200"), alone or in a list, is not a person or place
            "ICU ventilators (North Campus ICU, Lakeside HDU), Aeris T200 transport ventilators and "
            "Calvera PCA-2 pumps; Dr Maria Lopez signed the loan of the Aeris V800.",
            ["Lopez"],
            ["Aeris T200", "Calvera PCA-2", "Aeris V800"],
        ),
        (
            "Check the pump every 6 months and annually replace the battery.",
            [],
            ["every 6 months", "annually"],
        ),
    ],
)
def test_redacts_phi_keeps_operations(
    redactor: PresidioRedactor, text: str, gone: list[str], kept: list[str]
) -> None:
    out = redactor.redact(text).text
    for value in gone:
        assert value not in out, out
    for value in kept:
        assert value in out, out


def test_email_not_split_into_url(redactor: PresidioRedactor) -> None:
    res = redactor.redact("write to jane.doe@example.com")
    assert [s.entity_type for s in res.spans] == ["EMAIL_ADDRESS"]


def test_document_placeholders_consistent(redactor: PresidioRedactor) -> None:
    results, report = redactor.redact_document(
        ["John Smith called.", "Later John Smith and Mary Jones left."]
    )
    assert results[0].text == "<PERSON_1> called."
    assert "<PERSON_1>" in results[1].text and "<PERSON_2>" in results[1].text
    assert report.counts == {"PERSON": 3} and report.distinct == {"PERSON": 2}
    assert "Smith" not in str(report.as_dict())


def test_binary_garbage_and_non_english(redactor: PresidioRedactor) -> None:
    garbage = bytes(range(256)).decode("latin-1") * 50
    results = redactor.redact_batch([garbage, "Llame al 617-555-0134, por favor. 电话 617-555-0188", ""])
    assert len(results) == 3
    assert "555-0134" not in results[1].text and "555-0188" not in results[1].text
    assert results[2].text == ""


def test_long_text_windowed_offsets(redactor: PresidioRedactor) -> None:
    filler = "The infusion pump was inspected and passed the electrical safety test. " * 400
    text = filler + "Patient SSN 512-44-8721 noted. " + filler
    res = redactor.redact(text)
    assert "512-44-8721" not in res.text
    assert any(text[s.start : s.end] == "512-44-8721" for s in res.spans)


@pytest.fixture(scope="module")
def parallel_redactor() -> Iterator[PresidioRedactor]:
    """Two worker processes, as the service runs on a 2-core machine; every batch goes through them."""
    red = PresidioRedactor(RedactionConfig(workers=2, parallel_min_chars=0))
    red.start_workers()
    yield red
    red.close()


def test_start_workers_spawns_every_worker(parallel_redactor: PresidioRedactor) -> None:
    pool = parallel_redactor._pool
    assert pool is not None
    procs = list(pool._processes.values())  # type: ignore[attr-defined]
    assert len(procs) == 2 and all(p.is_alive() for p in procs)
    # Each has loaded spaCy: each answered a ping before start_workers returned.
    assert parallel_redactor.worker_pids == {p.pid for p in procs}


def test_parallel_spans_equal_single_process(redactor: PresidioRedactor, parallel_redactor: PresidioRedactor) -> None:
    filler = "The infusion pump was inspected and passed the electrical safety test. " * 300
    texts = [
        "Pt J. SMITH, MRN 00123456, DOB 03/14/1948.",
        filler + "Call Maria Lopez at (617) 555-0134. " + filler + "SSN 512-44-8721 on file. " + filler,
        "",
        "Pump BME-INF-0231, LOT 24C117, PO-2026-00418 from Baxter.",
    ]
    assert parallel_redactor.analyze_batch(texts) == redactor.analyze_batch(texts)


def test_10mb_text_bounded_memory(parallel_redactor: PresidioRedactor) -> None:
    """A 10 MB PHI-dense line in a JSONL batch beside bad lines, through both workers as ``copilot redact
    --jsonl`` runs it (~2 min on 2 cores): every bad line gets its typed error without echoing its input, the
    10 MB text is redacted throughout, and the parent's memory grows by a bounded multiple of the text."""
    line = "Pt J. SMITH seen 3/14, MRN 00123456. Pump BME-INF-0231 checked every 6 months. "
    text = line * (10_000_000 // len(line))
    src = b"\n".join(
        [
            b'{"text": ""}',
            b"\x89PNG\x00\x00\xff\xfe junk",  # binary, not UTF-8
            b'{"text": "MRN 00123456 caf\xe9"}',  # Latin-1 inside JSON
            b"not json: MRN 00998877",
            json.dumps({"text": text}).encode(),
            b'{"text": "\\u0000\\u0007 control characters, Pt J. SMITH"}',
        ]
    )
    out = io.StringIO()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    assert redact_jsonl(io.BytesIO(src), out, parallel_redactor) == 6
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert rows[0] == {"text": "", "spans": []}
    assert [r["error"]["code"] for r in rows[1:4]] == ["invalid_utf8", "invalid_utf8", "invalid_json"]
    assert "00998877" not in out.getvalue() and "00123456" not in out.getvalue()
    redacted = rows[4]["text"]
    assert "SMITH" not in redacted and "3/14" not in redacted and "SMITH" not in rows[5]["text"]
    assert redacted.count("BME-INF-0231") == text.count("BME-INF-0231")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 1500, grown_mb
    assert time.perf_counter() - t0 < 1800  # a hang guard, not a performance claim (see bench/redact.py)


@pytest.fixture(scope="module")
def offloading_redactor() -> Iterator[PresidioRedactor]:
    """The API's audit redactor: one worker process takes every batch, however small."""
    red = PresidioRedactor(RedactionConfig(workers=1, offload=True))
    red.warm_up()
    yield red
    red.close()


def test_offloading_redactor_answers_as_in_process_without_loading_spacy_here(
    redactor: PresidioRedactor, offloading_redactor: PresidioRedactor
) -> None:
    texts = ["can I email Maria Lopez's results to 617-555-0134?", "", "Pump BME-INF-0231 due 28 February 2026",
             "Pt J. SMITH seen 3/14 on 4 West"]
    assert offloading_redactor.redact_batch(texts) == redactor.redact_batch(texts)
    assert offloading_redactor._analyzer is None  # spaCy and the recognizers live in the worker only
    assert len(offloading_redactor.worker_pids) == 1


def test_a_dead_redaction_worker_is_replaced_and_the_text_is_still_redacted(
    offloading_redactor: PresidioRedactor,
) -> None:
    import os
    import signal

    (pid,) = offloading_redactor.worker_pids
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    out = offloading_redactor.redact("call Maria Lopez on 617-555-0134").text
    assert "Lopez" not in out and "555-0134" not in out
    assert offloading_redactor.worker_pids and pid not in offloading_redactor.worker_pids


def test_redaction_workers_end_when_their_parent_is_killed() -> None:
    """A server killed without a clean shutdown must not leave its redaction workers (spaCy each) behind."""
    import os
    import signal
    import subprocess
    import sys

    import psutil

    script = (
        "from copilot.ingest.redaction import PresidioRedactor, RedactionConfig\n"
        "import sys, time\n"
        "r = PresidioRedactor(RedactionConfig(workers=1, offload=True)); r.warm_up()\n"
        "print(*r.worker_pids, flush=True); time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        (worker,) = (int(p) for p in parent.stdout.readline().split())
        assert psutil.pid_exists(worker)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while psutil.pid_exists(worker) and psutil.Process(worker).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the redaction worker outlived its killed parent"
            time.sleep(0.2)
    finally:
        parent.kill()


def test_the_organisations_own_sites_stay_readable_in_operations_and_are_places_in_clinical_text() -> None:
    """A configured site ("Harbor View Clinic", written "Harbor View" too) keeps its name in an SOP, where staff
    ask about it, and is redacted in a nurse's note, where it says where a patient was."""
    red = PresidioRedactor(
        RedactionConfig(workers=1, site_names=("Harbor View Clinic", "Lakeside Hospital", "Central Warehouse"))
    )
    sop = (
        "Vaccine fridges at Harbor View Clinic and Lakeside Hospital are checked twice daily; Harbor View keeps "
        "a spare."
    )
    out = red.redact(sop, "operational").text
    assert "Harbor View Clinic" in out and "Lakeside Hospital" in out and "Harbor View keeps" in out, out
    note = "pt transferred from Harbor View this am, dtr aware. LAKESIDE called re bed."
    out = red.redact(note, "clinical").text
    assert "Harbor" not in out and "LAKESIDE" not in out, out
    # a one-word short form that is an ordinary word is no site name alone
    assert "Central line" in red.redact("Central line placed in the ICU.", "operational").text
