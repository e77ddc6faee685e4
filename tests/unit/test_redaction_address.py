"""Street addresses, address blocks, postal codes and cued place names (regex + gazetteer, no spaCy)."""

from __future__ import annotations

import pytest

from copilot.ingest.redaction.places import PlaceRecognizer
from copilot.ingest.redaction.recognizers import StreetAddressRecognizer
from copilot.ingest.redaction.recognizers.address import capitalised_copy

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def streets() -> StreetAddressRecognizer:
    rec = StreetAddressRecognizer()
    rec.load()
    return rec


@pytest.fixture(scope="module")
def places() -> PlaceRecognizer:
    rec = PlaceRecognizer()
    rec.load()
    return rec


def _spans(rec: StreetAddressRecognizer | PlaceRecognizer, text: str, threshold: float = 0.4) -> set[str]:
    return {text[r.start : r.end] for r in rec.analyze(text, []) if r.score >= threshold}


def _covered(rec: StreetAddressRecognizer | PlaceRecognizer, text: str, value: str) -> bool:
    start = text.index(value)
    end = start + len(value)
    return any(r.start <= start and end <= r.end and r.score >= 0.4 for r in rec.analyze(text, []))


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("Josef had given Josef his address: 6138 Via Roma 131", "6138 Via Roma 131"),
        ("The bus drops you off at 10963 Rua Vinte e Cinco de Setembro 1257 St.", "Rua Vinte e Cinco de Setembro 1257"),
        ("The title refers to C/ Señores Curas 88 street in Villafranca del Cid.", "C/ Señores Curas 88"),
        ("Verda lives on 33 avenue de Provence street.", "33 avenue de Provence"),
        ("The bus drops you off at 8116 56 rue La Boétie St.", "8116 56 rue La Boétie"),
        ("The title refers to Loorenstrasse 149 street in Cimadera.", "Loorenstrasse 149"),
        ("Pedestrians must enter on Sludevej 13 St. the first three months", "Sludevej 13"),
        ("The Propublica office is at Růžena and Király u. 15.", "Király u. 15."),
        ("The title refers to Árpád fejedelem útja 3. street in Budapest.", "Árpád fejedelem útja 3."),
        ("Address: Jl. Abdul Muis No. 390, Blitar", "Jl. Abdul Muis No. 390"),
        ("Patient lives at Kraljevečki ogranak 2b/6, Lipik.", "Kraljevečki ogranak 2b/6"),
        ("The clinic moved to 3265 Mary Bridge last year.", "3265 Mary Bridge"),
        ("David had given Angel his address: 580 60 Balsham Road", "580 60 Balsham Road"),
        ("PT LIVES AT 1234 NORTH OAK STREET, SPRINGFIELD IL 62704 WITH SON.", "1234 NORTH OAK STREET"),
    ],
)
def test_street_shapes(streets: StreetAddressRecognizer, text: str, street: str) -> None:
    assert _covered(streets, text, street), _spans(streets, text)


def test_corner_of_two_streets(streets: StreetAddressRecognizer) -> None:
    text = "It's in the corner of 35 Pentelis Str. and Waechter Turnpike"
    assert "35 Pentelis Str. and Waechter Turnpike" in _spans(streets, text)


@pytest.mark.parametrize(
    ("text", "block"),
    [
        (
            "Sven Hedlund\n\n85199 Avda. Rio Nalon 58\n Apt. 461\n Soto del Barco\n\n Spain 61709",
            "85199 Avda. Rio Nalon 58\n Apt. 461\n Soto del Barco\n\n Spain 61709",
        ),
        (
            "Billing address: Sara Schwarz\n    28245 Puruntie 82 Apt. 595\n   LAPPEENRANTA\n    SK\n    53650",
            "28245 Puruntie 82 Apt. 595\n   LAPPEENRANTA\n    SK\n    53650",
        ),
        ("We'll meet Monday at Corelogic, 0896 69 Farnell Street, LOOMBAH", "0896 69 Farnell Street, LOOMBAH"),
        (
            "Please send the forms to 2646 Amanda Passage\n37078 Gravesland\nThank you.",
            "2646 Amanda Passage\n37078 Gravesland",
        ),
        ("Address: Moemoen 92, 8312 Andersen", "Moemoen 92, 8312 Andersen"),
        ("Address: Flat 4, Lee Village, Heatherberg, M68 3QS", "Flat 4, Lee Village, Heatherberg, M68 3QS"),
        ("Please send the forms to rue Diaz\n48955 Duval\nThank you.", "rue Diaz\n48955 Duval"),
        ("Wrocław, ul. Słowicza 10, 53-320 Wrocław", "ul. Słowicza 10, 53-320 Wrocław"),
    ],
)
def test_address_blocks_take_number_unit_town_and_postal_code(
    streets: StreetAddressRecognizer, text: str, block: str
) -> None:
    assert block in _spans(streets, text)


