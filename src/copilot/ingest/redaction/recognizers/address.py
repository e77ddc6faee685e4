"""Street addresses, unit numbers and postal codes (geographic units smaller than a state).

Three layers:

* street shapes: US order ("1234 North Oak Street"), the orders of other countries where a street-type word
  names the street ("Via Roma 131", "31 rue La Boétie", "Loorenstrasse 149", "Kálmán Imre u. 12."), and a
  proper noun plus a house number ("Moemoen 92", "2646 Amanda Passage") when an address cue precedes it or the
  lines after it end like an address (town and postal code, state and ZIP, a country);
* the rest of the address block: a building or postal number before the street ("935 69 Gordon Terrace") and
  the unit, city, state, postal code and country fields after it, on the same line or the next lines;
* labelled postal codes ("ZIP: 3520") and military addresses ("PSC 3294, Box 9168 APO AA 61487").

Hospital operational numbers ("Room 12", "Bed 4", "Building C", lot and PO numbers) are no street shapes: a
bare "Word 12" needs an address cue or an address-like ending, and ordinary English words never name a street
on their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import regex
from presidio_analyzer import RecognizerResult

from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule, all_matches

logger = logging.getLogger(__name__)

STREET_SUFFIXES: tuple[str, ...] = tuple(
    "Street St Str Avenue Ave Road Rd Boulevard Blvd Drive Dr Lane Ln Court Ct Place Pl Way Terrace Ter Circle Cir "
    "Parkway Pkwy Highway Hwy Square Sq Trail Trl Alley Plaza Route Rte Gardens Crescent Close Row Pike Loop Run "
    "Path Walk Heights Hill Park Turnpike Tpke Expressway Freeway".split()
)
"""The street suffixes an address ends its street with (the clinical profile's guard uses them too)."""
_SUFFIX = "(?:" + "|".join(STREET_SUFFIXES) + ")"
# Street suffixes that are also ordinary words ("Green", "View", "Point"): the name before them must not be.
_SUFFIX_MORE = (
    r"(?:Passage|Trace|Mews|Bridge|Crossing|Point|Ridge|View|Vista|Grove|Glen|Green|Meadows?|Estates?|Harbou?r"
    r"|Landing|Manor|Mills?|Orchard|Pass|Summit|Valley|Wharf|Quay|Parade|Esplanade|Promenade|Rise|Hollow|Knoll"
    r"|Junction|Causeway|Bypass|Commons?|Creek|Cove|Fields?|Falls|Springs|Lakes?|Shores?|Crest|Brook|Forest"
    r"|Ford|Glade|Chase|Marg|Wynd|Gate|Drove|Grange|Ramp|Spur|Throughway|Skyway|Underpass|Overpass|Ville)"
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
# The same within one line: a street name never continues on the next line (that is the town or a name).
_LINE_LINK = r"(?:[ ](?:[\p{Ll}]{1,5}|\p{Lu}[\p{L}'’.-]{1,30})){0,3}"
# Articles and prepositions inside street and place names ("Rua Vinte e Cinco de Setembro", "Ostrov nad Ohří").
_LINK = (
    r"(?:d[aeiou]|de[il]|dell[ae]|degli|dei|dos|das|des|l[ae]|les|el|los|las|y|e|i|u|nad|pod|am|an|im|op|sur"
    r"|van|von|der|den|ter)"
)
_LINK_RX = regex.compile(_LINK)
_WORD_UP = r"(?:[dlDL]['’])?\p{Lu}[\p{L}'’.-]{0,30}"
_WORD_ANY = r"(?:[dlDL]['’])?\p{L}[\p{L}'’.-]{0,30}"
# "131", "12.", "7/0", "2b/6", "19/48", "12-14"
_HOUSE_NO = r"\d{1,5}[a-zA-Z]?(?:[/-]\d{1,4}[a-zA-Z]?)?(?![\w/-])\.?"
# Street-type words that open a street name. Unambiguous ones (no English word) may precede a lower-case
# name ("rue du centre 320"); "Via", "Av", "Place" and friends need a capitalised name ("Via Roma 131").
_STRONG_TYPE = (
    r"(?i:rue|rua|calle|c/|avda\.?|avenida|avenue|ul\.|ulica|aleja|al\.|viale|corso|piazza|piazzale|largo"
    r"|travessa|praça|praceta|ladeira|rodovia|beco|carrer|passeig|avinguda|plaça|camino|paseo|rambla|carretera"
    r"|calzada|cerrada|privada|circuito|callejón|glorieta|pasaje|strada|stradella|vicolo|contrada|borgo|estrada"
    r"|alameda|chemin|allée|impasse|boulevard|chaussée|odos|aleea|calea|bulevardul|splaiul|jl\.|jalan|gg\.|plac"
    r"|náměstí|λεωφόρος|λεωφ\.|οδός|πλ\.|intrarea|drumul|șoseaua|soseaua|piața|piata)"
)
_WEAK_TYPE = r"(?:Via|Vía|Av\.?|Place|Plaza|Route|Str\.|Quai|Cours)"
# Street words written as one compound with the name (Scandinavian, German, Dutch, Finnish, Hungarian, Polish).
_COMPOUND = (
    r"(?i:strasse|straße|gasse|weg|vej|gade|gata|gatan|vägen|väg|veien|vegen|vei|veg|gate|stien|straat|laan"
    r"|plein|steeg|gracht|kade|dijk|singel|baan|hof|lei|ring|ringen|katu|kuja|polku|tie|tori|väylä|rinne|kaari"
    r"|platz|allee|damm|ufer|pfad|steig|zeile|stræde|plads|gränd|stigen|backen|torget|bakken|berget|utca|ulica)"
)
# Street words after the name ("Kálmán Imre u. 12.", "hegyalja út 98.", "Karunova ulica 168", "Dewan Marg").
_AFTER_TYPE = (
    r"(?i:u\.|utca|út|útja|körút|tér|köz|ulica|cesta|trg|šetalište|sokak|sok\.|caddesi|cad\.|cd\.|bulvarı|marg"
    r"|chowk)"
)
_STREETISH = (
    rf"(?:\d{{1,6}}[ ])?(?:(?:ul\.|u\.|{_STRONG_TYPE})[ ])?{_WORD_UP}"
    rf"(?:[ ](?:{_WORD_UP}|{_LINK}|\d{{1,5}}\.?|{_AFTER_TYPE}|str\.?|st\.?|ave\.?|rd\.?)){{0,5}}"
)
# Postal codes: "53591-1234", "75534-030", "394 13", "53-320", "7412 SL", "1144XL", "B0J 2H0", "SW1A 1AA",
# "D02 X285", "D-80331". No "555-0152": a local phone number is no postal code.
_POSTAL = (
    r"(?:(?:\d{5}(?:-\d{3,4})?|\d{3}\s\d{2}|\d{2}-\d{3}|\d{3,6}|\d{8})(?:\s?[A-Z]{2}(?!\w))?"
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}|[A-Z]\d[\dW]\s?[A-Z\d]{4}|[A-Z]{1,2}-\d{4,5})"
)

