"""Healthcare-operations KPIs from Odoo: the pack as data (:mod:`.pack`, ``pack.yaml``), the engine that computes
it per month and site (:mod:`.engine`), and the cached, site-scoped service the ``kpi_query`` tool uses
(:mod:`.service`)."""
