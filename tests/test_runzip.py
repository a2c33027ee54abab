"""Run zips: the CLI's run directory as one zip, read back with every member checked.

Hostile zips are built by hand (or by patching a good zip's central directory)
and each must give one GatvizError line naming the zip, run nothing and write
nothing outside the temporary folder, which is gone afterwards.
"""
import io
import json
import pickle
import struct
import tempfile
import zipfile
from pathlib import Path

import pytest
import torch

from gatviz import GatvizError, RunConfig, runs, runzip
from gatviz.cli import main
from gatviz.training import Trainer


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """A 6-epoch karate run written by the CLI, and the same run as a zip."""
    base = tmp_path_factory.mktemp("cli")
    assert main(["train", "--dataset", "karate", "--epochs", "6", "--heads", "2", "--device", "cpu",
                 "--out", str(base / "run")]) == 0
    runs.pack(base / "run", base / "run.zip")
    return base / "run", base / "run.zip"


@pytest.fixture(scope="module")
def good(cli_run):
    """The members of a good run zip, {name: bytes}, to rebuild variants from."""
    with zipfile.ZipFile(cli_run[1]) as z:
        return {name: z.read(name) for name in z.namelist()}


def make_zip(members: dict, **infos) -> bytes:
    """A zip of ``members`` ({name: bytes or (ZipInfo, bytes)})."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            if isinstance(data, tuple):
                z.writestr(*data)
            else:
                z.writestr(name, data)
    return buf.getvalue()


def leftovers() -> set:
    return set(Path(tempfile.gettempdir()).glob("gatviz-run-*"))


def refuse(data: bytes, match: str, tmp_path, monkeypatch) -> str:
    """Load ``data`` as a file and as bytes; both refuse with one line matching ``match``."""
    monkeypatch.chdir(tmp_path)
    before, files = leftovers(), set(tmp_path.rglob("*"))
    path = tmp_path / "hostile.zip"
    path.write_bytes(data)
    with pytest.raises(GatvizError, match=match) as err:
        runs.load("hostile.zip")
    message = str(err.value)
    with pytest.raises(GatvizError, match=match):
        runs.load_zip_bytes(data, "upload.zip")
    assert "\n" not in message and "gatviz-run-" not in message and "hostile.zip" in message
    assert leftovers() == before                           # the temporary folder is gone
    assert set(tmp_path.rglob("*")) == files | {path}     # nothing written beside the zip
    return message


def test_zip_has_exactly_the_run_directory_files(cli_run):
    run, zipped = cli_run
    with zipfile.ZipFile(zipped) as z:
        names = set(z.namelist())
        assert names == {p.name for p in run.iterdir()}
        for name in names:
            assert z.read(name) == (run / name).read_bytes()


def test_zip_round_trip_gives_identical_alpha(cli_run):
    run, zipped = cli_run
    a, b = runs.load(run), runs.load(zipped)
    for x, y in zip(a.attention().alpha, b.attention().alpha):
        assert torch.equal(x, y)
    assert b.epoch == 6 and b.history == a.history
    assert [s.epoch for s in b.snapshots] == [s.epoch for s in a.snapshots]
    again = runs.load_zip_bytes(runs.save_zip(b))           # a loaded run saves to the same alpha
    for x, y in zip(a.attention().alpha, again.attention().alpha):
        assert torch.equal(x, y)


def test_cli_explain_and_view_read_a_zip_as_the_directory(cli_run, tmp_path, capsys):
    run, zipped = cli_run
    outputs = []
    for source in (run, zipped):
        capsys.readouterr()
        assert main(["explain", str(source), "--node", "0", "--layer", "1", "--head", "1", "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] and outputs[0]["layer"] == 1 and outputs[0]["head"] == 1
    assert main(["view", str(zipped), "--node", "33", "--out", str(tmp_path / "v.html")]) == 0
    assert "gatvizRender" in (tmp_path / "v.html").read_text()


def test_train_out_zip_writes_a_run_zip(tmp_path, capsys):
    out = tmp_path / "r.zip"
    assert main(["train", "--dataset", "karate", "--epochs", "2", "--heads", "1", "--device", "cpu",
                 "--out", str(out)]) == 0
    assert not (tmp_path / "r").exists() and zipfile.is_zipfile(out)
    assert runs.load(out).epoch == 2


def test_uploaded_graph_bytes_round_trip_with_its_name(tmp_path):
    from gatviz.parse import parse_upload
    edges, nodes = b"a,b\nb,c\nc,a\nc,d\n", b"a,x\nb,x\nc,y\nd,y\n"
    graph = parse_upload(edges, nodes, name="friends")
    trainer = Trainer(graph, RunConfig(dataset="upload", epochs=2, heads=2, device="cpu"))
    trainer.step(2)
    data = runs.save_zip(trainer, edges=edges, nodes=nodes)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {"input/edges.csv", "input/nodes.csv"} <= set(z.namelist())
        assert z.read("input/edges.csv") == edges
    loaded = runs.load_zip_bytes(data)
    assert loaded.graph.name == "friends" and loaded.graph.names == ["a", "b", "c", "d"]
    for x, y in zip(trainer.attention().alpha, loaded.attention().alpha):
        assert torch.equal(x, y)
    with pytest.raises(GatvizError, match="is no built-in: give its files"):   # an upload without its files
        runs.save_zip(trainer)
    with pytest.raises(GatvizError, match=r"directed=True but the run's config says directed=False"):
        Trainer(parse_upload(edges, directed=True), RunConfig(dataset="upload"))   # it would load back undirected
    with pytest.raises(GatvizError, match=r"read with seed 0 but the run's config says seed 3"):
        Trainer(parse_upload(edges, nodes), RunConfig(dataset="upload", seed=3))   # it would load back another split
    assert Trainer(parse_upload(edges, nodes, seed=3), RunConfig(dataset="upload", seed=3)).config.seed == 3


def test_a_run_inside_one_top_folder_loads(good, tmp_path):
    path = tmp_path / "mine.zip"
    path.write_bytes(make_zip({f"myrun/{n}": d for n, d in good.items()} | {"__MACOSX/._x": b"junk"}))
    assert runs.load(path).epoch == 6


# ------------------------------------------------------------------ hostile and broken files
def test_dotdot_member_is_refused_and_never_written(good, tmp_path, monkeypatch):
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    data = make_zip(good | {"../evil": b"owned", "../../evil2": b"owned"})
    refuse(data, r"member '\.\./evil' has an unsafe path", deep, monkeypatch)
    assert not list(tmp_path.rglob("evil*")) and not (Path(tempfile.gettempdir()) / "evil").exists()


@pytest.mark.parametrize("name", ["/tmp/evil.txt", "C:/evil.txt", "input\\..\\..\\evil", "run/../config.json"])
def test_absolute_backslash_and_dotdot_paths_are_refused(good, name, tmp_path, monkeypatch):
    refuse(make_zip(good | {name: b"x"}), "unsafe path", tmp_path, monkeypatch)
    assert not Path("/tmp/evil.txt").exists()


def test_symlink_member_is_refused(good, tmp_path, monkeypatch):
    info = zipfile.ZipInfo("input/edges.csv")
    info.external_attr = (0o120777 << 16)                   # S_IFLNK: a link to /etc/passwd
    refuse(make_zip(good | {"input/edges.csv": (info, "/etc/passwd")}), "symlink", tmp_path, monkeypatch)


def test_unexpected_and_duplicate_members_are_refused(good, tmp_path, monkeypatch):
    refuse(make_zip(good | {"evil.py": b"import os"}), "unexpected member 'evil.py'", tmp_path, monkeypatch)
    with pytest.warns(UserWarning):                          # zipfile warns on a duplicate name
        twice = make_zip(good | {"x": (zipfile.ZipInfo("config.json"), b"{}")})
    refuse(twice, "appears twice", tmp_path, monkeypatch)


def test_too_many_members_are_refused_from_the_directory(tmp_path, monkeypatch):
    refuse(make_zip({f"f{i}": b"" for i in range(runzip.MAX_MEMBERS + 1)}), "65 members", tmp_path, monkeypatch)


def _patch_central(data: bytes, name: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite one field of ``name``'s central-directory entry (what a hand-made bomb does)."""
    at = data.index(b"PK\x01\x02")
    while data[at + 46:at + 46 + struct.unpack("<H", data[at + 28:at + 30])[0]] != name:
        at = data.index(b"PK\x01\x02", at + 4)
    return data[:at + offset] + struct.pack(fmt, value) + data[at + offset + struct.calcsize(fmt):]