def test_the_name_line_before_a_block_stays_out(streets: StreetAddressRecognizer) -> None:
    text = "Mailing address:\nRicardo Davis\n3265 Mary Bridge\nLake Joyceview, NS B9C 5R4"
    found = _spans(streets, text)
    assert "3265 Mary Bridge\nLake Joyceview, NS B9C 5R4" in found
    assert not any("Ricardo" in f for f in found)


def test_a_phone_number_after_the_zip_is_no_postal_code(streets: StreetAddressRecognizer) -> None:
    text = "| 1190 Harbor Road, Fairport, WI 53591, (608) 555-0152 | Lost dentures"
    assert not any("555" in f for f in _spans(streets, text))


@pytest.mark.parametrize(
    ("text", "zip_code"),
    [
        ("ZIP: 3520", "3520"),
        ("my zip code is 880", "880"),
        ("ZIP: 394 13", "394 13"),
        ("Postal code: 53-320", "53-320"),
        ("ZIP: 7412 SL", "7412 SL"),
        ("ZIP: 75534-030", "75534-030"),
        ("Postal Code B0J 2H0", "B0J 2H0"),
    ],
)
def test_labelled_postal_codes(streets: StreetAddressRecognizer, text: str, zip_code: str) -> None:
    assert zip_code in _spans(streets, text)


@pytest.mark.parametrize(
    "text",
    ["Unit 1009 Box 0219 DPO AP 51065", "Halifax, NS  B0J 2H0", "Springfield, IL 62704"],
)
def test_military_and_town_state_zip(streets: StreetAddressRecognizer, text: str) -> None:
    assert text in _spans(streets, text)


@pytest.mark.parametrize(
    "text",
    [
        "Patient transferred to Room 12, Bed 4, Building C for observation.",
        "Step 2 Model 3000 Series 2, Version 4 running on Tower 3.",
        "Qty 2 Via Email 3",
        "Returned to Aggregate 3",
        "Bed 12, Room 300, Floor 2",
        "Given Tylenol 500 at 0800, Aspirin 81 daily.",
        "WO-2026-01187 opened for pump BME-INF-0231 in Ward 5B, North Campus, Level 2.",
        "Please forward the file to Ulrik Jensen 2 days before",
        "Send to Selma Neureuther, 12 copies by Friday.",
        "I'm so jealous! said Erik Hermansson-Möller to Margareta",
        "reach her at 555 1234 or 555 4321",  # "or" read capitalised is no street name
        "bp 120 to 140 and hr 80 to 95",
    ],
)
def test_operational_numbers_and_names_are_no_streets(streets: StreetAddressRecognizer, text: str) -> None:
    assert _spans(streets, text) <= {"Room 12", "Room 300"}  # "Room N" alone stays below the threshold


def test_lower_case_text_is_read_capitalised(streets: StreetAddressRecognizer) -> None:
    text = "pedestrians must enter on hegyalja út 98. st. the first three months"
    assert "hegyalja út 98." in _spans(streets, text)
    assert _covered(streets, "the bus drops you off at 74678 midtvollen 130 st.", "74678 midtvollen 130")


def test_capitalised_copy_keeps_offsets() -> None:
    text = "straße 5 in kiel, ß"
    copy = capitalised_copy(text)
    assert copy is not None and len(copy) == len(text)
    assert copy.startswith("Straße 5 In Kiel")
    assert capitalised_copy("Mixed Case text") is None
    assert capitalised_copy("1234 5678") is None


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("I'm Katie E Miles, originally from Mavčiče, and i'm 82 y/o.", "Mavčiče"),
        ("we returned to Deanwell by helicopter.", "Deanwell"),
        ("I am in Hirvli for a business trip", "Hirvli"),
        ("I'm Abelardo Trevisano, originally from PORT O' WARREN, and i'm 58 y/o.", "PORT O' WARREN"),
        ("at my suggestion we returned to kiel by helicopter.", "kiel"),
        ("Göteborg is a beautiful city.", "Göteborg"),
        ("We drove from Lemoine to Stinevåg overnight.", "Stinevåg"),
        ("wife drove in from framingham", "framingham"),  # a particle between the verb and its preposition
        ("sister flew up from Tampa", "Tampa"),
        ("Country: San Marino", "San Marino"),
    ],
)
def test_cued_places_beat_spacy_person(places: PlaceRecognizer, text: str, place: str) -> None:
    scores: dict[str, float] = {}
    for r in places.analyze(text, []):
        scores[text[r.start : r.end]] = max(r.score, scores.get(text[r.start : r.end], 0.0))
    assert scores.get(place, 0.0) > 0.85, scores


@pytest.mark.parametrize(
    "text",
    [
        "We drove to Lachmann's house.",
        "I'm in Dr. Patel's office today.",
        "I'm in Radiology today.",
        "PT RETURNED TO NURSING HOME",
    ],
)
def test_cues_do_not_make_people_or_departments_places(places: PlaceRecognizer, text: str) -> None:
    assert not any(r.score > 0.85 for r in places.analyze(text, []))
