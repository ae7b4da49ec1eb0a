"""The page at `/`: plain HTML, CSS and JavaScript shipped as package data (no build step).

It reads /info, /model/registry and /model/cache, and sends the chosen image to /infer/{task}
with `visualize_predictions`; the files live in `inference_server/page/`.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

#: the only files served under /_page/ (a fixed list: no path from the request reaches the disk).
PAGE_FILES = {"page.js": "text/javascript; charset=utf-8", "page.css": "text/css; charset=utf-8"}


def _read(name: str) -> str:
    return resources.files("inference_server").joinpath("page", name).read_text(encoding="utf-8")


@router.get("/")
def index() -> HTMLResponse:
    return HTMLResponse(_read("index.html"))


@router.get("/_page/{name}")
def page_file(name: str) -> Response:
    if name not in PAGE_FILES:
        raise HTTPException(404, f"No page file {name!r}.")
    return Response(_read(name), media_type=PAGE_FILES[name])
