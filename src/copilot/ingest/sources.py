"""``FolderSource``: a directory tree of documents, with metadata and ACLs from YAML sidecars.

Metadata comes from ``copilot-meta.yaml`` at the root of the tree::

    defaults: {doc_type: policy, site: network, acl_groups: [all_staff]}
    folders:            # relative folder -> metadata for files below it; deeper folders override shallower
      contracts: {doc_type: contract, department: procurement, acl_groups: [procurement, finance]}
    files:              # relative file -> overrides (title, doc_type, site, department, acl_groups)
      sops/infusion-pump-pm.pdf: {title: "Infusion Pump Preventive Maintenance", site: network}

and from an optional per-file sidecar ``<file>.meta.yaml`` (same fields as a ``files`` entry), which
overrides everything. Resolution is field by field: defaults < folders (shallow → deep) < files entry <
per-file sidecar.

Fail closed: a file that no sidecar gives ``acl_groups`` gets none, and a chunk without ACL groups is visible
only to admins. So a folder dropped in without a ``copilot-meta.yaml`` is ingested but shown to nobody else.

Usage::

    source = FolderSource("demo/corpus")
    for ref in source.list_documents():
        data = source.read(ref)
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from copilot.errors import FileTooLargeError, SourceError
from copilot.types import DocumentRef

DEFAULT_METADATA_FILE = "copilot-meta.yaml"
FILE_SIDECAR_SUFFIX = ".meta.yaml"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

# mimetypes' answers vary with the host's /etc/mime.types; these are the ones the loaders key on.
MIME_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".log": "text/plain",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class DocMeta(BaseModel):
    """Metadata fields a sidecar may set. ``None`` means "not set here" (inherit)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    doc_type: str | None = None
    site: str | None = None
    department: str | None = None
    acl_groups: list[str] | None = None

    def over(self, base: dict[str, Any]) -> dict[str, Any]:
        """``base`` with this sidecar's set fields on top."""
        return {**base, **self.model_dump(exclude_none=True)}


class FolderMeta(BaseModel):
    """The root ``copilot-meta.yaml``."""

    model_config = ConfigDict(extra="forbid")

    defaults: DocMeta = Field(default_factory=DocMeta)
    folders: dict[str, DocMeta] = Field(default_factory=dict)
    files: dict[str, DocMeta] = Field(default_factory=dict)


def _norm(rel: str) -> str:
    """Normalise a sidecar key: forward slashes, no leading ``./`` or trailing ``/``."""
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def pretty_title(path: Path) -> str:
    """``infusion-pump_pm.pdf`` → ``Infusion Pump Pm``; names with capitals keep them (``ISO 9001 SOP``)."""
    words = path.stem.replace("_", " ").replace("-", " ").split()
    return " ".join(w if any(c.isupper() for c in w) else w.capitalize() for w in words) or path.name


