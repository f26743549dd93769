"""The wheel's package data: the folders that live at the top of the repository (where they
are edited) are copied into the package, under pipeline/_data/, when a wheel (or a regular,
non-editable install) is built. `pipeline/package_data.py` finds them there through
importlib.resources, and in the checkout for an editable install.

Everything else about the build is in pyproject.toml."""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# name under pipeline/_data/ -> folder in the repository (pipeline/package_data.py: FOLDERS)
DATA = {"templates": "templates", "migrations": "db/migrations", "demo_sites": "demo/sites",
        "demo_sources": "sources"}
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite*")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the folders in the checkout
        for name, source in DATA.items():
            target = Path(self.build_lib) / "pipeline" / "_data" / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(HERE / source, target, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithData})
