"""Grounded generation: the verifier's rules, the answerer's drops and fallbacks, the LLM summariser behind the
faithfulness check, versioned prompts, and the model adapters against a slow and a dead endpoint."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from copilot.agent.models import GgufParts, LangChainGenerator, ModelUnavailableError, assemble_gguf, build_chat_model
from copilot.agent.testing import ScriptedChatModel
from copilot.config import Settings
from copilot.errors import NotFoundError, ValidationError
from copilot.kpi.summary import KpiTable, Row, summarise
from copilot.prompts import load_prompt, versions
from copilot.retrieval.answerer import NOT_FOUND, ExtractiveAnswerer
from copilot.retrieval.embedder import HashingEmbedder
from copilot.retrieval.grounded import GroundedAnswerer, VerifiedSummariser, Verifier, measured_threshold, split_claims
from copilot.types import Chunk, Hit

pytestmark = pytest.mark.unit

PUMP = ("Volumetric infusion pumps receive preventive maintenance every 12 months. PCA pumps are serviced every "
        "6 months, with a grace period of 14 days. Earth resistance must not exceed 0.3 ohm. Asset BME-INF-0231 "
        "is the reference pump at Lakeside Hospital.")
VACCINE = "Vaccine fridges hold 2 to 8 °C. Excursions are reported to the pharmacy within 1 hour."


def _hit(text: str, n: int = 0, doc: str = "folder:sops/pump.md") -> Hit:
    chunk = Chunk(doc_id=doc, ordinal=n, text=text, title="Infusion Pump PM", section="4. PM interval", page_start=2,
                  page_end=2, source_url=f"file:///{doc}", doc_type="sop", site=None, department=None,
                  acl_groups=("all_staff",), checksum="x")
    return Hit(point_id=chunk.point_id, score=1.0 / (1 + n), chunk=chunk)


class Scripted:
    """A TextGenerator double: returns its script in order (an exception is raised), records prompts."""

    name = "scripted"

    def __init__(self, *script: str | BaseException) -> None:
        self.script = list(script)
        self.prompts: list[str] = []

    def generate(self, prompt: str, *, json_schema: Mapping[str, Any] | None = None) -> str:
        self.prompts.append(prompt)
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


@pytest.mark.parametrize(
    ("sentence", "supported", "why"),
    [
        ("Volumetric pumps get preventive maintenance every 12 months", True, ""),
        ("Volumetric pumps get preventive maintenance every 24 months", False, "number 24"),
        ("PCA pumps are serviced every 6 weeks", False, "unit 6 weeks"),
        ("The grace period is 14 days", True, ""),
        ("Earth resistance must not exceed 0.3 ohm", True, ""),
        ("Earth resistance must not exceed 0.5 ohm", False, "number 0.5"),
        ("The reference pump is BME-INF-0231", True, ""),
        ("The reference pump is BME-DEF-0112", False, "code BME-DEF-0112"),
        ("The reference pump is at Lakeside Hospital", True, ""),
        ("The reference pump is at Harbor View", False, "name Harbor View"),
        ("PCA pumps were last serviced in March", False, "month march"),
        ("PCA pumps need recalibration by the manufacturer", False, "term"),
    ],
)
def test_the_verifiers_lexical_rules(sentence: str, supported: bool, why: str) -> None:
    problems = Verifier(None, threshold=0.0).lexical_problems(sentence, PUMP, "how often are pumps serviced?")
    assert (not problems) is supported
    if why:
        assert any(p.startswith(why) for p in problems), problems


def test_a_sentence_needs_a_valid_citation_and_enough_similarity() -> None:
    v = Verifier(HashingEmbedder(384), threshold=0.99)
    assert v.check("PCA pumps are serviced every 6 months", [], {1: PUMP}).reasons == ("no valid citation",)
    assert v.check("PCA pumps are serviced every 6 months", [3], {1: PUMP}).reasons == ("no valid citation",)
    low = v.check("The grace period is 14 days", [1], {1: PUMP})
    assert not low.supported and low.reasons[0].startswith("similarity")
    exact = v.check("PCA pumps are serviced every 6 months, with a grace period of 14 days.", [1], {1: PUMP})
    assert exact.supported and exact.similarity > 0.99


def test_claims_keep_their_citations() -> None:
    assert split_claims("Every 12 months [1]. Grace is 14 days [1, 2].\nBattery [3]") == [
        ("Every 12 months.", (1,)), ("Grace is 14 days.", (1, 2)), ("Battery", (3,))]


def test_the_shipped_threshold_was_measured() -> None:
    data = json.loads((Path(__file__).resolve().parents[2] / "src/copilot/retrieval/grounding.json").read_text())
    assert 0.0 < measured_threshold() == data["threshold"] < 1.0
    assert data["test"]["pairs"] > 0 and "train" in data["rule"]


def _answerer(gen: Scripted) -> GroundedAnswerer:
    return GroundedAnswerer(gen, ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0),
                            Verifier(None, threshold=0.0))


def test_unsupported_sentences_are_dropped_and_citations_renumbered() -> None:
    gen = Scripted("PCA pumps are serviced every 6 months [2]. They are replaced every 3 years [2]. "
                   "Vaccine fridges hold 2 to 8 °C [1].")
    a = _answerer(gen).answer("how often are PCA pumps serviced?", [_hit(VACCINE, 0, "folder:v.md"), _hit(PUMP, 1)])
    assert a.answerer == "grounded:scripted"
    assert a.text == "PCA pumps are serviced every 6 months [1]. Vaccine fridges hold 2 to 8 °C [2]."
    assert [c.doc_id for c in a.citations] == ["folder:sops/pump.md", "folder:v.md"]
    assert a.signals["grounded_dropped"] == 1.0
    assert "<passages>" in gen.prompts[0] and "[2] (Infusion Pump PM" in gen.prompts[0]


@pytest.mark.parametrize(
    ("reply", "fallback"),
    [
        (TimeoutError("slow"), 1.0),
        (ModelUnavailableError("down"), 1.0),
        ("", 2.0),
        ("NOT FOUND", 3.0),
        ("PCA pumps are serviced every 9 months [1].", 4.0),
        ("PCA pumps are serviced every 6 months.", 4.0),
    ],
)
def test_the_extractive_answer_stands_when_the_model_cannot_be_trusted(reply: Any, fallback: float) -> None:
    a = _answerer(Scripted(reply)).answer("how often are PCA pumps serviced?", [_hit(PUMP)])
    assert a.answerer == "extractive" and a.signals["grounded_fallback"] == fallback
    assert "[1]" in a.text and a.citations


def test_nothing_is_generated_when_the_extractive_answerer_abstains() -> None:
    gen = Scripted()
    answerer = GroundedAnswerer(gen, ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=1.1),
                                Verifier(None, threshold=0.0))
    a = answerer.answer("how often are PCA pumps serviced?", [_hit(PUMP)])
    assert a.abstained and a.text == NOT_FOUND and gen.prompts == []


# -- dashboard narratives --------------------------------------------------------------------------------------


def _table() -> KpiTable:
    rows = [Row("stockout_rate", "Stockout rate", "ratio", "lower", 0.052, 0.031, "breach", "ok", None, "/q1"),
            Row("po_cycle_time", "PO cycle time", "days", "lower", 6.0, 7.5, "ok", "ok", None, "/q2")]
    return KpiTable("2026-03", "Lakeside Hospital", "Lakeside Hospital", rows, [],
                    ["Lakeside Hospital", "Harbor View Clinic"])


GOOD = ("In March 2026, Lakeside Hospital had 1 KPI past its threshold. Stockout rate rose to 5.2% from 3.1%. "
        "PO cycle time fell to 6.0 days.")


def test_a_faithful_llm_narrative_is_kept() -> None:
    out = summarise(_table(), VerifiedSummariser(Scripted(GOOD), Verifier(None)))
    assert out["by"] == "llm:scripted" and out["text"] == GOOD and out["check"]["problems"] == []


def test_a_sentence_the_table_does_not_hold_is_dropped_before_the_check() -> None:
    s = VerifiedSummariser(Scripted(GOOD + " Harbor View Clinic doubled its stockouts to 9.9%."), Verifier(None))
    out = summarise(_table(), s)
    assert out["text"] == GOOD and s.dropped == 1


@pytest.mark.parametrize(
    "script",
    [
        ("Stockout rate fell to 5.2%.", "Stockout rate fell to 5.2%."),  # wrong direction, twice
        (TimeoutError("slow"), TimeoutError("slow")),
        ("", ""),
    ],
)
def test_an_unfaithful_or_failing_model_falls_back_to_the_template(script: tuple[Any, ...]) -> None:
    out = summarise(_table(), VerifiedSummariser(Scripted(*script), Verifier(None)))
    assert out["by"] == "template" and out["check"]["problems"] == []
    assert [a["by"] for a in out["check"]["attempts"]] == ["llm:scripted", "llm:scripted", "template"]


# -- prompts ---------------------------------------------------------------------------------------------------


def test_prompts_load_by_name_and_version() -> None:
    assert versions("answer")[:2] == ["v1", "v2"]
    assert load_prompt("answer").id == f"answer/{versions('answer')[-1]}"
    assert load_prompt("answer", pins={"answer": "v1"}).id == "answer/v1"
    text = load_prompt("answer", "v1").render(question="Q?", passages="[1] P")
    assert "Question: Q?" in text and "$" not in text


@pytest.mark.parametrize(
    ("name", "version", "error"),
    [("answer", "v99", NotFoundError), ("nope", None, NotFoundError), ("../etc", None, ValidationError)],
)
def test_an_unknown_prompt_is_a_clear_error(name: str, version: str | None, error: type[Exception]) -> None:
    with pytest.raises(error):
        load_prompt(name, version)


def test_a_missing_placeholder_is_an_error() -> None:
    with pytest.raises(ValidationError):
        load_prompt("answer", "v1").render(question="Q?")


# -- model adapters --------------------------------------------------------------------------------------------


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[GgufParts, Path]]:
    blobs = [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3]
    for i, blob in enumerate(blobs, start=1):
        pkg = tmp_path / "site" / f"cpfakepart{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(blob)
    sys.path.insert(0, str(tmp_path / "site"))
    joined = b"".join(blobs)
    yield GgufParts("fake", "cpfakepart", 3, hashlib.sha256(joined).hexdigest(), len(joined)), tmp_path / "cache"
    sys.path.remove(str(tmp_path / "site"))
    for i in range(1, 4):
        sys.modules.pop(f"cpfakepart{i}", None)


def test_model_parts_are_joined_in_order_and_checked(parts: tuple[GgufParts, Path]) -> None:
    spec, cache = parts
    path = assemble_gguf(spec, cache)
    assert path.read_bytes().startswith(b"GGUF") and len(path.read_bytes()) == spec.size
    assert assemble_gguf(spec, cache) == path  # already there: not joined again
    with pytest.raises(ValidationError):
        assemble_gguf(GgufParts("bad", "cpfakepart", 3, "0" * 64, spec.size), cache)
    with pytest.raises(ModelUnavailableError):
        assemble_gguf(GgufParts("missing", "cpnosuchpart", 2, spec.sha256, spec.size), cache)


def test_the_generator_asks_for_json_and_wraps_failures() -> None:
    chat = ScriptedChatModel.of('{"a": 1}', ConnectionError("refused"))
    gen = LangChainGenerator(chat, name="scripted")
    assert gen.generate("hi", json_schema={"type": "object"}) == '{"a": 1}'
    assert chat.bound[-1]["response_format"]["type"] == "json_schema"
    with pytest.raises(ModelUnavailableError):
        gen.generate("hi")


class _Slow(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(3)
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slow_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("which", ["slow", "down"])
def test_a_slow_or_dead_endpoint_falls_back_within_the_timeout(which: str, slow_endpoint: str,
                                                               tmp_path: Path) -> None:
    url = slow_endpoint if which == "slow" else f"http://127.0.0.1:{_free_port()}/v1"
    settings = Settings(data_dir=tmp_path, llm_url=url, llm_model="m", llm_api_key="sk-secret-value",
                        llm_timeout_s=0.3)
    assert "sk-secret-value" not in repr(settings)
    chat = build_chat_model(settings)
    assert chat is not None
    t0 = time.perf_counter()
    a = _answerer_with(LangChainGenerator(chat, name="m")).answer("how often are PCA pumps serviced?", [_hit(PUMP)])
    assert a.answerer == "extractive" and a.signals["grounded_fallback"] == 1.0
    assert time.perf_counter() - t0 < 2.5


def _answerer_with(gen: Any) -> GroundedAnswerer:
    return GroundedAnswerer(gen, ExtractiveAnswerer(HashingEmbedder(384), abstain_threshold=0.0),
                            Verifier(None, threshold=0.0))


def test_rarity_is_judged_on_the_word_and_headings_count_as_evidence_for_names() -> None:
    v = Verifier(None, threshold=0.0)
    # "specified"/"stated" are common English; their stems ("specifi", "stat") are not words and must not count
    assert v.lexical_problems("This is specified and stated in the procedure", PUMP) == []
    claim = "At North Campus the grace period is 14 days"
    assert v.check(claim, [1], {1: PUMP}).reasons == ("name North Campus",)
    assert v.check(claim, [1], {1: PUMP}, headers={1: "Infusion Pump PM Log — North Campus"}).supported


@pytest.mark.parametrize(
    ("sentence", "meta"),
    [
        ("This is stated in the passage under the section Infusion Pump PM", True),
        ("This is specified in the table of the PM interval section", True),
        ("According to the procedure", True),
        ("PCA pumps are serviced every 6 months, as stated in the procedure", False),
        ("This pump is serviced every 6 months", False),
    ],
)
def test_a_sentence_that_only_points_at_its_source_is_dropped(sentence: str, meta: bool) -> None:
    check = Verifier(None, threshold=0.0).check(sentence, [1], {1: PUMP + " Infusion Pump PM interval table."})
    assert (check.reasons == ("only points at its source",)) is meta
