"""Who is calling. Authentication happens upstream (API keys / OIDC in the API issue); governance only checks
that a principal is present and uses its role, groups and sites.

Usage::

    alice = Principal(id="u-17", name="Alice", role="helpdesk_agent", groups=("staff",), sites=("north",))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``groups`` are document ACL groups, ``sites`` the Odoo sites it may act on."""

    id: str
    name: str
    role: str
    groups: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id or not self.role:
            raise ValueError("a principal needs an id and a role")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "groups": list(self.groups),
            "sites": list(self.sites),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Principal:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            role=str(data["role"]),
            groups=tuple(data.get("groups") or ()),
            sites=tuple(data.get("sites") or ()),
        )
