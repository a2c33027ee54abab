"""Saved runs in the app: "Download run" gives the zip the CLI's run directory would be;
"Open run" loads one (checked by ``gatviz.runzip``) and shows it without retraining."""
from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from gatviz import runzip


@dataclass(frozen=True)
class OpenedRun:
    """A run zip the user opened: the trainer rebuilt from it and its input files' bytes."""
    digest: str
    name: str
    trainer: object
    edges: bytes | None
    nodes: bytes | None


def open_zip(data: bytes, name: str) -> OpenedRun:
    """Load a run zip (GatvizError, one line, for anything wrong) and keep its input files."""
    trainer = runzip.load_zip_bytes(data, name)
    inputs = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:   # load_zip_bytes checked every member
        for member, info in runzip.members(archive, name).items():
            if member.startswith("input/"):
                inputs[member[len("input/"):].split(".")[0]] = archive.read(info)
    return OpenedRun(hashlib.sha256(data).hexdigest(), name, trainer, inputs.get("edges"), inputs.get("nodes"))


def download_bytes(applied, trainer, opened: OpenedRun | None = None) -> bytes:
    """The run zip of what the tab shows: built-in graph, uploaded files, or an opened run's inputs."""
    if applied.upload is not None:
        return runzip.save_zip(trainer, edges=applied.upload.edges, nodes=applied.upload.nodes)
    if applied.key[0] == "run" and opened is not None and opened.edges is not None:
        return runzip.save_zip(trainer, edges=opened.edges, nodes=opened.nodes)
    return runzip.save_zip(trainer)
