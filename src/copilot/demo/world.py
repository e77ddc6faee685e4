"""One demo world: the equipment, suppliers and places the demo documents name, as the Odoo demo network holds them.

An agent that answers from a service report and then looks the device up in Odoo must find the same device at the
same site with the same model and history. Everything here is read from the documents under ``corpus/.src/``
(service reports, the Q4 infusion-pump PM log, the South Campus generator log, incident reports, contracts); a test
(`tests/unit/test_demo_world.py`) scans the rendered corpus and checks that every asset tag, site, clinic and
contracted supplier it names exists in the network with these attributes.

No randomness: the generated fleet's random draws are untouched, so adding the documented devices does not move
any other record.

Usage::

    from copilot.demo.world import DOCUMENTED_EQUIPMENT
    DOCUMENTED_EQUIPMENT["BME-DEF-0112"].site   # 'lakeside'
"""

from __future__ import annotations

from dataclasses import dataclass, field

GENERATED_TAG_SERIALS = {"FAC-GEN": {"north_campus": 1, "lakeside": 2, "south_campus": 3}}
"""Serials of generated devices whose tag the documents fix (the South Campus generator GEN-S1 is FAC-GEN-0003)."""


@dataclass(frozen=True)
class Repair:
    """A corrective request with the fault and the downtime the service report states (ISO datetimes, UTC)."""

    fault: str
    start: str
    end: str | None
    work_order: str


@dataclass(frozen=True)
class Documented:
    tag: str
    site: str
    category: str
    label: str
    model: str
    serial: str
    where: str
    """Where on site the document places it (kept in the equipment's note)."""
    pm_dates: tuple[str, ...] = ()
    """Preventive maintenance done on these days, as the documents record them."""
    pm_interval_months: int | None = None
    """For devices whose documents give no PM dates: a PM round at this interval (the category's usual one), on
    fixed days, so they are not counted as unmaintained for want of a document."""
    repairs: tuple[Repair, ...] = ()
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _d(tag: str, site: str, category: str, label: str, model: str, serial: str, where: str, source: str,
       **kw: object) -> Documented:
    return Documented(tag, site, category, label, model, serial, where, source=source, **kw)  # type: ignore[arg-type]