def test_huge_declared_size_is_refused_before_extracting(good, tmp_path, monkeypatch):
    bomb = _patch_central(make_zip(good), b"attention.csv", 24, "<I", 0xFFFF0000)   # ~4.3 GB declared
    refuse(bomb, "more than 2,000,000,000 bytes", tmp_path, monkeypatch)


def test_high_compression_ratio_is_refused(good, tmp_path, monkeypatch):
    refuse(make_zip(good | {"attention.csv": bytes(20_000_000)}), "zip bomb", tmp_path, monkeypatch)


def test_member_unpacking_past_its_declared_size_is_refused(good, tmp_path, monkeypatch):
    lying = _patch_central(make_zip(good), b"metrics.json", 24, "<I", 10)       # says 10 bytes, holds more
    refuse(lying, "metrics.json", tmp_path, monkeypatch)


def test_encrypted_member_is_refused(good, tmp_path, monkeypatch):
    refuse(_patch_central(make_zip(good), b"model.pt", 8, "<H", 0x1), "encrypted", tmp_path, monkeypatch)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, "w")     # unpickling would create the marker file


def test_pickle_payload_in_model_pt_does_not_run(good, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"state_dict": {}, "evil": _Payload(str(marker))}, buf)
    message = refuse(make_zip(good | {"model.pt": buf.getvalue()}), "model.pt", tmp_path, monkeypatch)
    assert not marker.exists() and "weights_only" not in message and "could run code" in message
    raw = pickle.dumps(_Payload(str(marker)))                 # a bare pickle, not a torch file
    refuse(make_zip(good | {"model.pt": raw}), "model.pt", tmp_path, monkeypatch)
    assert not marker.exists()


