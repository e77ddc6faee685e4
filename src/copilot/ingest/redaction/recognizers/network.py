"""URLs and IPs. The URL rule refuses e-mail domains (stock Presidio tags ``example.com`` in
``jane@example.com`` as a URL, which then competes with the e-mail span)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from presidio_analyzer.predefined_recognizers import EmailRecognizer

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


@lru_cache(maxsize=1)
def _offline_tld_extractor() -> Any:
    """tldextract with the public-suffix snapshot it ships, never the network.

    Presidio's e-mail recognizer calls ``tldextract.extract``, whose default extractor first tries to download
    the suffix list: on a hospital network without egress that is a failed (or, behind a dropping firewall, a
    hanging) request in every process that redacts.
    """
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, validating domains against the bundled suffix list only."""

    def validate_result(self, pattern_text: str) -> bool:
        return bool(_offline_tld_extractor()(pattern_text).fqdn)
