"""Helpdesk tickets from Odoo: Enterprise ``helpdesk.ticket``, or Community ``project.task`` in a project used as
a helpdesk. Reads history in keyset pages, picks up changes by ``write_date``, and writes a triage decision back
only when nobody edited the ticket since Copilot looked at it.

Fields, checked against ../shared/ODOO.md (helpdesk.ticket: name, team_id, stage_id (open = not folded),
user_id, partner_id, ticket_type_id, description (html), create_date, write_date, tag_ids, priority '0'..'3' where
'3' is Urgent, close_date) and the real-Odoo 17/19 ``fields_get`` of project.task (name, description, project_id,
stage_id, priority '0'/'1', tag_ids, user_ids, partner_id, company_id, date_end, write_date). Each field is asked
for only when the server's ``fields_get`` has it, so a field an edition or version lacks never breaks a read.

Usage::

    desk = HelpdeskReader(client)                      # probes helpdesk.ticket, else needs project=
    for t in desk.tickets(closed=True, since=None):     # history for training
        t.subject, t.body, t.labels["ticket_type_id"]
    desk.apply(ticket_id, {"team_id": 3, "priority": "2"}, expected_write_date=t.write_date)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from copilot.errors import ConflictError, SourceError
from copilot.odoo.client import OdooClient

HELPDESK = "helpdesk.ticket"
TASK = "project.task"

WANTED = (
    "name",
    "description",
    "team_id",
    "ticket_type_id",
    "user_id",
    "user_ids",
    "priority",
    "stage_id",
    "tag_ids",
    "partner_id",
    "company_id",
    "project_id",
    "create_date",
    "write_date",
    "close_date",
    "date_end",
)
LABEL_FIELDS = ("team_id", "ticket_type_id", "priority", "tag_ids", "user_id", "project_id")
"""Fields a triage model may learn (the organisation chooses which, see ``Settings.triage_targets``)."""


@dataclass(frozen=True)
class Ticket:
    id: int
    model: str
    subject: str
    body: str
    labels: dict[str, str]
    """Target field -> value as a string: a many2one's display name, a selection's key, tags joined by ``|``."""
    label_ids: dict[str, Any]
    """Target field -> the raw id (many2one) or key (selection), for writing back."""
    create_date: str
    write_date: str
    closed: bool
    partner: str = ""
    company: str = ""
    """The ticket's company (a site, in multi-company networks): the card's bias section groups by it."""
    extra: dict[str, Any] = field(default_factory=dict)


def _m2o_name(value: Any) -> str:
    return str(value[1]) if isinstance(value, list | tuple) and len(value) > 1 else ""


def _m2o_id(value: Any) -> int | None:
    return int(value[0]) if isinstance(value, list | tuple) and value else None


class HelpdeskReader:
    """One Odoo helpdesk. ``project`` names the Community fallback's project (``project.task``)."""

    def __init__(self, client: OdooClient, *, project: str | None = None, page_size: int = 500) -> None:
        self.client = client
        self.project = project
        self.page_size = page_size
        self._model: str | None = None
        self._fields: list[str] = []
        self._project_id: int | None = None
        self._folded: set[int] | None = None
        self._tag_names: dict[int, str] = {}

    # -- discovery ------------------------------------------------------------------------------------------

    @property
    def model(self) -> str:
        self._discover()
        assert self._model is not None
        return self._model

    def _discover(self) -> None:
        if self._model is not None:
            return
        fields = self.client.fields_of(HELPDESK)
        model = HELPDESK
        if fields is None:
            if not self.project:
                raise SourceError(
                    "this Odoo has no helpdesk.ticket (Helpdesk is Enterprise); set COPILOT_TRIAGE_PROJECT to the "
                    "project used as a helpdesk to read its project.task records",
                    code="helpdesk_missing",
                )
            fields = self.client.fields_of(TASK)
            model = TASK
            if fields is None:
                raise SourceError("neither helpdesk.ticket nor project.task exists", code="helpdesk_missing")
        if not fields:
            raise SourceError(f"the sync account may not read {model}", code="odoo_access")
        self._fields = [f for f in WANTED if f in fields]
        self._model = model
        if model == TASK:
            found = self.client.search_read("project.project", [("name", "=", self.project)], ["id"], limit=1)
            if not found:
                raise SourceError(f"no project named {self.project!r}", code="helpdesk_missing")
            self._project_id = int(found[0]["id"])

    def _stage_model(self) -> str:
        return "helpdesk.stage" if self.model == HELPDESK else "project.task.type"

    def folded_stages(self) -> set[int]:
        """Stages folded in the kanban: Odoo's own meaning of "closed" for tickets and tasks."""
        if self._folded is None:
            rows = self.client.search_read(self._stage_model(), [("fold", "=", True)], ["id"])
            self._folded = {int(r["id"]) for r in rows}
        return self._folded

    def _tags(self, ids: Sequence[int]) -> dict[int, str]:
        missing = [i for i in ids if i not in self._tag_names]
        if missing:
            tag_model = "helpdesk.tag" if self.model == HELPDESK else "project.tags"
            for r in self.client.read(tag_model, missing, ["name"]):
                self._tag_names[int(r["id"])] = str(r["name"])
        return {i: self._tag_names.get(i, str(i)) for i in ids}

    # -- reading --------------------------------------------------------------------------------------------

    def _domain(self, *, closed: bool | None, since: str | None, until: str | None) -> list[Any]:
        domain: list[Any] = []
        if self._project_id is not None:
            domain.append(("project_id", "=", self._project_id))
        if closed is not None:
            folded = sorted(self.folded_stages())
            domain.append(("stage_id", "in" if closed else "not in", folded))
        if since:  # >=: write_date has one-second resolution; the queue skips a version it already holds
            domain.append(("write_date", ">=", since))
        if until:
            domain.append(("create_date", "<", until))
        return domain

    def tickets(
        self,
        *,
        closed: bool | None = None,
        since: str | None = None,
        until: str | None = None,
        created_after: str | None = None,
    ) -> Iterator[Ticket]:
        """Tickets in ``id`` order, keyset-paged. ``closed``: only folded (True) / open (False) stages;
        ``since``: changed at or after this ``write_date`` (incremental sync); ``created_after``/``until``: the training
        window on ``create_date``."""
        self._discover()
        domain = self._domain(closed=closed, since=since, until=until)
        if created_after:
            domain.append(("create_date", ">=", created_after))
        last = 0
        while True:
            rows = self.client.search_read(
                self.model, [*domain, ("id", ">", last)], self._fields, order="id asc", limit=self.page_size
            )
            if not rows:
                return
            yield from self._to_tickets(rows)
            last = int(rows[-1]["id"])
            if len(rows) < self.page_size:
                return

    def read(self, ids: Sequence[int]) -> list[Ticket]:
        self._discover()
        return self._to_tickets(self.client.read(self.model, list(ids), self._fields))

    def _to_tickets(self, rows: list[dict[str, Any]]) -> list[Ticket]:
        folded = self.folded_stages()
        tag_ids = sorted({t for r in rows for t in (r.get("tag_ids") or [])})
        tags = self._tags(tag_ids) if tag_ids else {}
        out = []
        for r in rows:
            labels: dict[str, str] = {}
            raw: dict[str, Any] = {}
            for f in LABEL_FIELDS:
                if f not in r:
                    continue
                v = r[f]
                if f == "tag_ids":
                    names = sorted(tags.get(t, str(t)) for t in (v or []))
                    labels[f], raw[f] = "|".join(names), list(v or [])
                elif isinstance(v, list | tuple):
                    labels[f], raw[f] = _m2o_name(v), _m2o_id(v)
                elif v not in (False, None, ""):
                    labels[f], raw[f] = str(v), v
            stage = _m2o_id(r.get("stage_id"))
            out.append(
                Ticket(
                    id=int(r["id"]),
                    model=self.model,
                    subject=str(r.get("name") or ""),
                    body=str(r.get("description") or ""),
                    labels=labels,
                    label_ids=raw,
                    create_date=str(r.get("create_date") or ""),
                    write_date=str(r.get("write_date") or ""),
                    closed=stage in folded if stage is not None else False,
                    partner=_m2o_name(r.get("partner_id")),
                    company=_m2o_name(r.get("company_id")),
                )
            )
        return out

    def options(self, field_name: str) -> dict[str, Any]:
        """Display name -> id (many2one) or key (selection) for a target field: how a predicted label becomes a
        value to write."""
        self._discover()
        meta = (self.client.fields_of(self.model) or {}).get(field_name)
        if meta is None:
            raise SourceError(f"{self.model} has no field {field_name!r}", code="odoo_field")
        if meta.get("type") == "selection":
            full = self.client.fields_get(self.model, attributes=["selection"]).get(field_name, {})
            return {str(k): k for k, _label in full.get("selection", [])}
        relation = meta.get("relation")
        if not relation:
            raise SourceError(f"{self.model}.{field_name} is neither a selection nor a relation", code="odoo_field")
        rows = self.client.search_read(relation, [], ["display_name"], limit=2000)
        return {str(r["display_name"]): int(r["id"]) for r in rows}

    # -- writing (governed tools only) ----------------------------------------------------------------------

    def apply(
        self,
        ticket_id: int,
        vals: dict[str, Any],
        *,
        expected_write_date: str | None,
        note_html: str | None = None,
    ) -> dict[str, Any]:
        """Write ``vals`` to the ticket unless someone changed it after ``expected_write_date``; post
        ``note_html`` to its chatter. Returns the previous values of the written fields (for undo)."""
        self._discover()
        fields = [f for f in vals if f in self._fields]
        current = self.client.read(self.model, [ticket_id], [*fields, "write_date"])
        if not current:
            raise SourceError(f"{self.model} {ticket_id} not found or not readable", code="odoo_missing")
        row = current[0]
        if expected_write_date and str(row.get("write_date") or "") > expected_write_date:
            raise ConflictError(
                "the ticket was edited in Odoo after the suggestion was made; nothing was written",
                code="ticket_changed",
            )
        previous = {f: _raw(row.get(f)) for f in fields}
        self.client.write(self.model, [ticket_id], {f: vals[f] for f in fields})
        message_id = None
        if note_html:
            message_id = self.client.message_post(self.model, ticket_id, note_html, subtype_xmlid="mail.mt_note")
        return {"previous": previous, "message_id": message_id}


def _raw(value: Any) -> Any:
    if isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[1], str):
        return value[0]  # many2one as (id, name)
    if value is False:
        return False
    return value
