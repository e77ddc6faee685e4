"""The double's models against ``fields_get`` recorded from real Odoo 17 and 19 servers.

Every field the double serves (demo network included) on a model the recordings cover must exist on the real
server with the same type and relation — else code tested against the double asks a real server for a field it
does not have ("Invalid field") or reads the wrong shape. Known deviations are listed with their reason; a new
one fails this test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.demo.network import build_demo_network
from copilot.odoo_double import Database

pytestmark = pytest.mark.unit

# (model, field) -> why the double differs from the recorded server
KNOWN_DEVIATIONS: dict[tuple[str, str], str] = {
    ("ir.attachment", "res_id"): "many2one_reference served as an integer: the same value on the wire",
    ("ir.model.data", "res_id"): "many2one_reference served as an integer: the same value on the wire",
    ("product.product", "use_expiration_date"): "product_expiry, not installed on the recorded servers",
    ("stock.lot", "expiration_date"): "product_expiry, not installed on the recorded servers",
    ("stock.lot", "use_date"): "product_expiry, not installed on the recorded servers",
    ("stock.lot", "removal_date"): "product_expiry, not installed on the recorded servers",
    ("stock.lot", "alert_date"): "product_expiry, not installed on the recorded servers",
    ("purchase.order.line", "product_uom"): "unit as text: the double has no uom.uom (17 name)",
    ("purchase.order.line", "product_uom_id"): "unit as text: the double has no uom.uom (19 name)",
    ("res.users", "lang"): "a selection served as free text (same values on the wire)",
    ("res.users", "tz"): "a selection served as free text (same values on the wire)",
}


@pytest.mark.parametrize("version", ["17.0", "19.0"])
def test_double_fields_match_the_real_server(version: str, odoo_recordings: Path) -> None:
    path = odoo_recordings / f"odoo{version[:2]}" / "fields_get.json"
    real = json.loads(path.read_text(encoding="utf-8"))
    db = Database(version=version)
    build_demo_network(db, tickets=10)
    drift = []
    for model, spec in sorted(db.models.items()):
        if model not in real:
            continue  # Enterprise or custom models: the recordings have Community modules only
        for name, field in spec.fields.items():
            if (model, name) in KNOWN_DEVIATIONS:
                continue
            got = real[model].get(name)
            if got is None:
                drift.append(f"{model}.{name}: not on the real server")
            elif got.get("type") != field.type or (got.get("relation") or None) != (field.relation or None):
                drift.append(f"{model}.{name}: {field.type} {field.relation} vs real {got.get('type')} "
                             f"{got.get('relation')}")
    assert drift == []
