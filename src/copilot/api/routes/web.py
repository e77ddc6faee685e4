"""The browser pages: sign-in, a page imitating the Odoo backend with the widget embedded, compliance review,
the helpdesk triage queue, the executive KPI dashboard.

Pages and ``/static`` are public (they hold no data and no credentials); everything they show comes from
``/v1`` with the signed-in user's short-lived session token.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC_DIR = Path(__file__).resolve().parents[2] / "web" / "static"

router = APIRouter(include_in_schema=False)

_PAGES = {"signin": "signin.html", "odoo": "odoo.html", "review": "review.html", "triage": "triage.html",
          "executive": "executive.html"}


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/signin")


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / _PAGES[name], media_type="text/html",
                        headers={"Cache-Control": "no-store"})


@router.get("/signin")
def signin() -> FileResponse:
    return _page("signin")


@router.get("/odoo")
def odoo_page() -> FileResponse:
    return _page("odoo")


@router.get("/review")
def review() -> FileResponse:
    return _page("review")


@router.get("/triage")
def triage() -> FileResponse:
    return _page("triage")


@router.get("/executive")
def executive() -> FileResponse:
    return _page("executive")
