"""A run directory as one zip: written from a Trainer, read back with every member checked.

The zip holds exactly the files :func:`gatviz.runs.save` writes (``config.json``,
``graph.json``, ``metrics.json``, ``attention.csv``, ``model.pt``,
``snapshots.pt``, ``input/edges.*``, ``input/nodes.*``), at its root or inside
one top folder (what ``zip -r run.zip run/`` makes).

A run zip comes from strangers (the app's "Open run", a file mailed to a
class), so reading one trusts nothing. From the zip's central directory,
before a byte is extracted: at most :data:`MAX_MEMBERS` members; only the
names above (so no absolute path, no ``..``, no backslash, no duplicates);
no symlink, device or encrypted member; every member's declared size
within :data:`MAX_BYTES` in total and its compression ratio under
:data:`MAX_RATIO`. Then each member is copied, with its size counted again
as it is decompressed, into a fresh temporary folder under a name gatviz
chooses (never the zip's), and :func:`gatviz.runs.load` does its own
checks (``weights_only=True``, the format version, graph and weights
agreeing). The folder is deleted once the run is in memory. Whatever is
wrong is one :class:`~gatviz.errors.GatvizError` naming the zip.
"""
from __future__ import annotations

import io
import re
import stat
import tempfile
import zipfile
from pathlib import Path

from .errors import GatvizError

MAX_MEMBERS = 64                 # a run has at most 8 files (+ folder entries, macOS extras)
MAX_BYTES = 2_000_000_000        # uncompressed total: attention.csv of the largest graphs
MAX_RATIO = 200                  # per member over RATIO_FROM bytes; deflate on real runs stays ~1-10
RATIO_FROM = 1_000_000
MAX_DIRECTORY = 1_000_000        # bytes of the zip's central directory (a run's is ~1 KB)
CHUNK = 1 << 20

FILES = ("config.json", "graph.json", "metrics.json", "attention.csv", "model.pt", "snapshots.pt")
INPUT = re.compile(r"input/(edges|nodes)\.[A-Za-z0-9]{1,10}")
# macOS Finder's "Compress" adds these; never extracted, never read
IGNORED = re.compile(r"(^|.*/)(__MACOSX/.*|\.DS_Store)$")


def save_zip(trainer, source=None, path: str | Path | None = None, *,
             edges: bytes | None = None, nodes: bytes | None = None) -> bytes:
    """The run directory :func:`save` writes, as the bytes of one zip (also written to ``path``).

    Args:
        source: where the graph came from; None for a built-in (``trainer.config.dataset``).
        edges, nodes: an uploaded graph's file bytes (the app holds bytes, not paths), stored
            as ``input/edges.csv`` / ``input/nodes.csv``; give these or ``source``, not both.
    """
    from . import graphs
    from .runs import GraphSource, save
    with tempfile.TemporaryDirectory(prefix="gatviz-save-") as tmp:
        if edges is not None:
            if source is not None:
                raise ValueError("give source or the uploaded bytes, not both")
            source = GraphSource(trainer.config.dataset, str(Path(tmp) / "edges.csv"))
            Path(source.edges).write_bytes(edges)
            if nodes is not None:
                source.nodes = str(Path(tmp) / "nodes.csv")
                Path(source.nodes).write_bytes(nodes)
        source = source or GraphSource(trainer.config.dataset)
        if source.edges is None and trainer.config.dataset not in graphs.BUILTINS:
            raise GatvizError(f"dataset {trainer.config.dataset!r} is no built-in: give its files (edges=, nodes=) "
                              f"to save the run")
        return write(save(Path(tmp) / "run", trainer, source), path)


def load_zip_bytes(data: bytes, name: str = "the uploaded run"):
    """:func:`gatviz.runs.load` for the bytes of a run zip (the app's "Open run" upload).

    ``name`` is how messages call it (e.g. the uploaded file's name).
    """
    return load(bytes(data), name)


def pack(run_dir: str | Path, path: str | Path | None = None) -> bytes:
    """An existing run directory as run-zip bytes, checked first by loading it."""
    from . import runs
    runs.load(run_dir)
    if Path(run_dir).is_file():    # already a run zip
        data = Path(run_dir).read_bytes()
        return data if path is None else write_bytes(data, path)
    return write(Path(run_dir), path)


