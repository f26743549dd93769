"""Files and folders written for people (digest pages, `archive.json`, `feed.atom`, exports,
snapshots): whole or not at all.

- `atomic_write` / `atomic_output`: the bytes go to a new file beside the target, are
  fsynced, then renamed over it (and the folder fsynced), so a reader, a crash or a full disk
  never sees a torn or empty file: the old one stays until the new one is whole. A link planted
  where the file goes is replaced, never written through. A new file gets the usual mode
  (0666 less the umask), a replaced one keeps its mode.
- `write_folder`: a folder of files (a snapshot) built beside its destination and renamed
  into place: into a new or empty folder, or (`replace=True`) swapped atomically with an
  earlier one that `is_ours` recognises. A non-empty folder is never mixed into.
- Every `OSError` becomes an `OutputError` that says what could not be written and why
  (a full disk, no permission, a read-only file system), and nothing is left behind.

Must not: know what it writes (the publisher and the dataset module decide that).
"""
from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Mapping

from .errors import OutputError

_HINTS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
          errno.EFBIG: "the file is over the size this process may write",
          errno.EACCES: "no permission", errno.EPERM: "not permitted", errno.EROFS: "the file system is read-only"}


def output_error(e: OSError, path: Path | str, what: str = "write") -> OutputError:
    reason = e.strerror or str(e)
    hint = _HINTS.get(e.errno)
    return OutputError(f"cannot {what} {path}: {reason}" + (f" ({hint})" if hint and hint.lower() != reason.lower()
                                                            else ""), str(path))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a folder; the rename is still atomic
        pass
    finally:
        os.close(fd)


def _temp_name(path: Path, suffix: str) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.{suffix}")


def _open_new(path: Path, mode: int = 0o666) -> int:
    """A new file (never an existing one, never through a link), 0666 less the umask."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                   | getattr(os, "O_CLOEXEC", 0), mode)


@contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A binary file object whose bytes replace `path` only when the block ends without an
    error. A target that exists and is not a regular file (a FIFO, /dev/stdout) is written
    in place: there is nothing to replace atomically."""
    path = Path(path)
    try:
        st = os.stat(path)  # follows a link: is there a regular file behind it?
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise output_error(e, path) from e
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {path}: it is a folder", str(path))
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            with open(path, "wb") as f:
                yield f
        except OSError as e:
            raise output_error(e, path) from e
        return
    tmp = _temp_name(path, "tmp")
    try:
        fd = _open_new(tmp)
    except OSError as e:
        raise output_error(e, path) from e
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            keep = os.lstat(path)
            if stat.S_ISREG(keep.st_mode):
                os.chmod(tmp, stat.S_IMODE(keep.st_mode))
        except FileNotFoundError:
            pass
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise output_error(e, path) from e
        raise


def atomic_write(path: Path, data: bytes | str) -> Path:
    """Replace `path` with `data` (text is written as UTF-8), whole or not at all."""
    with atomic_output(path) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def make_folder(folder: Path) -> None:
    """`folder` and its parents, or an `OutputError` saying why not."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:
        raise OutputError(f"cannot write into {folder}: it is a file, not a folder", str(folder)) from e
    except OSError as e:
        raise output_error(e, folder, "create the folder") from e


def write_folder(folder: Path, files: Mapping[str, bytes], *, replace: bool = False,
                 is_ours: Callable[[Path], bool] = lambda _: False) -> Path:
    """Put `files` (name -> bytes, plain names only) into `folder` as one step: built in a new
    folder beside it, then renamed into place. `folder` must not exist or be empty; with
    `replace`, a folder that `is_ours` recognises is swapped for the new one atomically and
    then removed."""
    folder = Path(folder)
    if any(not name or "/" in name or name in (".", "..") for name in files):
        raise ValueError(f"plain file names only: {sorted(files)}")
    if folder.is_symlink():
        raise OutputError(f"{folder} is a symbolic link: give the folder itself", str(folder))
    existing = folder.exists()
    if existing and not folder.is_dir():
        raise OutputError(f"cannot write into {folder}: it is a file, not a folder", str(folder))
    try:
        occupied = existing and any(os.scandir(folder))
    except OSError as e:
        raise output_error(e, folder, "read") from e
    if occupied and not replace:
        raise OutputError(f"{folder} is not empty: give a new or empty folder (or --replace to replace an "
                          "earlier snapshot there)", str(folder))
    if occupied and not is_ours(folder):
        raise OutputError(f"{folder} does not hold an earlier snapshot (no manifest.json): not replacing it",
                          str(folder))
    make_folder(folder.parent)
    tmp = _temp_name(folder, "new")
    try:
        os.mkdir(tmp, 0o777)
    except OSError as e:
        raise output_error(e, folder, "create a folder beside") from e
    try:
        for name, data in files.items():
            fd = _open_new(tmp / name)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        _fsync_dir(tmp)
        if occupied:
            _exchange(tmp, folder)  # tmp now holds the earlier snapshot
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.rename(tmp, folder)  # onto a missing or empty folder: atomic
        _fsync_dir(folder.parent)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise OutputError(f"{folder} is not empty any more (something wrote into it meanwhile): "
                              "nothing was changed there", str(folder)) from e
        raise output_error(e, folder) from e
    return folder


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> None:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); elsewhere, two renames
    (a crash between them leaves both folders beside each other, nothing lost)."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is not None:
        if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(err, os.strerror(err), str(b))
    old = _temp_name(b, "old")
    os.rename(b, old)
    os.rename(a, b)
    os.rename(old, a)