_TOWN_NAME = r"\p{Lu}[\p{L}'’.-]{1,30}(?:[ ](?:\p{Lu}[\p{L}'’.-]{1,30}|(?:de|la|du|des|del)(?=[ ]\p{Lu}))){0,3}"

_KNOWN_SHAPE = regex.compile(
    rf"\b{_SUFFIX}\b|\b(?:Apt|Apartment|Suite|Ste|Unit|Room|Rm|Box|PSC|[AFD]PO)\b", regex.IGNORECASE
)
_ADDRESS_CUE = regex.compile(
    r"(?i:(?:\b(?:lives?|living|resides?|residing|moved|relocated|located|situated|address|addr|home)"
    r"(?:\s(?:is|at|on|in|to|now|here))?"
    r"|\b(?:send|sent|mail|mailed|ship|shipped|deliver|delivered|return|returned|forward)(?:\s[\w'’-]{1,20}){0,3}\sto"
    r"|\bmeet(?:\s(?:me|you|us))?\sat|\bcorner\sof)\s{0,3}[:\-–]?\s{0,3})$"
)

# Rules whose match is a street (or PO box) that the rest of an address block may follow.
_ANCHORS = frozenset(
    {
        "street",
        "street_upper",
        "street_more",
        "street_eu",
        "intl_street",
        "prefixed_street",
        "number_prefixed_street",
        "compound_street",
        "after_type_street",
        "corner",
        "cued_street",
        "named_street",
        "numbered_street",
        "po_box",
    }
)
# Units and postal codes are reported on their own even inside an address block; other spans inside a larger
# one add nothing (the engine merges overlaps into their union anyway).
_PARTS = frozenset({"apt", "unit", "zip", "zip_labelled", "military", "street", "po_box"})


