"""Rules on top of the model: a ticket that names life-support or critical equipment is urgent and always goes
to a person. Data, not code: ``rules.yaml`` beside this module (or ``COPILOT_TRIAGE_RULES``).

Usage::

    rules = TriageRules.load()
    rules.critical_terms("Vent BME-VEN-0047 alarming on ICU")   # ['vent', 'BME-VEN-0047']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from copilot.errors import ConfigError

DEFAULT_RULES = Path(__file__).with_name("rules.yaml")


@dataclass(frozen=True)
class TriageRules:
    terms: tuple[str, ...]
    tag_prefixes: tuple[str, ...]
    urgent_priority: str
    _pattern: re.Pattern[str]

    @classmethod
    def from_lists(
        cls, terms: list[str], tag_prefixes: list[str], urgent_priority: str = "3"
    ) -> TriageRules:
        alts = [r"\b" + re.escape(t).replace(r"\ ", r"[\s-]+") + r"s?\b" for t in terms]
        alts += [r"\b" + re.escape(p) + r"[A-Z0-9-]*\d" for p in tag_prefixes]
        pattern = re.compile("|".join(alts) or r"(?!x)x", re.IGNORECASE)
        return cls(tuple(terms), tuple(tag_prefixes), str(urgent_priority), pattern)

    @classmethod
    def load(cls, path: Path | None = None) -> TriageRules:
        p = path or DEFAULT_RULES
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            return cls.from_lists(
                [str(t) for t in data.get("critical_equipment", [])],
                [str(t) for t in data.get("asset_tag_prefixes", [])],
                str(data.get("urgent_priority", "3")),
            )
        except (OSError, yaml.YAMLError, AttributeError, TypeError) as exc:
            raise ConfigError(f"triage rules {p}: {type(exc).__name__}") from exc

    def critical_terms(self, text: str) -> list[str]:
        seen: dict[str, str] = {}
        for m in self._pattern.finditer(text):
            seen.setdefault(m.group(0).lower(), m.group(0))
        return list(seen.values())
