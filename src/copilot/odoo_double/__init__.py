"""An Odoo protocol double: a loopback HTTP server speaking JSON-RPC and JSON-2 over a SQLite-backed ORM.

Part of the product (the demo serves the hospital network from it), not only of the tests. See
``docs/odoo-double.md`` for what it replicates and what it does not.
"""

from copilot.odoo_double.server import OdooDouble, Stats
from copilot.odoo_double.store import SUPERUSER_ID, Database, Env

__all__ = ["SUPERUSER_ID", "Database", "Env", "OdooDouble", "Stats"]
