"""A regular (not editable) install works outside the repository: a wheel is built from a
copy of the project, installed into a fresh virtualenv, and `syndicate demo` runs from
another folder, finding its templates, migrations, sample sites and registry inside the
installed package (pipeline/_data/, put there by setup.py).

The fresh virtualenv gets the project's dependencies from this test run's own environment
(a path line in a .pth file: no download, and the editable install of the checkout is not
seen, since .pth files on that path are not run). Slow: it builds a wheel and runs the
whole demo (the sentence model included)."""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "setup.py", "README.md", "pipeline", "templates", "db", "demo", "sources")

pytestmark = pytest.mark.slow


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built with this environment's setuptools from a copy of the project (the
    build writes build/ and *.egg-info beside its sources, which must not be the checkout)."""
    src = tmp_path_factory.mktemp("src")
    for name in PROJECT_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite*"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(out), str(src)])
    (built,) = out.glob("syndicate-*.whl")
    return built


def test_the_wheel_carries_the_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("pipeline/_data/templates/digest.html.j2", "pipeline/_data/migrations/env.py",
                     "pipeline/_data/demo_sites/robots.txt", "pipeline/_data/demo_sources/alderbrook.toml"):
        assert expected in names, expected
    assert any(n.startswith("pipeline/_data/migrations/versions/0001_") for n in names)
    assert not any(n.startswith(("templates/", "db/", "sources/", "demo/")) for n in names)  # nothing at the top


def test_installed_wheel_runs_the_demo_from_another_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                   .stdout.strip())
    # the dependencies, from this environment: its site-packages as a plain path (its own
    # .pth files, among them the checkout's editable install, are not run from there)
    ours = sorted({sysconfig.get_paths()["purelib"], *site.getsitepackages()})
    (purelib / "zz_test_dependencies.pth").write_text("\n".join(ours) + "\n")
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)])

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNDICATE_", "PYTHON"))}
    where = _run([str(python), "-c", "import pipeline, pipeline.package_data as d; "
                  "print(pipeline.__file__); print(d.folder('templates'))"], cwd=elsewhere, env=env).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # the installed copy, not the checkout

    result = _run([str(venv / "bin" / "syndicate"), "demo", "--out", "demo-out"], cwd=elsewhere, env=env)
    assert "merged claims:" in result.stdout and "merged claims: 0" not in result.stdout
    out = elsewhere / "demo-out"
    assert (out / "syndicate.sqlite").is_file() and list(out.glob("digest-*.html"))
    assert (out / "partners" / "alderbrook" / "index.html").is_file()
