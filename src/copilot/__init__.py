"""Copilot: an AI knowledge and operations copilot for healthcare provider networks that run Odoo.

Nothing here loads a model, opens a database or reads the environment at import time; the object graph is
built by :func:`copilot.app.build_copilot` from a :class:`copilot.config.Settings`.
"""

__version__ = "0.1.0"
