"""`copilot audit verify` and `copilot approvals list` start cheap: no spaCy, no ONNX runtime, no torch, no
sentence-transformers — an operator checking the chain on a loaded server does not pay for the NLP stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

HEAVY = ("spacy", "onnxruntime", "torch", "sentence_transformers", "presidio_analyzer")


@pytest.mark.parametrize("argv", [["audit", "verify"], ["approvals", "list"]])
def test_reading_commands_do_not_load_the_nlp_stack(tmp_path: Path, argv: list[str]) -> None:
    probe = (f"import json, sys\nfrom copilot import cli\nrc = cli.main({argv!r})\n"
             f"print(json.dumps({{'rc': rc, 'loaded': [m for m in {HEAVY!r} if m in sys.modules]}}), "
             "file=sys.stderr)")
    env = {**os.environ, "COPILOT_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    report = json.loads(out.stderr.strip().splitlines()[-1])
    assert report == {"rc": 0, "loaded": []}, out.stderr
