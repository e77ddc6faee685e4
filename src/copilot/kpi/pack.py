"""The KPI pack as data: ``pack.yaml`` beside this module, validated on load.

Usage::

    pack = KpiPack.load()
    pack["stockout_rate"].thresholds   # {'warn': 0.02, 'breach': 0.05}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from copilot.errors import ConfigError, NotFoundError

DEFAULT_PACK = Path(__file__).with_name("pack.yaml")


class Thresholds(BaseModel):
    warn: float
    breach: float


class Recurrence(BaseModel):
    """A chronic problem of one item at one site: short in at least ``min`` of any ``months`` consecutive months.
    A one-off is in the monthly rate; this names the product that keeps running out (where the monthly rate of a
    site with hundreds of issues hides it)."""

    months: int = Field(ge=2)
    min: int = Field(ge=2)


class KpiDef(BaseModel):
    id: str
    name: str
    compute: str
    definition: str
    models: dict[str, list[str]]
    filters: str = ""
    period: str
    site: Literal["stock_location", "department", "equipment_location", "none"]
    by: str | None = None
    unit: Literal["ratio", "currency", "days", "hours", "turns_per_year"]
    agg: Literal["ratio", "sum", "median"] = "ratio"
    """ratio: sum of numerators / sum of denominators; sum: sum of numerators; median: of the numerators."""
    good: Literal["lower", "higher"]
    thresholds: Thresholds
    impact: Literal["money", "patient_safety", "service"]
    note: str | None = None
    needs: str | None = None
    owner: str = "executive"
    """The role that owns an exception of this KPI."""
    action: str = ""
    """What the owner is suggested to do when the KPI breaches or jumps."""
    recurrence: Recurrence | None = None

    def status_of(self, value: float | None) -> str:
        """``ok``, ``warn`` or ``breach`` against the default thresholds, in the KPI's good direction."""
        if value is None:
            return "unknown"
        worse = (lambda v, t: v > t) if self.good == "lower" else (lambda v, t: v < t)
        if worse(value, self.thresholds.breach):
            return "breach"
        if worse(value, self.thresholds.warn):
            return "warn"
        return "ok"


class KpiPack(BaseModel):
    version: int
    kpis: list[KpiDef] = Field(min_length=1)

    @classmethod
    def load(cls, path: Path | None = None) -> KpiPack:
        p = path or DEFAULT_PACK
        try:
            return cls.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"KPI pack {p}: {type(exc).__name__}: {str(exc)[:300]}") from exc

    def __getitem__(self, kpi_id: str) -> KpiDef:
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        raise NotFoundError(f"unknown KPI {kpi_id!r}", code="unknown_kpi")

    def ids(self) -> list[str]:
        return [k.id for k in self.kpis]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [k.model_dump() for k in self.kpis]
