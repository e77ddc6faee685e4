"""Street addresses, unit numbers and ZIP codes (geographic units smaller than a state)."""

from __future__ import annotations

import regex

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule

_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Court|Ct|Place|Pl|Way|Terrace|Ter"
    r"|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Alley|Plaza|Road|Route|Rte|Gardens|Crescent"
    r"|Close|Row|Pike|Loop|Run|Path|Walk|Heights|Hill|Park)"
)
_NAME = r"(?:[A-Z][a-zA-Z'.-]*|\d{1,3}(?:st|nd|rd|th))"
# ", Apt 3C, Fairport, WI 53591" after the street: the city and ZIP are Safe Harbor identifiers too.
_TAIL = (
    r"(?:,?\s(?:Apt|Apartment|Suite|Ste|Unit)\.?\s?#?[A-Z0-9-]{1,6})?"
    r"(?:,\s[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2})?"
    r"(?:,\s[A-Z]{2}\b(?:\s\d{5}(?:-\d{4})?)?)?"
)


# International order: "5366 Pivovarská 276", "Via delle Coste 41", "ul. Narewska 94".
_INTL_WORD = r"\p{Lu}[\p{L}'’.-]{1,30}"
_INTL_LINK = r"(?:\s(?:[\p{Ll}]{1,5}|\p{Lu}[\p{L}'’.-]{1,30})){0,3}"
_STREET_PREFIX = (
    r"(?:ul\.|Rue|rue|Via|via|Viale|Corso|Piazza|Piazzetta|Strada|Avda\.|Avenida|Calle|Rua|Praça|Plaza|Paseo"
    r"|Largo|Travessa|Vicolo|Rambla|Camino|Carrer)"
)


_KNOWN_SHAPE = regex.compile(
    rf"\b{_SUFFIX}\b|\b(?:Apt|Apartment|Suite|Ste|Unit|Room|Rm|Box|PSC|[AFD]PO)\b", regex.IGNORECASE
)


class StreetAddressRecognizer(RegexRecognizer):
    ENTITY = "STREET_ADDRESS"
    CONTEXT = (
        "address",
        "addr",
        "lives at",
        "lives on",
        "resides",
        "residence",
        "home",
        "street",
        "apt",
        "mailing",
        "located at",
        "drops you off",
        "station is on",
        "corner of",
        "sent to",
        "deliver to",
    )

    def validate(self, value: str) -> bool:
        from copilot.ingest.redaction.names import is_common_word

        if _KNOWN_SHAPE.search(value):
            return True  # a street suffix, unit or PO box: the English-word check is for bare shapes
        words = [w for w in regex.findall(r"\p{L}[\p{L}'’-]*", value) if len(w) > 2]
        if not words:
            return True
        return not all(is_common_word(w) for w in words)

    RULES = (
        # 1234 North Oak Street, 12 W 3rd Ave
        Rule(
            "street",
            rf"\b\d{{1,6}}[A-Z]?\s(?:[NSEW]\.?\s|North\s|South\s|East\s|West\s)?{_NAME}"
            rf"(?:\s{_NAME}){{0,3}}\s{_SUFFIX}\b\.?{_TAIL}",
            0.85,
            1.0,
        ),
        # 6750 Koskikatu 25 (European order) only with an address label
        Rule(
            "street_eu",
            r"\b\d{1,6}\s[A-Z][a-z]{3,}(?:katu|strasse|straße|gasse|weg|vej|gatan|laan|straat|"
            r"via|rue|calle|ulica)\b(?:\s\d{1,4})?",
            0.7,
            0.9,
            ignore_case=True,
        ),
        # "4844 Søndergade 52": house/postal number, proper-noun street, number. Street words must not all be
        # ordinary English words ("3000 Series 2"), see validate().
        Rule(
            "intl_street",
            rf"(?<![\w.,-])\d{{2,6}}\s{_INTL_WORD}{_INTL_LINK}\s\d{{1,4}}[a-zA-Z]?\b\.?",
            0.6,
            0.9,
        ),
        Rule(
            "prefixed_street",
            rf"\b{_STREET_PREFIX}\s{_INTL_WORD}{_INTL_LINK}\s\d{{1,4}}[a-zA-Z]?\b",
            0.75,
            0.9,
        ),
        # "lives on Villacher Strasse 89": proper-noun street + number after an address cue only.
        Rule(
            "cued_street",
            rf"(?<=\b(?:on|at|address:?|of)\s){_INTL_WORD}{_INTL_LINK}\s\d{{1,4}}[a-zA-Z]?\b",
            0.0,
            0.8,
        ),
        Rule("apt", r"\b(?:Apt\.?|Apartment|Suite|Ste\.)\s?#?\d{1,5}[A-Z]?\b", 0.6, 0.9, ignore_case=True),
        Rule("unit", r"\b(?:Unit|Room|Rm\.?)\s?#?\d{1,5}[A-Z]?\b", 0.3, 0.8),
        # Military addresses: "PSC 3294, Box 9168 APO AA 61487", "Unit 8505 Box 9220 DPO AE 90744"
        Rule(
            "military",
            r"\b(?:PSC|Unit|USNS|USS|USNV|USCGC)\s[\w ]{1,20}?,?\s"
            r"(?:Box\s\d{1,5}\s{1,3})?[AFD]PO\s[A-Z]{2}\s\d{5}\b",
            0.85,
            1.0,
            ignore_case=True,
        ),
        Rule("po_box", r"\bP\.?\s?O\.?\s?Box\s\d{1,6}\b", 0.8, 1.0, ignore_case=True),
        Rule("zip", r"(?<=\b[A-Z]{2}\s{1,2})\d{5}(?:-\d{4})?\b", 0.8, 1.0),
    )
