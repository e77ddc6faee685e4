"""URLs and IPs. The URL rule refuses e-mail domains (stock Presidio tags ``example.com`` in
``jane@example.com`` as a URL, which then competes with the e-mail span)."""

from __future__ import annotations

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule

_TLD = (
    r"(?:com|org|net|edu|gov|mil|int|io|co|us|uk|ca|de|fr|it|es|nl|se|no|dk|fi|be|at|ch|ee|cy|hu|pl|cz|pt|gr"
    r"|ie|au|nz|jp|cn|in|br|mx|info|biz|health|care|app|dev|me|tv)"
)


class WebUrlRecognizer(RegexRecognizer):
    ENTITY = "URL"
    CONTEXT = ("url", "website", "site", "link", "portal", "profile")
    RULES = (
        Rule("scheme_url", r"\bhttps?://[^\s<>\"'()]{2,2048}", 0.95, 1.0, ignore_case=True),
        Rule(
            "www_url",
            r"(?<![@\w.])www\.[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,4}(?:/[^\s<>\"'()]{0,2048})?",
            0.6,
            0.9,
            ignore_case=True,
        ),
        Rule(
            "bare_domain",
            rf"(?<![@\w.-])[a-z0-9-]{{2,63}}(?:\.[a-z0-9-]{{2,63}}){{0,3}}\.{_TLD}\b(?![@.\w])",
            0.3,
            0.7,
            ignore_case=True,
        ),
    )

    def validate(self, value: str) -> bool:
        return not value.rstrip(".,;:").endswith("@")