DOCUMENTED_EQUIPMENT: dict[str, Documented] = {e.tag: e for e in (
    _d("BME-DEF-0112", "lakeside", "Defibrillators", "Defibrillator", "Corvance D-500 manual defibrillator",
       "CD5-20-004471", "Emergency Department, resuscitation bay 2", "maintenance/service-report-BME-DEF-0112.md",
       pm_dates=("2025-10-15",),
       repairs=(Repair("Battery low - replace (daily user test failed)", "2026-01-11 07:40:00",
                       "2026-01-12 10:10:00", "WO-2026-00573"),)),
    _d("BME-DEF-0140", "lakeside", "Defibrillators", "Defibrillator (library)", "Corvance D-500 manual defibrillator",
       "", "Equipment library", "maintenance/service-report-BME-DEF-0112.md", pm_interval_months=12),
    _d("BME-INF-0231", "north_campus", "Infusion pumps", "Infusion pump", "Medirion IP-7 volumetric infusion pump",
       "IP7-22-118734", "Ward 4B (Medical)", "maintenance/service-report-BME-INF-0231.pdf",
       pm_dates=("2025-08-19",),
       repairs=(Repair("Occlusion alarm not triggering (downstream pressure sensor)", "2026-02-03 14:50:00",
                       "2026-02-06 11:30:00", "WO-2026-01187"),)),
    _d("BME-INF-0388", "north_campus", "Infusion pumps", "Infusion pump (library)",
       "Medirion IP-7 volumetric infusion pump", "", "Equipment library",
       "incidents/INC-2026-0142-infusion-pump-occlusion.md", pm_interval_months=6),
    _d("BME-INF-0198", "north_campus", "Infusion pumps", "Infusion pump", "Medirion IP-7 volumetric infusion pump",
       "IP7-21-107522", "North Campus wards", "maintenance/infusion-pump-pm-log-2025-q4.html",
       pm_dates=("2025-10-07",)),
    _d("BME-INF-0207", "north_campus", "Infusion pumps", "Infusion pump", "Medirion IP-7 volumetric infusion pump",
       "IP7-21-107889", "North Campus wards", "maintenance/infusion-pump-pm-log-2025-q4.html",
       pm_dates=("2025-10-21",)),
    _d("BME-INF-0244", "north_campus", "Infusion pumps", "Infusion pump", "Medirion IP-7 volumetric infusion pump",
       "IP7-22-119002", "North Campus wards", "maintenance/infusion-pump-pm-log-2025-q4.html",
       pm_dates=("2025-11-04",)),
    _d("BME-INF-0263", "north_campus", "Infusion pumps", "Infusion pump", "Medirion IP-7 volumetric infusion pump",
       "IP7-22-119517", "Day surgery (found 2026-01-08; PM overdue)", "maintenance/infusion-pump-pm-log-2025-q4.html"),
    _d("BME-INF-0271", "north_campus", "Infusion pumps", "Infusion pump", "Medirion IP-7 volumetric infusion pump",
       "IP7-22-119640", "On loan to Lakeside without a loan ticket (PM overdue)",
       "maintenance/infusion-pump-pm-log-2025-q4.html"),
    _d("BME-SYR-0061", "north_campus", "Infusion pumps", "Syringe pump", "Medirion SP-3 syringe pump",
       "SP3-20-044120", "North Campus wards", "maintenance/infusion-pump-pm-log-2025-q4.html",
       pm_dates=("2025-11-18",)),
    _d("BME-PCA-0015", "north_campus", "Infusion pumps", "PCA pump", "Calvera PCA-2 patient-controlled analgesia pump",
       "PCA2-23-00871", "North Campus wards", "maintenance/infusion-pump-pm-log-2025-q4.html",
       pm_dates=("2025-12-02",)),
    _d("BME-FRG-0021", "north_campus", "Cold chain", "Blood bank refrigerator",
       "Thermaguard BBR-700 blood bank refrigerator", "TGB7-18-02276", "Blood bank, unit 1",
       "maintenance/service-report-BME-FRG-0021.md", pm_interval_months=12,
       repairs=(Repair("Compressor failure (high-temperature alarm)", "2025-12-17 02:14:00", "2025-12-19 11:10:00",
                       "WO-2025-12215"),)),
    _d("BME-FRG-0022", "north_campus", "Cold chain", "Blood bank refrigerator (backup)",
       "Thermaguard BBR-700 blood bank refrigerator", "", "Blood bank, backup unit",
       "maintenance/service-report-BME-FRG-0021.md", pm_interval_months=12),
    _d("BME-FRG-0107", "harbor_view_clinic", "Cold chain", "Vaccine refrigerator", "Vaccine refrigerator", "",
       "Harbor View Clinic vaccine store",
       "incidents/INC-2026-0163-vaccine-fridge-excursion-harbor-view.pdf", pm_interval_months=12),
    _d("BME-STR-0150", "north_campus", "Patient transport", "Transport stretcher",
       "Transcare TS-300 transport stretcher", "TS3-19-07781", "Patient Transport Service pool",
       "maintenance/service-report-BME-STR-0150.pdf",
       pm_dates=("2025-03-11",),
       repairs=(Repair("Brake failure (caster 4 released under side load)", "2026-02-10 16:20:00",
                       "2026-02-13 16:20:00", "WO-2026-01422"),)),
    _d("BME-VEN-0047", "south_campus", "Ventilators", "Ventilator", "Aeris V800 ICU ventilator", "AV8-19-30412",
       "ICU, bed 6", "maintenance/pm-report-BME-VEN-0047.html", pm_dates=("2025-07-22", "2026-01-22")),
    _d("BME-AUT-0003", "south_campus", "Sterilisers", "Autoclave", "Steriforce SF-660 pre-vacuum steam sterilizer",
       "SF660-17-0921", "Sterile Processing Department, chamber 2", "maintenance/service-report-BME-AUT-0003.pdf",
       repairs=(Repair("Vacuum pump failure", "2025-12-02 06:15:00", "2025-12-03 20:15:00", "WO-2025-11902"),)),
    _d("LAB-CHM-0009", "diagnostic_lab", "Laboratory analysers", "Chemistry analyser",
       "Helix CX-900 chemistry analyser", "CX9-21-55017", "Core lab bench 3 (Millbrook)",
       "maintenance/service-report-LAB-CHM-0009.html", pm_interval_months=6,
       repairs=(Repair("Module B down", "2026-01-07 22:10:00", "2026-01-08 12:40:00", "WO-2026-00311"),)),
    _d("FAC-GEN-0003", "south_campus", "Facilities", "Emergency generator", "1,250 kW diesel generator (GEN-S1)",
       "KPS-1250-88213", "GEN-S1", "maintenance/generator-test-log-south-campus-2025.txt"),
    _d("FAC-GEN-0004", "south_campus", "Facilities", "Emergency generator", "800 kW diesel generator (GEN-S2)",
       "KPS-800-90417", "GEN-S2", "maintenance/generator-test-log-south-campus-2025.txt", pm_interval_months=1),
)}

CONTRACTED_SUPPLIERS = (
    "Apex Biomedical Services",
    "ColdLink Courier",
    "Precision Instrument Repair",
    "Bluegate IT Solutions",
    "Helix Diagnostics Supply",
    "CleanWave Linen Services",
    "Northstar Medical Gases",
    "GreenPath Medical Waste",
    "Crestline Medical Supply",
    "Meridian Pharma Distribution",
    "Keystone Power & Fire Services",
)
"""Every supplier the contracts name (each contract's title ends with it)."""