def _inside(start: int, end: int, spans: list[tuple[int, int, float, bool]]) -> bool:
    return any(s <= start and end <= e and (s, e) != (start, end) for s, e, _score, _part in spans)


# Rules where a street-type word is the evidence: only very frequent English words disqualify the name.
_TYPED = frozenset(
    {
        "prefixed_street",
        "number_prefixed_street",
        "after_type_street",
        "corner",
        "named_street",
        "typed_bare",
        "town_state_zip",
    }
)
# Rules where the name is the evidence: names ("Joaquin Suarez 2906") count, plain English words do not.
_NAMED = frozenset({"cued_street", "numbered_street", "street_more", "bare_street"})
# Rules kept only after an address cue or before an address-like end (see _bare_street).
_CONDITIONAL = frozenset({"bare_street", "unit_first", "typed_bare"})
# Cheap scans that every match of the rule implies: a rule whose precheck finds nothing is not run. The six
# rules below start at any capitalised word and were two thirds of this recognizer's time.
_PRECHECK = {
    "prefixed_street": regex.compile(rf"(?<![\w.])(?:{_STRONG_TYPE}|{_WEAK_TYPE})[ ]"),
    "typed_bare": regex.compile(rf"(?<![\w.]){_STRONG_TYPE}[ ]"),
    "compound_street": regex.compile(rf"{_COMPOUND}[ ]\d"),
    "after_type_street": regex.compile(rf"[ ]{_AFTER_TYPE}"),
    "corner": regex.compile(r"(?i:corner[ ]of)"),
    "bare_street": regex.compile(r"\d"),
}
_ORDINARY_ZIPF = 4.5
"""Words at least this frequent in English ("Email", "Series", "Model") never name a street alone."""


_WORD = regex.compile(r"\p{L}[\p{L}'’-]*")


def _words(value: str) -> list[str]:
    return [w for w in _WORD.findall(value) if len(w) > 2]


def _very_common(word: str) -> bool:
    from copilot.ingest.redaction.names import zipf_en

    return zipf_en(word) >= _ORDINARY_ZIPF


