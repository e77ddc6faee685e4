"""Helpdesk triage: calibrated ticket classification trained from Odoo history (:mod:`.model`), the text the
model reads (:mod:`.text`), confidence calibration and thresholds (:mod:`.calibration`)."""
