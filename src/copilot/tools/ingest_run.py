"""``ingest_run``: ingest a folder on the server, or sync the configured Odoo — a side effect like any other, so it
runs through the executor (role check: administrators; an audit record naming who started which source).

``wait=False`` (the API) starts the run in the background and returns at once; ``wait=True`` (the CLI without a
server) runs it and returns the report.

Usage (through the executor only)::

    executor.execute(admin, "ingest_run", {"path": "/srv/sops"})          # {"state": "started"}
    executor.execute(operator, "ingest_run", {"source": "odoo", "wait": True})
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from copilot.errors import ValidationError
from copilot.tools.base import ToolContext, tool


class IngestRunArgs(BaseModel):
    source: Literal["folder", "odoo"] = "folder"
    path: str | None = Field(default=None, max_length=4096, description="A folder on the server (source=folder)")
    wait: bool = False

    @model_validator(mode="after")
    def _path_for_folders(self) -> IngestRunArgs:
        if self.source == "folder" and not self.path:
            raise ValueError("a folder source needs path")
        return self


@tool(name="ingest_run", args=IngestRunArgs, read_only=False,
      description="Ingest a folder of documents on the server, or sync the configured Odoo (administrators).")
def ingest_run(args: IngestRunArgs, ctx: ToolContext) -> dict[str, Any]:
    services = ctx.services
    if args.source == "odoo":
        if not services.settings.odoo_url:
            raise ValidationError("no Odoo is configured", code="odoo_unconfigured")
        make = services.odoo_source
    else:
        from copilot.ingest.sources import FolderSource

        folder = Path(str(args.path)).resolve()
        if not folder.is_dir():
            raise ValidationError("path is not a folder on the server", code="validation")
        max_bytes = services.settings.max_file_bytes

        def make() -> Any:
            return FolderSource(folder, max_bytes=max_bytes)

    if args.wait:
        report: dict[str, Any] = services.ingest(make()).as_dict()
        return {"state": "done", "report": report}
    started: dict[str, Any] = services.ingest_jobs.start(make)
    return started
