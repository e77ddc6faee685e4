"""``OdooSource``: the ingestion pipeline's view of an Odoo database.

It implements :class:`copilot.protocols.Source`. ``list_documents`` returns the full metadata listing of
every enabled reader (Documents, or ir.attachment when Documents is absent; Knowledge; maintenance logs) with
checksums and ACL groups, in a number of requests proportional to pages of metadata. Correctness of
incremental sync comes from the pipeline's manifest comparing checksum and ACL per document and deleting
what the listing no longer holds (archived or deleted records); ``watermark`` (the newest ``write_date``
seen) is kept for reporting.

Usage::

    client = OdooClient(OdooConfig(url=..., db=..., login="copilot-bot", api_key=...))
    source = OdooSource(client, base_url="https://odoo.example.org")
    for ref in source.list_documents():
        data = source.read(ref)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from copilot.errors import SourceError
from copilot.odoo.client import OdooClient
from copilot.odoo.readers import (
    AttachmentReader,
    Context,
    DocumentsReader,
    GroupMap,
    KnowledgeReader,
    MaintenanceReader,
    Reader,
    implied_closure,
    partner_token,
    user_token,
)
from copilot.types import DocumentRef

READERS: dict[str, type[Reader]] = {
    "documents": DocumentsReader,
    "knowledge": KnowledgeReader,
    "attachments": AttachmentReader,
    "maintenance": MaintenanceReader,
}
"""Reader registry: name → class. ``attachments`` is the fallback used when Documents is not installed."""


class OdooSource:
    """Cheap constructor; the first listing probes installed models with one ``ir.model`` request."""

    def __init__(
        self,
        client: OdooClient,
        *,
        base_url: str | None = None,
        name: str = "odoo",
        readers: Sequence[str] = ("documents", "knowledge", "maintenance"),
        group_map: Mapping[str, str] | None = None,
        page_size: int = 200,
        overrides: Mapping[str, Reader] | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self._base_url = base_url
        self.reader_names = tuple(readers)
        self.group_map = GroupMap(dict(group_map or {}))
        self.page_size = page_size
        self._readers: dict[str, Reader] = dict(overrides or {})
        self._ctx: Context | None = None
        self.watermark: datetime | None = None
        self.active_readers: tuple[str, ...] = ()

    def _context(self) -> Context:
        if self._ctx is None:
            base = self._base_url or self.client.config.url
            self._ctx = Context(self.client, base, self.group_map, self.page_size)
        return self._ctx

    def _reader(self, kind: str) -> Reader:
        if kind not in self._readers:
            if kind not in READERS:
                raise SourceError(f"unknown Odoo reader {kind!r}; known: {sorted(READERS)}")
            self._readers[kind] = READERS[kind]()
        return self._readers[kind]

    def _enabled(self, ctx: Context) -> list[str]:
        wanted = list(self.reader_names)
        needed = {m for k in {*wanted, "attachments"} for m in self._reader(k).requires}
        ctx.probe(sorted(needed))
        if (
            "documents" in wanted
            and "documents.document" not in ctx.installed
            and "attachments" not in wanted
        ):
            wanted.append("attachments")  # Community fallback
        return [k for k in wanted if set(self._reader(k).requires) <= ctx.installed]

    def list_documents(self) -> Iterator[DocumentRef]:
        ctx = self._context()
        self.active_readers = tuple(self._enabled(ctx))
        newest = self.watermark
        for kind in self.active_readers:
            for ref in self._reader(kind).list_refs(ctx):
                if newest is None or ref.modified > newest:
                    newest = ref.modified
                yield ref
        self.watermark = newest

    def read(self, ref: DocumentRef) -> bytes:
        kind = ref.doc_id.split(":")[1] if ref.doc_id.count(":") >= 2 else ""
        if kind == "attachment":
            kind = "attachments"
        if kind not in READERS:
            raise SourceError(f"{ref.doc_id} does not come from an Odoo reader")
        return self._reader(kind).read(self._context(), ref)


def resolve_user_groups(
    client: OdooClient, uid: int, group_map: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """A user's Copilot ACL groups from Odoo: their groups' XML ids (implied ones included) mapped by
    ``group_map``, plus their own partner and user tokens (for per-person grants)."""
    fields = client.fields_get("res.users", attributes=["type"])
    gfield = next(f for f in ("all_group_ids", "groups_id", "group_ids") if f in fields)
    rows = client.read("res.users", [uid], [gfield, "partner_id"])
    if not rows:
        raise SourceError(f"Odoo user {uid} not found")
    gids = list(rows[0][gfield])
    if gfield != "all_group_ids":  # add the implied closure ourselves (real 17/18 store it in groups_id already)
        gids = sorted(implied_closure(client, gids))
    ctx = Context(client, client.config.url, GroupMap(dict(group_map or {})), 200)
    names = set(ctx.group_names(gids))
    partner = rows[0]["partner_id"]
    pid = partner[0] if isinstance(partner, list) else partner
    if pid:
        names.add(partner_token(int(pid)))
    names.add(user_token(uid))
    return tuple(sorted(names))
