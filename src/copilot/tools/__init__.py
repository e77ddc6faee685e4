"""Governed tools: one module per tool, each declared with :func:`copilot.tools.base.tool` and reachable only
through :class:`copilot.governance.executor.GovernedExecutor`."""