def _plain_word(word: str) -> bool:
    """An ordinary English word that is no census name ("Series", "Room"; not "Suarez", "Amanda")."""
    from copilot.ingest.redaction.names import is_common_word, load_census_names

    if not is_common_word(word):
        return False
    first, last = load_census_names()
    return word.upper() not in first and word.upper() not in last


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
        "return to",
        "ship to",
        "mail to",
        "enter on",
        "meet",
        "is at",
    )

    def validate(self, value: str) -> bool:
        from copilot.ingest.redaction.names import is_common_word

        if _KNOWN_SHAPE.search(value):
            return True  # a street suffix, unit or PO box: the English-word check is for bare shapes
        words = _words(value)
        if not words:
            return True
        return not all(is_common_word(w) for w in words)

    def validate_rule(self, name: str, value: str) -> bool:
        """Per-rule checks: how much the street words must look like a name depends on the other evidence."""
        if name in _TYPED:
            words = _words(value)
            return not words or not all(_very_common(w) for w in words)
        if name == "unit_first":
            return True
        if name == "intl_street" and not _words(value):
            return False  # "1234 or 555": a link word capitalised by capitalised_copy() names no street
        if name in _NAMED:
            words = _words(value)
            return bool(words) and not all(_plain_word(w) for w in words)
        return self.validate(value)

    RULES = (
        # 1234 North Oak Street, 12 W 3rd Ave, 765, Mishra Road
        Rule(
            "street",
            rf"\b\d{{1,6}}[A-Z]?,?[ \t](?:[NSEW]\.?[ \t]|North[ \t]|South[ \t]|East[ \t]|West[ \t])?{_NAME}"
            rf"(?:[ \t]{_NAME}){{0,3}}[ \t]{_SUFFIX}\b\.?{_TAIL}",
            0.85,
            1.0,
        ),
        # "2646 Amanda Passage", "326 Cook Flat": suffixes that are ordinary words need a name before them.
        Rule(
            "street_more",
            rf"\b\d{{1,6}}[A-Z]?,?[ \t](?:[NSEW]\.?[ \t])?{_NAME}(?:[ \t]{_NAME}){{0,2}}[ \t]{_SUFFIX_MORE}\b",
            0.8,
            0.9,
        ),
        # Upper-case notes: "1234 NORTH OAK STREET"
        Rule(
            "street_upper",
            rf"\b\d{{1,6}}[A-Z]?[ \t](?:[NSEW]\.?[ \t])?[A-Z][A-Z'.-]*(?:[ \t][A-Z][A-Z'.-]*){{0,3}}[ \t]"
            rf"(?i:{_SUFFIX})\b\.?",
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
            rf"(?<![\w.,-])\d{{2,6}}[ ]{_INTL_WORD}{_LINE_LINK}[ ]\d{{1,4}}[a-zA-Z]?\b\.?",
            0.6,
            0.9,
        ),
        # "Via Roma 131", "Rua Vinte e Cinco de Setembro 1257", "rue du centre 320", "Largo de Antunes, 64",
        # "Jl. Abdul Muis No. 390". The street-type word is the evidence, so a person's name in the street
        # ("Rua João Pessoa") does not make it a person.
        Rule(
            "prefixed_street",
            rf"(?<![\w.])(?:{_STRONG_TYPE}[ ](?:{_LINK}[ ]){{0,2}}{_WORD_ANY}(?:[ ](?:{_LINK}|{_WORD_UP})){{0,4}}"
            rf"|{_WEAK_TYPE}[ ](?:{_LINK}[ ]){{0,2}}{_WORD_UP}(?:[ ](?:{_LINK}|{_WORD_UP})){{0,4}}),?[ ](?:No\.?[ ])?"
            rf"{_HOUSE_NO}",
            0.85,
            0.9,
        ),
        # French order, house number first: "31 rue La Boétie", "33 avenue de Provence", "69 Av Sidi Lakhmi".
        Rule(
            "number_prefixed_street",
            rf"(?<![\w.,-])\d{{1,5}}[a-zA-Z]?,?[ ](?:{_STRONG_TYPE}|{_WEAK_TYPE})[ ](?:{_LINK}[ ]){{0,2}}"
            rf"{_WORD_ANY}(?:[ ](?:{_LINK}[ ])?{_WORD_UP}){{0,3}}",
            0.85,
            0.9,
        ),
        # "Loorenstrasse 149", "Hersnapvej 75", "Skogstien 106": the street word is part of the name.
        Rule(
            "compound_street",
            rf"(?<![\w-])\p{{Lu}}[\p{{L}}-]{{1,30}}(?<={_COMPOUND})[ ]{_HOUSE_NO}",
            0.8,
            0.9,
        ),
        # "Kálmán Imre u. 12.", "Árpád fejedelem útja 62.", "hegyalja út 98.", "Karunova ulica 168"
        Rule(
            "after_type_street",
            rf"(?<![\w-])(?:{_WORD_UP}(?:[ ](?:{_LINK}[ ])?{_WORD_ANY}){{0,3}}|\p{{Ll}}{{3,30}})[ ]{_AFTER_TYPE}"
            rf"(?:[ ]{_HOUSE_NO}|(?=[ ]?(?:[,\n]|$)))",
            0.85,
            0.9,
        ),
        # "the corner of Kuusiku 7 and Alexander Flat": two street names after "corner of".
        Rule(
            "corner",
            rf"(?<=\b(?i:corner[ ]of)[ ](?:the[ ])?){_STREETISH}[ ](?:and|&)[ ]{_STREETISH}",
            0.85,
            0.9,
        ),
        # "lives on Villacher Strasse 89", "return to Leon and Eyrarodda 66": proper-noun street + number after
        # an address cue only.
        Rule(
            "cued_street",
            rf"(?<=\b(?:on|at|address:?|of|(?i:return|send|sent|ship|mail|deliver)[ ]to)[ ])"
            rf"{_INTL_WORD}{_LINE_LINK}[ ]\d{{1,4}}[a-zA-Z]?\b\.?",
            0.0,
            0.85,
        ),
        # "shows on Isaac Lodge Street": a named street without a number after "on"/"at"/"of". Not before
        # another capitalised word ("Maple Street Clinic" names a facility).
        Rule(
            "named_street",
            r"(?<=\b(?:on|at|of)[ ])\p{Lu}[\p{L}'’-]{1,30}(?:[ ]\p{Lu}[\p{L}'’-]{1,30}){0,2}"
            r"[ ](?:Street|Avenue|Road|Boulevard|Drive|Lane|Terrace|Crescent|Parkway|Highway)\b(?![ ]\p{Lu})",
            0.85,
            0.85,
        ),
        # "is at 9816 214 Pavlou Drandaki": building and house number before a capitalised street name.
        Rule(
            "numbered_street",
            r"(?<=\b(?:at|address:?|(?i:return|send|sent|ship|mail|deliver)[ ]to)[ ])"
            r"(?![01]\d[0-5]\d[ ]|2[0-3][0-5]\d[ ])\d{1,6}[ ]\d{1,5}[A-Z]?[ ]\p{Lu}\p{Ll}[\p{L}'’-]{1,30}"
            r"(?:[ ]\p{Lu}\p{Ll}[\p{L}'’-]{1,30}){0,3}",
            0.0,
            0.85,
        ),
        # A unit before the street, British style: "Flat 4, Lee Village, Heatherberg, M68 3QS"; like
        # bare_street it needs a cue or an address-like end.
        Rule("unit_first", r"(?<![\w.-])(?i:flat|studio|apartment|apt\.?|suite|unit)[ ]\d{1,5}[a-zA-Z]?\b", 0.0, 0.0),
        # A street-type word and a name without a number: "rue Diaz", "Strada Dima", "chemin Meunier".
        Rule(
            "typed_bare",
            rf"(?<![\w.])(?:{_STRONG_TYPE}[ ](?:{_LINK}[ ]){{0,2}}{_WORD_ANY}(?:[ ](?:{_LINK}|{_WORD_UP})){{0,3}})"
            rf"(?![ ]?\d)",
            0.0,
            0.0,
        ),
        # A proper noun and a house number in either order ("Moemoen 92", "12581 Yüksel Land",
        # "Strossmayerovo šetalište 30"): kept only after an address cue or when the block ends like an
        # address, see analyze().
        Rule(
            "bare_street",
            rf"(?<![\w.,/-])(?:\d{{1,6}}[A-Za-z]?(?:/\d{{1,4}})?,?[ ]{_WORD_UP}(?:[ ](?:{_WORD_UP}|{_LINK})){{0,3}}"
            rf"|{_WORD_UP}(?:[ ](?:{_WORD_UP}|{_LINK}|\p{{Ll}}[\p{{L}}'’-]{{2,30}})){{0,3}}[ ]{_HOUSE_NO})",
            0.0,
            0.0,
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
        # "Springfield, IL 62704", "Halifax, NS B0J 2H0": town, state or province, ZIP or postal code.
        Rule(
            "town_state_zip",
            rf"(?<![\p{{L}}'’.-]){_TOWN_NAME},[ ][A-Z]{{2}}[ ]{{1,2}}"
            r"(?:\d{5}(?:-\d{4})?|[A-Z]\d[A-Z][ ]?\d[A-Z]\d)\b",
            0.85,
            0.9,
        ),
        Rule("po_box", r"\bP\.?\s?O\.?\s?Box\s\d{1,6}\b", 0.8, 1.0, ignore_case=True),
        Rule("zip", r"(?<=\b[A-Z]{2}\s{1,2})\d{5}(?:-\d{4})?\b", 0.8, 1.0),
        # "ZIP: 3520", "my zip code is 880", "Postal code 75534-030": the label makes any postal shape one.
        Rule(
            "zip_labelled",
            rf"(?i:\b(?:zip(?:\s?code)?|postal\s?code|post\s?code|postcode)(?:\s(?:is|was|of))?\s?[:#]?\s{{0,3}})"
            rf"(?P<zip>{_POSTAL})(?![\w-])",
            0.85,
            0.95,
            group="zip",
        ),
    )

    def load(self) -> None:
        super().load()
        # Word lists and the gazetteer load now, not inside the first regex scan's time budget.
        from copilot.ingest.redaction.names import load_census_names, zipf_en
        from copilot.ingest.redaction.places import load_places

        load_census_names()
        load_places()
        zipf_en("street")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        found: list[tuple[int, int, float, bool]] = []  # start, end, score, kept even inside a larger span
        lowered = capitalised_copy(text)
        text = lowered or text
        for rule, rx in self._compiled:
            pre = _PRECHECK.get(rule.name)
            if pre is not None and pre.search(text) is None:
                continue
            for m in self._matches(rule, rx, text):
                start, end = m.span(rule.group)
                if start < 0 or end <= start or not self.validate_rule(rule.name, text[start:end]):
                    continue
                if lowered:
                    start = _skip_plain_words(text, start, end)
                if rule.name in _CONDITIONAL:
                    block = _bare_street(text, start, end)
                    if block is not None:
                        found.append((*block, False))
                    continue
                score = rule.context_score if self.has_context(text, m.start(), end) else rule.score
                if score <= 0:
                    continue
                if rule.name in _ANCHORS:
                    start, end, score = _address_block(text, start, end, score)
                found.append((start, end, score, rule.name in _PARTS))
        return [self._result(s, e, score) for s, e, score, part in found if part or not _inside(s, e, found)]

    @staticmethod
    def _matches(rule: Rule, rx: Any, text: str) -> list[Any]:
        """All matches of one rule, collected first so the timeout bounds the regex, not our checks."""
        found: list[Any] = []
        try:
            for m in all_matches(rx, text):
                found.append(m)
        except TimeoutError:
            # A pathological input: keep what matched so far, never hang the batch.
            logger.warning("regex %s timed out on a %d-char window", rule.name, len(text))
        return found

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            self.ENTITY, start, end, score, recognition_metadata={"recognizer_name": type(self).__name__}
        )


