"""Odoo integration: one client over JSON-RPC (odoorpc) and JSON-2 (httpx), typed errors, readers and
:class:`~copilot.odoo.source.OdooSource` for ingestion, and the protocol double under ``double/``.

Import the submodules you need (``copilot.odoo.client``, ``copilot.odoo.source``...); this package
imports nothing.
"""
