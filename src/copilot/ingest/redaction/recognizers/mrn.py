"""Medical record numbers. Formats differ per network, so they are configurable (``formats``)."""

from __future__ import annotations

from collections.abc import Sequence

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule

DEFAULT_MRN_FORMATS: tuple[str, ...] = (
    r"MRN[-:#\s]{0,3}(?P<id>\d{6,10})",  # MRN-0012345, MRN: 12345678 (the label stays)
    r"\bMR\d{6,9}\b",  # MR0012345
)


class MrnRecognizer(RegexRecognizer):
    """MRNs in the network's own formats (always), plus bare 6-10 digit numbers after an MRN label.

    A format may name the identifier part ``(?P<id>...)`` so its label stays readable.
    """

    ENTITY = "MRN"
    CONTEXT = (
        "mrn",
        "medical record",
        "med rec",
        "record number",
        "record no",
        "chart",
        "chart no",
        "hospital no",
    )

    def __init__(self, formats: Sequence[str] = DEFAULT_MRN_FORMATS) -> None:
        rules = [
            Rule(f"mrn_format_{i}", fmt, 0.9, 1.0, group="id" if "(?P<id>" in fmt else 0, ignore_case=True)
            for i, fmt in enumerate(formats)
        ]
        # "MRN 12345678", "medical record #: 00123456" — the label stays, the number goes.
        rules.append(Rule("mrn_context", r"(?<![\w-])[A-Z]{0,3}\d{6,10}(?![\w-])", 0.0, 0.95))
        super().__init__(rules=rules)
