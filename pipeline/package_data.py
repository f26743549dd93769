"""Where the package's data folders are: the Jinja2 templates, the Alembic migrations, the
demo's sample sites and their partner registry.

In the repository they stay at the top level (`templates/`, `db/migrations/`, `demo/sites/`,
`sources/`), where people edit them; a wheel carries them inside the package, under
`pipeline/_data/<name>/` (setup.py's build step copies them there). `folder(name)` finds them
through the package with importlib.resources, and falls back to the source checkout for an
editable install, so the same code works in both.

Imports nothing from the rest of the package (the store and the publisher use it).
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# name inside the package -> folder in the source checkout (relative to its root)
FOLDERS = {
    "templates": "templates",
    "migrations": "db/migrations",
    "demo_sites": "demo/sites",
    "demo_sources": "sources",
}
CHECKOUT = Path(__file__).resolve().parents[1]


def folder(name: str) -> Path:
    """A data folder as a real directory: inside the installed package when the wheel put it
    there, else in the source checkout. Raises FileNotFoundError when neither has it."""
    if name not in FOLDERS:
        raise KeyError(f"no package data folder {name!r}; known: {', '.join(FOLDERS)}")
    packaged = files(__package__ or "pipeline").joinpath("_data", name)
    if packaged.is_dir():
        # A wheel installed on a file system: importlib.resources gives a pathlib.Path.
        # (Alembic and Jinja2's FileSystemLoader need a real directory, not a zip member.)
        return Path(str(packaged))
    checkout = CHECKOUT / FOLDERS[name]
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the package data folder {name!r} is missing: neither {packaged} nor {checkout} "
                            "exists (a broken install?)")
