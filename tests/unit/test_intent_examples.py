"""The router's training data: hand-written examples plus retired utterance sets, never the clean held-out set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from copilot.agent.intents import CLARIFY, REPO_ROOT, label_of, labelled_examples, load_intents
from copilot.agent.slots import ROUTER_PROMPTS
from copilot.evals.agent import HELD_OUT


def test_an_out_of_scope_line_that_gets_a_question_is_a_clarify_example() -> None:
    assert label_of({"intent": "unknown", "clarify": True}) == CLARIFY
    assert label_of({"intent": "unknown", "clarify": False}) == "unknown"
    # a missing slot is the plan's question, not the classifier's: the intent stays
    assert label_of({"intent": "purchase_request_create", "clarify": True}) == "purchase_request_create"


def test_the_newest_held_out_set_is_not_training_data() -> None:
    listed = yaml.safe_load((ROUTER_PROMPTS / "intents.yaml").read_text(encoding="utf-8"))["labelled"]
    assert f"evals/gold/{HELD_OUT}" not in listed
    texts = {t for spec in load_intents().values() for t in spec.labelled}
    held_out = [json.loads(line)["text"] for line in
                (REPO_ROOT / "evals/gold" / HELD_OUT).read_text().splitlines() if line.strip()]
    assert held_out
    assert not texts & set(held_out)


def test_every_line_of_the_retired_sets_is_training_data() -> None:
    listed = yaml.safe_load((ROUTER_PROMPTS / "intents.yaml").read_text(encoding="utf-8"))["labelled"]
    intents = load_intents()
    retired = sum(1 for f in listed for line in (REPO_ROOT / f).read_text().splitlines() if line.strip())
    assert sum(len(spec.labelled) for spec in intents.values()) == retired
    # the slot extractor's common words come from the placeholder-written examples only
    assert all("xsite" not in t for spec in intents.values() for t in spec.labelled)


def test_a_labelled_line_naming_an_intent_the_router_lacks_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "fly me to the moon", "intent": "rocket_launch", "slots": {},
                               "clarify": False}) + "\n")
    assert labelled_examples([bad]) == {"rocket_launch": ["fly me to the moon"]}
    spec = yaml.safe_load((ROUTER_PROMPTS / "intents.yaml").read_text(encoding="utf-8"))
    spec["labelled"] = [str(bad)]
    path = tmp_path / "intents.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="rocket_launch"):
        load_intents(path)


def test_leaving_one_set_out_drops_its_lines_and_keeps_every_other_training_line() -> None:
    from copilot.agent.intents import IntentClassifier

    clf = IntentClassifier(None, load_intents())
    held = {json.loads(line)["text"] for line in
            (REPO_ROOT / "evals/gold/agent_utterances_test2.jsonl").read_text().splitlines() if line.strip()}
    out = clf.without(held)
    kept = [t for spec in out.intents.values() for t in spec.labelled]
    assert not set(kept) & held
    assert len(kept) == sum(len(s.labelled) for s in clf.intents.values()) - sum(
        1 for s in clf.intents.values() for t in s.labelled if t in held)
    assert [s.examples for s in out.intents.values()] == [s.examples for s in clf.intents.values()]
