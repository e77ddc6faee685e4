"""odoo."""