def write(run_dir: Path, target: str | Path | None = None) -> bytes:
    """The files of a saved run directory as zip bytes (also written to ``target`` if given).

    Only the run's own file names go in (see FILES, INPUT), in a fixed order, deflated.
    """
    run = Path(run_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for name in FILES:
            if (run / name).is_file():
                out.write(run / name, name)
        if (run / "input").is_dir():
            for path in sorted((run / "input").iterdir()):
                name = f"input/{path.name}"
                if path.is_file() and INPUT.fullmatch(name):
                    out.write(path, name)
    data = buffer.getvalue()
    return data if target is None else write_bytes(data, target)


def write_bytes(data: bytes, target: str | Path) -> bytes:
    """Write ``data`` to ``target``; a failure is one line naming the file."""
    try:
        Path(target).write_bytes(data)
    except OSError as exc:
        raise GatvizError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from None
    return data


def load(source: str | Path | bytes, name: str | None = None):
    """A Trainer from a run zip: a path, or the bytes of an upload.

    Args:
        source: path of a ``.zip`` file, or its bytes.
        name: how messages call the zip (default: the path, or "the uploaded run").

    Raises:
        GatvizError: one line, naming the zip, for anything wrong with it.
    """
    from . import runs
    label = name or (str(source) if not isinstance(source, (bytes, bytearray)) else "the uploaded run")
    if isinstance(source, (bytes, bytearray)):
        handle = io.BytesIO(source)
    else:
        try:
            handle = open(source, "rb")
        except OSError as exc:
            raise GatvizError(f"cannot read {label!r}: {exc.strerror or exc}") from None
    with handle, tempfile.TemporaryDirectory(prefix="gatviz-run-") as tmp:
        folder = Path(tmp) / "run"
        folder.mkdir()
        _extract(handle, folder, label)
        try:
            return runs.load(folder)
        except GatvizError as exc:   # name the zip, not the temporary folder that is about to go
            raise GatvizError(str(exc).replace(str(folder), label)) from None


def _bad(label: str, what: str) -> GatvizError:
    return GatvizError(f"{label!r} is not a gatviz run zip: {what}")


def _open(handle, label: str) -> zipfile.ZipFile:
    try:
        # the end record's member count first: ZipFile would build an object per member, and a
        # small file can declare millions of them
        end = zipfile._EndRecData(handle)
        if end and end[zipfile._ECD_ENTRIES_TOTAL] > MAX_MEMBERS:
            count = end[zipfile._ECD_ENTRIES_TOTAL]
            raise _bad(label, f"it has {count:,} members; a run has at most {MAX_MEMBERS}")
        if end and end[zipfile._ECD_SIZE] > MAX_DIRECTORY:     # a count that lies, or huge names
            raise _bad(label, f"its directory takes {end[zipfile._ECD_SIZE]:,} bytes; a run's takes a few thousand")
        handle.seek(0)
        return zipfile.ZipFile(handle)
    except zipfile.BadZipFile:
        raise _bad(label, "not a zip file, or a truncated one") from None
    except GatvizError:
        raise
    except Exception as exc:   # a damaged directory: zipfile raises NotImplementedError, IndexError, ...
        raise _bad(label, f"its directory cannot be read ({str(exc)[:80] or type(exc).__name__})") from None


def members(archive: zipfile.ZipFile, label: str) -> dict[str, zipfile.ZipInfo]:
    """The run's members by their name in a run directory, checked from the zip's directory only.

    Raises:
        GatvizError: too many members, an unexpected or unsafe name, a symlink or
            special file, an encrypted member, a size or ratio past the limits,
            no config.json.
    """
    infos = archive.infolist()
    if not infos:
        raise _bad(label, "the zip is empty")
    if len(infos) > MAX_MEMBERS:
        raise _bad(label, f"it has {len(infos):,} members; a run has at most {MAX_MEMBERS}")
    for info in infos:   # unsafe names first, whatever else the zip holds
        raw = info.filename
        if not raw:
            raise _bad(label, "a member has an empty name")
        if raw.startswith(("/", "\\")) or "\\" in raw or re.match(r"[A-Za-z]:", raw) or ".." in raw.split("/") \
                or "\x00" in raw:
            raise _bad(label, f"member {raw[:80]!r} has an unsafe path (absolute, '..' or backslash)")
    wanted = [i for i in infos if not i.is_dir() and not IGNORED.match(i.filename)]
    tops = {i.filename.split("/", 1)[0] for i in wanted if "/" in i.filename}
    # the run may sit in one top folder (``zip -r run.zip run/``)
    prefix = tops.pop() + "/" if len(tops) == 1 and tops != {"input"} and all("/" in i.filename
                                                                                for i in wanted) else ""
    found: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in wanted:
        name = info.filename[len(prefix):]
        if name not in FILES and not INPUT.fullmatch(name):
            raise _bad(label, f"unexpected member {info.filename[:80]!r} (a run holds only "
                              f"{', '.join(FILES)} and input/edges.*, input/nodes.*)")
        if name in found:
            raise _bad(label, f"member {info.filename[:80]!r} appears twice")
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind and kind != stat.S_IFREG:
            raise _bad(label, f"member {info.filename[:80]!r} is a symlink or special file, not a plain file")
        if info.flag_bits & 0x1:
            raise _bad(label, f"member {info.filename[:80]!r} is encrypted")
        total += info.file_size
        if total > MAX_BYTES:
            raise _bad(label, f"it would unpack to more than {MAX_BYTES:,} bytes (MAX_BYTES in gatviz/runzip.py)")
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _bad(label, f"member {info.filename[:80]!r} would unpack {info.file_size:,} bytes from "
                              f"{info.compress_size:,} (over {MAX_RATIO}x: a zip bomb?)")
        found[name] = info
    if "config.json" not in found:
        raise _bad(label, "it has no config.json")
    return found


def _extract(handle, folder: Path, label: str) -> None:
    """Copy the checked members into ``folder``, counting bytes against each declared size."""
    with _open(handle, label) as archive:
        checked = members(archive, label)
        for name, info in checked.items():
            target = folder / name           # a name from FILES/INPUT, never the zip's own path
            target.parent.mkdir(exist_ok=True)
            written = 0
            try:
                with archive.open(info) as src, open(target, "xb") as dst:
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > info.file_size:
                            raise _bad(label, f"member {info.filename[:80]!r} unpacks past its declared size")
                        dst.write(chunk)
            except GatvizError:
                raise
            except OSError as exc:   # the temporary folder: disk full, no permission
                raise GatvizError(f"cannot unpack {label!r} into a temporary folder: {exc.strerror or exc}") from None
            except Exception as exc:   # bad CRC, zlib.error, a negative seek, an unknown method, ...
                raise _bad(label, f"member {info.filename[:80]!r} is damaged or cannot be read "
                                  f"({str(exc)[:80] or type(exc).__name__})") from None
