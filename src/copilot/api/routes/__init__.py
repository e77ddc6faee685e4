"""Routers: thin — parse, authorise, delegate to the governed executor or the stores."""
