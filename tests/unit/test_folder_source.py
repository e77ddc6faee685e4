"""FolderSource: listing, stable ids, checksums, metadata resolution from sidecars, and read errors."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copilot.errors import FileTooLargeError, SourceError
from copilot.ingest.sources import FolderSource, pretty_title
from copilot.protocols import Source
from copilot.types import DocumentRef

pytestmark = pytest.mark.unit

ROOT_META = """\
defaults: {doc_type: policy, site: network, acl_groups: [all_staff]}
folders:
  contracts: {doc_type: contract, department: procurement, acl_groups: [procurement, finance]}
  contracts/pharma: {department: pharmacy}
  ./sops/: {doc_type: sop}
files:
  sops/infusion-pump-pm.md: {title: "Infusion Pump Preventive Maintenance", site: north}
  contracts/pharma/cold.md: {acl_groups: [pharmacy]}
"""

FILES = {
    "readme.md": "# Network policies",
    "sops/infusion-pump-pm.md": "# PM\n\nEvery 6 months.",
    "sops/cold_chain-storage.md": "# Cold chain",
    "contracts/medsupply.md": "# MedSupply",
    "contracts/pharma/cold.md": "# Cold logistics",
    "contracts/pharma/deep/ISO 9001 audit.txt": "audit",
    "incidents/2026-03.txt": "incident",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "copilot-meta.yaml").write_text(ROOT_META)
    (tmp_path / "incidents" / "2026-03.txt.meta.yaml").write_text(
        "title: March incidents\ndoc_type: incident_report\nacl_groups: [quality]\n"
    )
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("hidden")
    (tmp_path / "sops" / ".~lock.pm.md#").write_text("hidden")
    return tmp_path


def listing(source: FolderSource) -> dict[str, DocumentRef]:
    return {ref.extra["relpath"]: ref for ref in source.list_documents()}


def test_is_a_source(tree: Path) -> None:
    assert isinstance(FolderSource(tree), Source)


def test_lists_every_document_but_hidden_files_and_sidecars(tree: Path) -> None:
    assert sorted(listing(FolderSource(tree))) == sorted(FILES)


@pytest.mark.parametrize(
    ("rel", "title", "doc_type", "site", "department", "acl"),
    [
        ("readme.md", "Readme", "policy", "network", None, ("all_staff",)),
        (
            "sops/infusion-pump-pm.md",
            "Infusion Pump Preventive Maintenance",
            "sop",
            "north",
            None,
            ("all_staff",),
        ),
        ("sops/cold_chain-storage.md", "Cold Chain Storage", "sop", "network", None, ("all_staff",)),
        (
            "contracts/medsupply.md",
            "Medsupply",
            "contract",
            "network",
            "procurement",
            ("finance", "procurement"),
        ),
        ("contracts/pharma/cold.md", "Cold", "contract", "network", "pharmacy", ("pharmacy",)),
        # deeper folder without its own entry inherits the deepest configured ancestor
        (
            "contracts/pharma/deep/ISO 9001 audit.txt",
            "ISO 9001 Audit",
            "contract",
            "network",
            "pharmacy",
            ("finance", "procurement"),
        ),
        # the per-file sidecar overrides everything
        ("incidents/2026-03.txt", "March incidents", "incident_report", "network", None, ("quality",)),
    ],
)
def test_metadata_resolution(tree: Path, rel: str, title: str, doc_type: str, site, department, acl) -> None:
    ref = listing(FolderSource(tree))[rel]
    assert (ref.title, ref.doc_type, ref.site, ref.department, ref.acl_groups) == (
        title,
        doc_type,
        site,
        department,
        acl,
    )


def test_ref_fields(tree: Path) -> None:
    path = tree / "sops" / "infusion-pump-pm.md"
    os.utime(path, (1_767_225_600, 1_767_225_600))
    ref = listing(FolderSource(tree, name="demo"))["sops/infusion-pump-pm.md"]
    assert ref.doc_id == "demo:sops/infusion-pump-pm.md"
    assert ref.uri == str(path.resolve())
    assert ref.source_url == path.resolve().as_uri() and ref.source_url.startswith("file:///")
    assert ref.mime_type == "text/markdown"
    assert ref.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ref.size == path.stat().st_size
    assert ref.modified == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("a.pdf", "application/pdf"),
        ("a.HTML", "text/html"),
        ("a.txt", "text/plain"),
        ("a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("a.unknownext", "application/octet-stream"),
    ],
)
def test_mime_type_from_extension(tmp_path: Path, name: str, mime: str) -> None:
    (tmp_path / name).write_bytes(b"x")
    assert next(iter(FolderSource(tmp_path).list_documents())).mime_type == mime


def test_ids_are_stable_across_runs_and_instances_and_checksums_track_content(tree: Path) -> None:
    first = {r.doc_id: r.checksum for r in FolderSource(tree).list_documents()}
    source = FolderSource(tree)
    again = {r.doc_id: r.checksum for r in source.list_documents()}
    assert first == again and len(first) == len(FILES)
    target = tree / "readme.md"
    target.write_text("# Network policies, revised")
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 1_000_000))
    changed = {r.doc_id: r.checksum for r in source.list_documents()}
    assert changed["folder:readme.md"] != first["folder:readme.md"]
    assert {k: v for k, v in changed.items() if k != "folder:readme.md"} == {
        k: v for k, v in first.items() if k != "folder:readme.md"
    }


def test_no_sidecar_means_no_acl_groups_fail_closed(tmp_path: Path) -> None:
    (tmp_path / "sop.md").write_text("# SOP")
    ref = next(iter(FolderSource(tmp_path).list_documents()))
    assert ref.acl_groups == () and ref.doc_type == "document"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("defaults: {doc_type: policy\n", r"invalid YAML at line \d+"),
        ("defaults: {colour: blue}\n", r"invalid metadata: defaults\.colour"),
        ("folders: {sops: {acl_groups: all_staff}}\n", r"folders\.sops\.acl_groups"),
        ("- just\n- a list\n", r"invalid metadata"),
    ],
)
def test_bad_sidecar_raises_source_error(tmp_path: Path, content: str, match: str) -> None:
    (tmp_path / "a.md").write_text("# A")
    (tmp_path / "copilot-meta.yaml").write_text(content)
    with pytest.raises(SourceError, match=match) as info:
        list(FolderSource(tmp_path).list_documents())
    assert "copilot-meta.yaml" in info.value.message


def test_bad_per_file_sidecar_raises_source_error(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A")
    (tmp_path / "a.md.meta.yaml").write_text("acl_groups: [a]\nowner: someone\n")
    with pytest.raises(SourceError, match=r"a\.md\.meta\.yaml: invalid metadata: owner"):
        list(FolderSource(tmp_path).list_documents())


def test_read_returns_bytes_and_reports_vanished_files(tree: Path) -> None:
    source = FolderSource(tree)
    refs = listing(source)
    assert source.read(refs["readme.md"]) == b"# Network policies"
    (tree / "readme.md").unlink()
    with pytest.raises(SourceError, match="no longer exists"):
        source.read(refs["readme.md"])


def test_read_refuses_paths_outside_the_root_and_oversize_files(tree: Path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.txt"
    outside.write_text("x")
    source = FolderSource(tree, max_bytes=10)
    ref = listing(source)["sops/infusion-pump-pm.md"]
    with pytest.raises(SourceError, match="outside the source root"):
        source.read(DocumentRef(**{**ref.__dict__, "uri": str(outside)}))
    with pytest.raises(FileTooLargeError):
        source.read(ref)


def test_symlinks_leading_outside_the_root_are_skipped(tmp_path: Path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.txt"
    outside.write_text("x")
    (tmp_path / "inside.txt").write_text("y")
    (tmp_path / "link.txt").symlink_to(outside)
    (tmp_path / "alias.txt").symlink_to(tmp_path / "inside.txt")
    assert sorted(listing(FolderSource(tmp_path))) == ["alias.txt", "inside.txt"]


def test_missing_root_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not a directory"):
        list(FolderSource(tmp_path / "nope").list_documents())


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("infusion-pump_pm.pdf", "Infusion Pump Pm"),
        ("ISO 9001 SOP.docx", "ISO 9001 SOP"),
        ("cold-chain.v2.md", "Cold Chain.v2"),
    ],
)
def test_pretty_title(name: str, title: str) -> None:
    assert pretty_title(Path(name)) == title
