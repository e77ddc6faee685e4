"""Healthcare recognizers, one module per HIPAA Safe Harbor identifier family Presidio lacks."""

from copilot.ingest.redaction.recognizers.accounts import PatientIdRecognizer
from copilot.ingest.redaction.recognizers.address import StreetAddressRecognizer
from copilot.ingest.redaction.recognizers.base import RegexRecognizer, Rule, luhn_ok
from copilot.ingest.redaction.recognizers.dates import AgeOver89Recognizer, PatientDateRecognizer
from copilot.ingest.redaction.recognizers.dea import DeaRecognizer, dea_ok
from copilot.ingest.redaction.recognizers.fax import FaxRecognizer, UsPhoneRecognizer
from copilot.ingest.redaction.recognizers.identifiers import (
    CardNumberRecognizer,
    CaseInsensitiveIbanRecognizer,
    DriverLicenseRecognizer,
    EmployeeIdRecognizer,
    iban_ok,
)
from copilot.ingest.redaction.recognizers.insurance import HealthPlanIdRecognizer
from copilot.ingest.redaction.recognizers.mrn import DEFAULT_MRN_FORMATS, MrnRecognizer
from copilot.ingest.redaction.recognizers.network import WebUrlRecognizer
from copilot.ingest.redaction.recognizers.npi import NpiRecognizer, npi_ok

__all__ = [
    "DEFAULT_MRN_FORMATS",
    "AgeOver89Recognizer",
    "CardNumberRecognizer",
    "CaseInsensitiveIbanRecognizer",
    "DeaRecognizer",
    "DriverLicenseRecognizer",
    "EmployeeIdRecognizer",
    "FaxRecognizer",
    "HealthPlanIdRecognizer",
    "MrnRecognizer",
    "NpiRecognizer",
    "PatientDateRecognizer",
    "PatientIdRecognizer",
    "RegexRecognizer",
    "Rule",
    "StreetAddressRecognizer",
    "UsPhoneRecognizer",
    "WebUrlRecognizer",
    "dea_ok",
    "iban_ok",
    "luhn_ok",
    "npi_ok",
]