_WORD_START = regex.compile(r"(?<![\p{L}'’])\p{Ll}")


def capitalised_copy(text: str) -> str | None:
    """For an all-lower-case text ("lives at 74678 midtvollen 130 st."), the same text with each word
    capitalised, so shape rules built on capitals see names; None when the text has capitals of its own.

    Characters whose upper case is longer ("ß") stay as they are: offsets must not move.
    """
    if any(ch.isupper() for ch in text) or not any(ch.isalpha() for ch in text):
        return None

    def up(m: Any) -> str:
        ch: str = m.group()
        return ch.upper() if len(ch.upper()) == 1 else ch

    return _WORD_START.sub(up, text)


def _skip_plain_words(text: str, start: int, end: int) -> int:
    """In a capitalised copy of lower-case text, where a match really starts: after its very common words
    ("must enter on hegyalja út 98." is "hegyalja út 98.")."""
    while True:
        m = _PLAIN_LEAD.match(text, start, end)
        if m is None or not _very_common(m.group(1)):
            return start
        start = m.end()


_PLAIN_LEAD = regex.compile(r"(\p{L}+)[ ](?=\S)")


# -- the rest of an address block -------------------------------------------------------------------------------

_LEADING_NUMBER = regex.compile(r"(?<![\w.,/:#-])\d{1,6}[ \t]{1,2}$")
_BULLET = r"(?:[?•·*>–-]{1,3}[ \t]?)?"
_SEP = regex.compile(rf"(?:[ \t]*[,\n]){{1,3}}[ \t]*{_BULLET}|[ \t]{{2,}}{_BULLET}|[ \t]*[>/][ \t]*")
_UNIT_AFTER_SPACE = regex.compile(r"[ ](?=(?i:apt|apartment|suite|ste|unit)\b)")
_TOKEN = r"(?:\p{L}[\p{L}'’.-]{0,30}|\d[\dA-Z-]{0,9}|\([\p{L} .'’-]{1,24}\))"
# A field ends at a separator or the end of a sentence.
_FIELD_END = r"(?=[ \t]*(?:$|[,\n>/]|[ \t]{2,}|[.;!?)](?:\s|$)))"
_FIELD = regex.compile(rf"{_TOKEN}(?:[ ]{_TOKEN}){{0,5}}{_FIELD_END}")
# "Cyprus 36903", and the European order with the town after the code: "53-320 Wrocław", "75008 Paris".
_TOWN = r"\p{Lu}[\p{L}'’-]{1,30}"
_FIELD_POSTAL = regex.compile(
    rf"(?:{_TOKEN}[ -]){{0,4}}{_POSTAL}(?![\w-])"
    rf"(?:[ ]{_TOWN}(?:[ ](?:{_TOWN}|{_LINK}|pod)){{0,3}}(?:[ ]\([A-Z]{{2}}\))?{_FIELD_END})?"
)
_UNIT_FIELD = regex.compile(
    r"(?i:(?:apt|apartment|suite|ste|unit|flat|studio|floor|fl|level|appartamento|apto|depto|dpto|interior|int"
    r"|piso|edif|#)\.?[ ]?#?[a-z0-9-]{1,6}"
    r"|(?:p\.?[ ]?o\.?[ ]?)?box[ ]\d{1,6}"
    r"|postbox[ ]\d{1,6})"
)
_POSTAL_IN = regex.compile(rf"(?:^|[ -]){_POSTAL}(?![\w-])")
_STATE = regex.compile(r"[A-Z]{2,3}")
_MAX_FIELDS = 6
_BLOCK_SCORE = 0.85
"""An address block is as sure as spaCy's NER; with STREET_ADDRESS's type priority it names merged spans."""


