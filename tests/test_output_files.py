"""Issue 17, finding 7: files written for people are whole or not there.

On a real SQLite database (tests/research_data.py: two weeks of partner content) and real
folders: a torn `archive.json` is rebuilt from the database instead of dropping earlier
weeks (and `digest --rebuild-archive` rebuilds it on request); a full disk (a real 1 MiB
tmpfs, mounted in a private mount namespace with `unshare`) and a read-only file system give
a clear message and exit 1, never a traceback, an empty file or a torn one, and leave the
earlier files as they were; `snapshot` goes only into a new or empty folder (or replaces an
earlier snapshot whole with --replace) and never writes through a link planted there; a
link planted where a digest page goes is replaced, not followed; the `.eml` is kept when
the SMTP server cannot be reached."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner

import research_data as rd
from pipeline.cli import cli

ATOM = "{http://www.w3.org/2005/Atom}"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def research_db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("db") / "research.sqlite"
    rd.build(f"sqlite:///{path}").close()
    return str(path)


def digest(db: str, out: Path, week: str, *extra: str):
    return CliRunner().invoke(cli, ["digest", "--db", db, "--out", str(out), "--week", week, *extra])


def feed_weeks(out: Path) -> list[str]:
    import xml.etree.ElementTree as ET
    root = ET.parse(out / "feed.atom").getroot()
    return [e.find(f"{ATOM}title").text.rsplit(" ", 1)[1] for e in root.findall(f"{ATOM}entry")]


# --- the archive ------------------------------------------------------------------------------

def test_a_torn_archive_is_rebuilt_from_the_database_not_shortened(tmp_path, research_db):
    out = tmp_path / "digest"
    for week in ("2026-W46", "2026-W47", "2026-W48"):
        assert digest(research_db, out, week).exit_code == 0
    before = json.loads((out / "archive.json").read_text())["weeks"]
    assert feed_weeks(out) == ["2026-W48", "2026-W47", "2026-W46"]
    raw = (out / "archive.json").read_bytes()
    (out / "archive.json").write_bytes(raw[: len(raw) // 2])  # torn, as an interrupted write left it

    result = digest(research_db, out, "2026-W49")
    assert result.exit_code == 0, result.output
    assert "rebuilt 3 week(s) of the archive from the database" in result.stderr
    assert feed_weeks(out) == ["2026-W49", "2026-W48", "2026-W47", "2026-W46"]
    after = json.loads((out / "archive.json").read_text())["weeks"]
    for week, entry in before.items():  # what each week said is rebuilt exactly; only its date is the page's
        assert {k: v for k, v in after[week].items() if k != "updated"} == \
            {k: v for k, v in entry.items() if k != "updated"}, week

    # asked for: every entry rebuilt from the database, even when archive.json is fine or gone
    (out / "archive.json").unlink()
    result = digest(research_db, out, "2026-W49", "--rebuild-archive")
    assert result.exit_code == 0, result.output
    assert "rebuilt 3 week(s)" in result.stderr
    assert feed_weeks(out) == ["2026-W49", "2026-W48", "2026-W47", "2026-W46"]


def test_a_link_planted_where_a_page_goes_is_replaced_not_written_through(tmp_path, research_db):
    out = tmp_path / "digest"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for name in ("digest-2026-W47.html", "archive.json", "feed.atom"):
        (out / name).symlink_to(victim)
    assert digest(research_db, out, "2026-W47").exit_code == 0
    assert victim.read_text() == "keep me"
    assert all((out / name).is_file() and not (out / name).is_symlink()
               for name in ("digest-2026-W47.html", "archive.json", "feed.atom"))


# --- snapshots --------------------------------------------------------------------------------

def test_snapshot_goes_into_a_new_or_empty_folder_and_never_follows_planted_links(tmp_path, research_db):
    pytest.importorskip("pyarrow")
    runner = CliRunner()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "stale.csv").write_text("old")
    (snap / "mentions.csv").symlink_to(victim)
    result = runner.invoke(cli, ["snapshot", str(snap), "--db", research_db])
    assert result.exit_code == 1 and "not empty" in result.output
    assert sorted(p.name for p in snap.iterdir()) == ["mentions.csv", "stale.csv"] and victim.read_text() == "keep me"
    # --replace refuses a folder that does not hold a snapshot
    result = runner.invoke(cli, ["snapshot", str(snap), "--db", research_db, "--replace"])
    assert result.exit_code == 1 and "does not hold an earlier snapshot" in result.output

    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(cli, ["snapshot", str(empty), "--db", research_db]).exit_code == 0
    reference = {p.name: p.read_bytes() for p in empty.iterdir()}
    assert "manifest.json" in reference

    # an earlier snapshot, tampered with: --replace swaps it whole for a fresh one
    (snap / "manifest.json").write_text("{}")
    result = runner.invoke(cli, ["snapshot", str(snap), "--db", research_db, "--replace"])
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in snap.iterdir()} == reference  # no stale file, no link
    assert victim.read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing left beside it

    # a path that cannot be a folder: a clear error, not a traceback
    result = runner.invoke(cli, ["snapshot", str(victim / "sub"), "--db", research_db])
    assert result.exit_code == 1 and "cannot" in result.output and victim.read_text() == "keep me"
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- full disk, read-only file system ----------------------------------------------------------------

def _unshare_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=64k tmpfs "
                            "\"$TMPDIR\""], capture_output=True, env={**os.environ, "TMPDIR": "/tmp"})
    return probe.returncode == 0


def in_private_tmpfs(script: str, mount: Path, options: str) -> subprocess.CompletedProcess:
    """Run `script` (sh) with a tmpfs mounted on `mount` in a private mount namespace: a real
    small disk that vanishes with the process, no privileges needed outside it."""
    if not _unshare_available():
        pytest.skip("unshare cannot mount a private tmpfs here (user namespaces disabled)")
    mount.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-ec",
                           f"mount -t tmpfs -o {options} tmpfs '{mount}'\n{script}"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()} if folder.exists() else {}


def test_a_full_disk_leaves_the_earlier_files_whole_and_says_so(tmp_path, research_db):
    pytest.importorskip("pyarrow")
    disk, before, after = tmp_path / "disk", tmp_path / "before", tmp_path / "after"
    py = f"'{sys.executable}' -m pipeline.cli"
    script = f"""
{py} digest --db '{research_db}' --out '{disk}/digest' --week 2026-W47 >/dev/null
{py} export mentions --db '{research_db}' --format csv -o '{disk}/mentions.csv'
mkdir -p '{before}' && cp -a '{disk}/.' '{before}/'
dd if=/dev/zero of='{disk}/filler' bs=4k 2>/dev/null || true
set +e
{py} digest --db '{research_db}' --out '{disk}/digest' --week 2026-W47 >'{tmp_path}/digest.out' 2>'{tmp_path}/digest.err'
echo $? >'{tmp_path}/digest.code'
{py} export mentions --db '{research_db}' --format csv -o '{disk}/mentions.csv' 2>'{tmp_path}/export.err'
echo $? >'{tmp_path}/export.code'
{py} export claims --db '{research_db}' --format csv >'{disk}/claims.csv' 2>'{tmp_path}/stdout.err'
echo $? >'{tmp_path}/stdout.code'
{py} snapshot '{disk}/snap' --db '{research_db}' 2>'{tmp_path}/snapshot.err'
echo $? >'{tmp_path}/snapshot.code'
rm -f '{disk}/filler' '{disk}/claims.csv'
mkdir -p '{after}' && cp -a '{disk}/.' '{after}/'
"""
    proc = in_private_tmpfs(script, disk, "size=1m")
    assert proc.returncode == 0, proc.stderr
    for step in ("digest", "export", "stdout", "snapshot"):
        code = (tmp_path / f"{step}.code").read_text().strip()
        err = (tmp_path / f"{step}.err").read_text()
        assert code == "1", (step, code, err)
        assert "No space left on device" in err and "Traceback" not in err, (step, err)
    assert _files(before / "digest") and _files(after / "digest") == _files(before / "digest")
    assert _files(after) == _files(before)  # mentions.csv as it was
    assert not (after / "snap").exists()
    assert not [p for p in after.rglob(".*")]  # no temporary file or folder left behind


def test_a_read_only_folder_gives_a_clear_error(tmp_path, research_db):
    disk = tmp_path / "ro"
    py = f"'{sys.executable}' -m pipeline.cli"
    script = f"""set +e
{py} digest --db '{research_db}' --out '{disk}' --week 2026-W47 2>'{tmp_path}/err'
echo $? >'{tmp_path}/code'
"""
    proc = in_private_tmpfs(script, disk, "ro,size=64k")
    assert proc.returncode == 0, proc.stderr
    err = (tmp_path / "err").read_text()
    assert (tmp_path / "code").read_text().strip() == "1" and "Read-only file system" in err, err
    assert "Traceback" not in err


# --- email ------------------------------------------------------------------------------------

def test_the_eml_is_kept_when_sending_fails(tmp_path, research_db):
    with socket.socket() as s:  # a port nothing listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "digest"
    result = digest(research_db, out, "2026-W47", "--email-to", "ed@example.org", "--smtp", f"smtp://127.0.0.1:{port}")
    assert result.exit_code == 1
    eml = out / "digest-2026-W47.eml"
    assert f"kept in {eml}" in result.output
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "ed@example.org" and "Walking" in msg.get_body(("plain",)).get_content()


def test_atomic_output_keeps_the_old_file_and_its_mode_until_the_new_one_is_whole(tmp_path):
    from pipeline.outfiles import atomic_output, atomic_write
    path = tmp_path / "page.html"
    path.write_text("old")
    os.chmod(path, 0o640)
    with pytest.raises(RuntimeError):
        with atomic_output(path) as f:
            f.write(b"half a pa")
            raise RuntimeError("the renderer failed")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
    atomic_write(path, "new")
    assert path.read_text() == "new" and (path.stat().st_mode & 0o777) == 0o640
    fresh = atomic_write(tmp_path / "fresh.txt", b"x")
    assert (fresh.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
