"""``knowledge_search``: answer a staff question from the documents the caller may open, with citations.

The first governed tool. The ACL scope comes from governance (``ctx.scope``, derived from the principal and the
policy) and goes into the vector query; the retrieved document and chunk ids are recorded in the audit trail.

Usage (through the executor only)::

    executor.execute(principal, "knowledge_search", {"question": "PM interval for infusion pumps?"})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copilot.tools.base import ToolContext, tool


class KnowledgeSearchArgs(BaseModel):
    question: str = Field(min_length=1, max_length=2000, description="The staff member's question")
    doc_type: str | None = Field(default=None, description="Only this document type (sop, contract, ...)")
    site: str | None = Field(default=None, description="Only documents of this site")


@tool(
    name="knowledge_search",
    args=KnowledgeSearchArgs,
    read_only=True,
    description="Answer a policy question from the SOPs, contracts and maintenance logs the caller may open, "
    "with numbered citations; abstains when the documents do not say.",
)
def knowledge_search(args: KnowledgeSearchArgs, ctx: ToolContext) -> dict[str, Any]:
    copilot = ctx.services.copilot
    filters = {k: v for k, v in (("doc_type", args.doc_type), ("site", args.site)) if v}
    answer = copilot.ask(args.question, ctx.scope, filters=filters)
    ctx.notes.doc_ids = list(dict.fromkeys(h.chunk.doc_id for h in answer.passages))
    ctx.notes.chunk_ids = [h.point_id for h in answer.passages]
    ctx.notes.model = answer.answerer
    return answer.to_dict()