@dataclass(frozen=True)
class _Field:
    kind: str  # "unit", "end" (postal code, state, country), "place" (a town-like name)
    end: int
    strong: bool = False  # an end no operational text has: town + postal code, state + ZIP, a country
    lone: bool = False  # a place field that may close a block by itself ("LOOMBAH", "Springfield")


@dataclass(frozen=True)
class _Tail:
    end: int
    strong: bool


def _address_block(text: str, start: int, end: int, score: float) -> tuple[int, int, float]:
    """Grow a street match over the building number before it and the unit/city/state/postal fields after it."""
    lead = _LEADING_NUMBER.search(text, max(0, start - 10), start)
    new_start = lead.start() if lead else start
    new_end = _tail(text, end).end
    if (new_start, new_end) == (start, end):
        return start, end, score
    return new_start, new_end, max(score, _BLOCK_SCORE)


def _bare_street(text: str, start: int, end: int) -> tuple[int, int, float] | None:
    """A proper noun + house number is a street when an address cue precedes it or an address-like end follows."""
    tail = _tail(text, end)
    if not (tail.strong or _cued_street(text, start, end)):
        return None
    lead = _LEADING_NUMBER.search(text, max(0, start - 10), start)
    return (lead.start() if lead else start), tail.end, _BLOCK_SCORE


