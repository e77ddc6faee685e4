"""A killed ingest (SIGKILL mid-batch) resumes on the next run with no duplicate and no missing chunk.

The first run happens in a child process that kills itself with SIGKILL at a chosen point: after the manifest
says ``indexing`` but before the upsert, or right after an upsert but before ``indexed`` is recorded. The next
run in this process must end with exactly the chunks a clean ingest produces.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from copilot.app import build_copilot
from copilot.config import Settings
from copilot.ingest.manifest import DocStatus
from copilot.ingest.sources import FolderSource

pytestmark = pytest.mark.integration

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from copilot.app import build_copilot
    from copilot.config import Settings
    from copilot.ingest.sources import FolderSource
    from copilot.retrieval.embedder import HashingEmbedder

    corpus, data, where, after = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    calls = {"n": 0}

    class Killer(HashingEmbedder):
        def embed_documents(self, texts):
            if where == "embed":
                calls["n"] += 1
                if calls["n"] > after:
                    os.kill(os.getpid(), signal.SIGKILL)
            return super().embed_documents(texts)

    settings = Settings(data_dir=data, embedding_backend="hashing", redaction="none")
    cp = build_copilot(settings, embedder_=Killer(384))
    if where == "upsert":
        index = cp.index
        real = index.upsert
        def upsert(items):
            real(items)
            calls["n"] += 1
            if calls["n"] > after:
                os.kill(os.getpid(), signal.SIGKILL)
        index.upsert = upsert
    cp.ingest(FolderSource(corpus))
    print("finished without being killed")
    """
)


def _corpus(root: Path, n: int = 12) -> Path:
    root.mkdir()
    (root / "copilot-meta.yaml").write_text("defaults: {acl_groups: [all_staff]}\n")
    for i in range(n):
        paras = "\n\n".join(
            f"Step {j} of procedure {i}: check item {i}-{j} and record it in the log." * 3 for j in range(12)
        )
        (root / f"sop-{i:02d}.md").write_text(f"# Procedure {i}\n\n## Steps\n\n{paras}\n")
    return root


def _snapshot(data: Path, corpus: Path) -> tuple[set[tuple[str, int, str]], int, list[DocStatus]]:
    settings = Settings(data_dir=data, embedding_backend="hashing", redaction="none")
    with build_copilot(settings) as cp:
        cp.ingest(FolderSource(corpus))
        chunks = {(c.doc_id, c.ordinal, c.text) for c in cp.index.iter_chunks()}
        return chunks, cp.index.count(), [e.status for e in cp.manifest.all().values()]


@pytest.mark.parametrize("where", ["embed", "upsert"])
def test_killed_ingest_resumes_without_duplicates_or_gaps(tmp_path: Path, where: str) -> None:
    corpus = _corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(corpus), str(data), where, "5"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -9, child.stdout + child.stderr  # really killed mid-batch

    resumed, count, statuses = _snapshot(data, corpus)
    clean, clean_count, _ = _snapshot(tmp_path / "clean", corpus)
    assert resumed == clean
    assert count == clean_count == len(clean)
    assert set(statuses) == {DocStatus.INDEXED}