class FolderSource:
    """:class:`copilot.protocols.Source` over a directory tree.

    ``doc_id`` is ``f"{name}:{relative posix path}"``: stable across runs and machines, unique within the
    source, readable in ``copilot status``. Hidden files and folders, symlinks leading outside the root, and
    the sidecars themselves are skipped. Checksums (sha256) are cached per (path, size, mtime) for the life of
    the instance, so repeated syncs read only changed files.
    """

    def __init__(
        self,
        root: str | Path,
        name: str = "folder",
        metadata_file: str = DEFAULT_METADATA_FILE,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.root = Path(root)
        self.name = name
        self.metadata_file = metadata_file
        self.max_bytes = max_bytes
        self._checksums: dict[str, tuple[int, int, str]] = {}

    # ----------------------------------------------------------------------------------------------- listing

    def list_documents(self) -> Iterator[DocumentRef]:
        root = self.root.resolve()
        if not root.is_dir():
            raise SourceError(f"{self.root}: not a directory")
        meta = self._folder_meta(root)
        for path in self._walk(root):
            rel = path.relative_to(root).as_posix()
            yield self._ref(path, rel, meta)

    def _walk(self, root: Path) -> Iterator[Path]:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for filename in sorted(filenames):
                if filename.startswith(".") or filename.endswith(FILE_SIDECAR_SUFFIX):
                    continue
                path = Path(dirpath) / filename
                if Path(dirpath) == root and filename == self.metadata_file:
                    continue
                if path.is_symlink() and not path.resolve().is_relative_to(root):
                    continue
                if path.is_file():
                    yield path

    def _folder_meta(self, root: Path) -> FolderMeta | None:
        path = root / self.metadata_file
        if not path.exists():
            return None
        try:
            return FolderMeta.model_validate(_read_yaml(path) or {})
        except PydanticValidationError as exc:
            raise SourceError(f"{path}: invalid metadata: {_errors(exc)}") from exc

    def _resolve(self, path: Path, rel: str, meta: FolderMeta | None) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if meta is not None:
            fields = meta.defaults.over(fields)
            folders = {_norm(k): v for k, v in meta.folders.items()}
            parts = PurePosixPath(rel).parts[:-1]
            for depth in range(1, len(parts) + 1):  # shallow → deep: the deepest folder wins per field
                if (folder := folders.get("/".join(parts[:depth]))) is not None:
                    fields = folder.over(fields)
            files = {_norm(k): v for k, v in meta.files.items()}
            if (entry := files.get(rel)) is not None:
                fields = entry.over(fields)
        sidecar = path.with_name(path.name + FILE_SIDECAR_SUFFIX)
        if sidecar.exists():
            try:
                fields = DocMeta.model_validate(_read_yaml(sidecar) or {}).over(fields)
            except PydanticValidationError as exc:
                raise SourceError(f"{sidecar}: invalid metadata: {_errors(exc)}") from exc
        return fields

    def _ref(self, path: Path, rel: str, meta: FolderMeta | None) -> DocumentRef:
        fields = self._resolve(path, rel, meta)
        try:
            stat = path.stat()
        except OSError as exc:
            raise SourceError(f"{path}: cannot stat ({type(exc).__name__})") from exc
        mime = MIME_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        ref = DocumentRef(
            doc_id=f"{self.name}:{rel}",
            title=fields.get("title") or pretty_title(path),
            uri=str(path),
            source_url=path.as_uri(),
            mime_type=mime or "application/octet-stream",
            checksum=self._checksum(path, stat),
            size=stat.st_size,
            modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
            doc_type=fields.get("doc_type") or "document",
            site=fields.get("site"),
            department=fields.get("department"),
            extra={"source": self.name, "relpath": rel, "filename": path.name},
        )
        return ref.with_acl(tuple(fields.get("acl_groups") or ()))

    def _checksum(self, path: Path, stat: os.stat_result) -> str:
        key = str(path)
        cached = self._checksums.get(key)
        if cached is not None and cached[:2] == (stat.st_size, stat.st_mtime_ns):
            return cached[2]
        digest = hashlib.sha256()
        try:
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
        except OSError as exc:
            raise SourceError(f"{path}: cannot read ({type(exc).__name__})") from exc
        value = digest.hexdigest()
        self._checksums[key] = (stat.st_size, stat.st_mtime_ns, value)
        return value

    # ----------------------------------------------------------------------------------------------- reading

    def read(self, ref: DocumentRef) -> bytes:
        """The file's bytes. Refuses paths outside the root and files over ``max_bytes`` (before reading)."""
        root = self.root.resolve()
        path = Path(ref.uri)
        try:
            resolved = path.resolve()
        except OSError as exc:
            raise SourceError(f"{ref.uri}: cannot resolve ({type(exc).__name__})") from exc
        if not resolved.is_relative_to(root):
            raise SourceError(f"{ref.uri}: outside the source root {root}")
        try:
            size = resolved.stat().st_size
            if size > self.max_bytes:
                raise FileTooLargeError(f"{ref.uri}: {size} bytes exceeds the limit of {self.max_bytes}")
            return resolved.read_bytes()
        except FileNotFoundError as exc:
            raise SourceError(f"{ref.uri}: file no longer exists") from exc
        except (IsADirectoryError, PermissionError) as exc:
            raise SourceError(f"{ref.uri}: cannot read ({type(exc).__name__})") from exc


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise SourceError(f"{path}: invalid YAML{where}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read ({type(exc).__name__})") from exc


def _errors(exc: PydanticValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors())