def _cued_street(text: str, start: int, end: int) -> bool:
    """An address cue before the match; a name + number ("sent to Maria Lopez 2 days ago") must also end its
    clause to be a street ("lives at Kraljevečki ogranak 2b/6, Lipik")."""
    if _ADDRESS_CUE.search(text[max(0, start - 60) : start]) is None:
        return False
    if text[start].isdigit():
        return True  # "moved to 3265 Mary Bridge last year": a house number first is no person
    return _CLAUSE_END.match(text, end) is not None and not _person_like(_words(text[start:end]))


_CLAUSE_END = regex.compile(r"[ \t]*(?:$|[,.;:!?)\n])")


def _tail(text: str, end: int) -> _Tail:
    """Where the address block that starts with a street ending at ``end`` ends.

    Fields are separated by commas, line breaks (at most one blank line) or runs of spaces. Unit fields
    ("Apt. 595", "Box 9168") always belong; town-like fields belong when a later field ends the block with a
    postal code, a state code or a country ("Salvador  Brazil 10988"), and one more town may follow that end
    ("9590NC / Colmschate"); without such an end only one field that is a known place or written like one
    ("LOOMBAH") is taken.
    """
    fields = _fields(text, end)
    ends = [i for i, f in enumerate(fields) if f.kind == "end"]
    if not ends:
        best = end
        for f in fields:
            if f.kind == "unit":
                best = f.end
                continue
            if f.lone:
                best = f.end
            break
        return _Tail(best, False)
    last = ends[-1]
    best = fields[last].end
    places = any(f.kind == "place" for f in fields)
    strong = any(fields[i].strong for i in ends) or places
    if last + 1 < len(fields) and fields[last + 1].lone:
        best = fields[last + 1].end
    return _Tail(best, strong)