def test_graph_json_pointing_outside_is_refused(good, tmp_path, monkeypatch):
    graph = json.dumps({"format": 1, "dataset": "upload", "edges": "../../../etc/passwd"}).encode()
    refuse(make_zip(good | {"graph.json": graph}), "outside the run", tmp_path, monkeypatch)


def _renamed(data: bytes, old: bytes, new: bytes) -> bytes:
    """``data`` with a member name changed in both headers (same length)."""
    return data.replace(old, new)


@pytest.mark.parametrize("data, match", [
    (b"not a zip at all, just text", "not a zip file"),
    (_renamed(make_zip({"config.json": b"{}"}), b"config.json", b"\x00onfig.json"), "empty name"),
    (b"", "not a zip file"),
    (make_zip({}), "the zip is empty"),
    (make_zip({"metrics.json": b"{}"}), "no config.json"),
    (make_zip({"input/": b""}), "no config.json"),
])
def test_broken_files_are_one_line(data, match, tmp_path, monkeypatch):
    refuse(data, match, tmp_path, monkeypatch)


def test_truncated_and_damaged_zips(good, tmp_path, monkeypatch):
    whole = make_zip(good)
    refuse(whole[: len(whole) // 2], "not a zip file, or a truncated one", tmp_path, monkeypatch)
    at = whole.index(b"model.pt") + len("model.pt") + 200     # inside model.pt's compressed data
    flipped = whole[:at] + bytes([whole[at] ^ 0xFF]) + whole[at + 1:]
    refuse(flipped, "model.pt", tmp_path, monkeypatch)


def test_a_wrong_format_version_in_a_zip_names_the_zip(good, tmp_path, monkeypatch):
    graph = json.loads(good["graph.json"]) | {"format": 99}
    message = refuse(make_zip(good | {"graph.json": json.dumps(graph).encode()}), "format 99",
                     tmp_path, monkeypatch)
    assert message.startswith("cannot load the run in 'hostile.zip'")


def test_a_huge_member_count_is_refused_from_the_end_record(tmp_path, monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(20_000):
            z.writestr(str(i), b"")
    refuse(buf.getvalue(), "20,000 members", tmp_path, monkeypatch)
    end = buf.getvalue().rindex(b"PK\x05\x06")
    lying = bytearray(buf.getvalue())
    lying[end + 8:end + 12] = struct.pack("<HH", 3, 3)          # says 3 members; the directory holds 20,000
    refuse(bytes(lying), "directory takes", tmp_path, monkeypatch)


def test_randomly_damaged_zips_load_or_give_one_line(good):
    """A seeded fuzz: flipped, cut and spliced bytes; every case is a run or a GatvizError."""
    import random
    rng, whole = random.Random(0), make_zip(good)
    directory = whole.index(b"PK\x01\x02")     # most damage goes to the central directory
    before, outcomes = leftovers(), {"loaded": 0, "refused": 0}
    for _ in range(300):
        data = bytearray(whole)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(directory - 50, len(data)) if rng.random() < 0.7 else rng.randrange(len(data))
            how = rng.choice(["flip", "byte", "cut", "splice"])
            if how == "flip":
                data[at] ^= 1 << rng.randrange(8)
            elif how == "byte":
                data[at] = rng.choice([0, 0x7F, 0x80, 0xFF])
            elif how == "cut":
                del data[at:at + rng.randint(1, 64)]
            else:
                data[at:at] = rng.randbytes(rng.randint(1, 16))
        try:
            runs.load_zip_bytes(bytes(data))
            outcomes["loaded"] += 1
        except GatvizError as exc:
            assert "\n" not in str(exc) and "weights_only" not in str(exc)
            outcomes["refused"] += 1
    assert leftovers() == before and outcomes["refused"] > 200, outcomes


def test_cli_on_a_hostile_zip_prints_one_error_line_and_exits_2(good, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.zip").write_bytes(make_zip(good | {"../evil": b"owned"}))
    for command in (["explain", "evil.zip", "--node", "0"], ["view", "evil.zip", "--node", "0", "--out", "v.html"],
                    ["heads", "evil.zip"]):
        capsys.readouterr()
        assert main(command) == 2
        out = capsys.readouterr()
        assert out.out == "" and out.err == ("error: 'evil.zip' is not a gatviz run zip: member '../evil' has an "
                                             "unsafe path (absolute, '..' or backslash)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.zip"] and not (tmp_path.parent / "evil").exists()
