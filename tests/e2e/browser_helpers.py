"""Page actions shared by the browser tests."""

from __future__ import annotations

from typing import Any


def sign_in(page: Any, user: str, *, expect: str) -> None:
    """Sign in through the page as a demo user (their button), landing on ``expect``."""
    page.goto("/signin")
    page.locator(f'button[data-user="{user}"]').click()
    page.wait_for_url(f"**{expect}*")