def _fields(text: str, pos: int) -> list[_Field]:
    from copilot.ingest.redaction.places import load_places

    _cities, regions = load_places()
    out: list[_Field] = []
    for _ in range(_MAX_FIELDS):
        sep = _SEP.match(text, pos) or _UNIT_AFTER_SPACE.match(text, pos)
        if sep is None or sep.group().count("\n") > 2:
            break
        m = _FIELD_POSTAL.match(text, sep.end()) or _FIELD.match(text, sep.end())
        if m is None:
            break
        f = _field(m.group(), m.end(), regions)
        if f is None:
            break
        out.append(f)
        pos = m.end()
    return out


def _field(value: str, end: int, regions: frozenset[str]) -> _Field | None:
    """Classify one field of an address block; None for anything that is no part of an address."""
    if _UNIT_FIELD.fullmatch(value):
        return _Field("unit", end)
    postal = _POSTAL_IN.search(value)
    if postal:
        before = [w for w in value[: postal.start()].split() if not _STATE.fullmatch(w)]
        rest = (value[: postal.start()] + " " + value[postal.end() :]).split()
        names = [w for w in rest if not _STATE.fullmatch(w)]
        if before and _operational(before):
            return None  # "Room 300", "Lot 2231": operational numbers, not a town and postal code
        if names:
            return _Field("end", end, strong=True)
        code = postal.group().strip(" -")
        return _Field("end", end, strong=bool(rest) or not code.replace("-", "").replace(" ", "").isdigit())
    if any(ch.isdigit() for ch in value) or len(value) > 40:
        return None
    if _STATE.fullmatch(value):
        return _Field("end", end)
    name = value.split(" (")[0].casefold().strip(" .")
    words = value.split()
    last_two = " ".join(words[-2:]).casefold()
    if name in regions or (len(words) > 1 and (words[-1].casefold() in regions or last_two in regions)):
        return _Field("end", end, strong=True)  # "Estonia", "Brakpan South Africa"
    if len(words) > 1 and _STATE.fullmatch(words[-1]):
        return _Field("end", end, strong=True)  # "Springfield IL"
    return _Field("place", end, lone=_lone_place(value))


def _operational(words: list[str]) -> bool:
    """Words before a number that make it an operational number ("Room", "Lot"), not a town or country."""
    from copilot.ingest.redaction.places import is_place

    long = [w.strip("()") for w in words if len(w.strip("()")) > 2]
    if not long or not all(_plain_word(w) for w in long):
        return False
    return not (is_place(" ".join(long)) or any(is_place(w) for w in long))


def _lone_place(value: str) -> bool:
    """A town field with nothing after it: a known place, or a capitalised name that is no English phrase."""
    from copilot.ingest.redaction.places import is_place

    if is_place(value):
        return True
    words = [w.strip("()") for w in value.split() if not _LINK_RX.fullmatch(w)]
    if not words or not all(w[:1].isupper() for w in words) or _person_like(words):
        return False
    return not all(_plain_word(w) for w in words)


def _person_like(words: list[str]) -> bool:
    """ "John Smith", "Maria Lopez": a first name and a surname, as after an address in a list of contacts."""
    from copilot.ingest.redaction.names import load_census_names

    if len(words) not in (2, 3):
        return False
    first, last = load_census_names()
    return words[0].upper() in first and words[-1].upper().strip(".,") in last
