"""Versioned prompt templates, loaded by name and version from the top-level ``prompts/`` folder.

A prompt lives in ``prompts/<name>/<version>.md`` (``prompts/answer/v1.md``). Versions are never edited in
place once something was measured with them: a change is a new file (``v2.md``), so an audit record's
``prompt_version`` ("answer/v1") always names the exact text that produced an output, and ``copilot eval answers
--prompt-version v1 --compare v2`` can put two versions side by side. Placeholders are ``$name`` (``string.Template``)
so JSON examples in a prompt need no escaping.

Usage::

    p = load_prompt("answer")                 # the latest version, or the one settings pin
    p.id                                      # "answer/v2"
    text = p.render(question="...", passages="[1] ...")
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

from copilot.errors import NotFoundError, ValidationError

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
_VERSION = re.compile(r"^v(\d+)$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    text: str

    @property
    def id(self) -> str:
        """What the audit log records: ``name/version``."""
        return f"{self.name}/{self.version}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def render(self, **values: object) -> str:
        """Fill every ``$placeholder``; a missing one is an error, not a silent ``$name`` left in the prompt."""
        try:
            return Template(self.text).substitute({k: str(v) for k, v in values.items()})
        except KeyError as exc:
            raise ValidationError(f"prompt {self.id}: no value for ${exc.args[0]}", code="prompt_placeholder") from None


def versions(name: str, root: Path | None = None) -> list[str]:
    """The versions of a prompt, oldest first (``v1``, ``v2``, ``v10``)."""
    folder = (root or PROMPTS_DIR) / name
    found = [p.stem for p in folder.glob("v*.md") if _VERSION.match(p.stem)] if folder.is_dir() else []
    return sorted(found, key=lambda v: int(v[1:]))


def load_prompt(
    name: str, version: str | None = None, *, root: Path | None = None, pins: Mapping[str, str] | None = None
) -> Prompt:
    """The prompt ``name`` at ``version`` (else the version ``pins`` names — settings' ``prompt_versions`` —
    else the latest). Raises :class:`NotFoundError` for an unknown name or version."""
    if not _NAME.match(name):
        raise ValidationError(f"invalid prompt name {name!r}", code="prompt_name")
    version = version or (pins or {}).get(name)
    return _load(name, version, root or PROMPTS_DIR)


@lru_cache(maxsize=64)
def _load(name: str, version: str | None, root: Path) -> Prompt:
    known = versions(name, root)
    if not known:
        raise NotFoundError(f"no prompt named {name!r} under {root}", code="prompt_not_found")
    chosen = version or known[-1]
    if chosen not in known:
        raise NotFoundError(f"prompt {name!r} has no version {chosen!r} (has {', '.join(known)})",
                            code="prompt_not_found")
    return Prompt(name, chosen, (root / name / f"{chosen}.md").read_text(encoding="utf-8"))
