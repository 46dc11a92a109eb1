"""The ``lookout`` command line, run as a user runs it (subprocesses), on real data."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import httpx
import pyais
import pytest
from serve_process import LOOKOUT, ServeProcess, write_config

from lookout.cli.docs import render_cli_docs
from lookout.storage.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = {"msg_type", "mmsi", "received_at", "source"}
POSITION_TYPES = {1, 2, 3, 18, 19, 27}


def run(
    *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOOKOUT, *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_version() -> None:
    import lookout

    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"lookout {lookout.__version__}"


def test_cli_docs_are_generated_and_up_to_date() -> None:
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == render_cli_docs(), "docs/cli.md is stale: run `make docs`"
    for command in ("serve", "ingest", "decode", "replay", "doctor", "demo"):
        assert f"## `lookout {command}`" in current


# -- decode -------------------------------------------------------------------------------------


def test_decode_json_prints_one_contract_object_per_message(nmea_dir: Path) -> None:
    path = nmea_dir / "dma-aislib" / "stream_example.txt"
    result = run("decode", "--json", str(path))
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(obj.keys() >= CONTRACT_KEYS for obj in objects)
    # PROVENANCE: 4,051 decoded messages from 1,933 MMSI, 2010-06-11 11:46:10-11:46:39 UTC;
    # Lookout rejects MMSIs outside nine digits (counted on stderr under bad_mmsi).
    rejected_mmsi = int(result.stderr.split("bad_mmsi ")[1].split()[0].rstrip(","))
    assert len(objects) + rejected_mmsi == 4051
    assert len({obj["mmsi"] for obj in objects}) <= 1933
    times = sorted(obj["received_at"] for obj in objects)
    assert times[0] >= "2010-06-11T11:46:10" and times[-1] < "2010-06-11T11:46:40"


def test_decode_agrees_with_pyais_on_single_sentence_lines(nmea_dir: Path) -> None:
    path = nmea_dir / "kystverket" / "Ais1000Lines.nm4"
    result = run("decode", "--json", str(path))
    ours = Counter((o["msg_type"], o["mmsi"]) for o in map(json.loads, result.stdout.splitlines()))
    theirs: Counter[tuple[int, int]] = Counter()
    for line in path.read_text().splitlines():
        try:
            msg = pyais.NMEAMessage.from_string(line).decode()
        except Exception:  # multi-sentence lines need joining; pyais rejects them one by one
            continue
        theirs[(msg.msg_type, msg.mmsi)] += 1
    assert theirs and not theirs - ours


def test_rejected_lines_print_nothing_and_are_summed_on_stderr(nmea_dir: Path) -> None:
    path = nmea_dir / "pyais" / "tests" / "nmea_data_sample.txt"
    result = run("decode", "--json", str(path))
    assert result.returncode == 0
    for line in result.stdout.splitlines():
        assert json.loads(line).keys() >= CONTRACT_KEYS
    # PROVENANCE: 100 of the 898 lines have an empty payload and must be rejected
    assert "bad_payload 100" in result.stderr


def test_decode_reads_stdin_and_summarises_without_json(nmea_dir: Path) -> None:
    lines = (nmea_dir / "kystverket" / "Ais1000Lines.nm4").read_text().splitlines()[:10]
    piped = run("decode", "--json", stdin="\n".join(lines) + "\n")
    assert piped.returncode == 0
    assert len(piped.stdout.splitlines()) == sum(",1,1," in line for line in lines)
    table = run("decode", str(nmea_dir / "kystverket" / "Ais1000Lines.nm4"))
    assert table.returncode == 0
    assert "messages decoded" in table.stdout


def test_missing_file_is_exit_2_with_one_clear_line(tmp_path: Path) -> None:
    result = run("decode", "--json", str(tmp_path / "nope.nmea"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"lookout: error: no such file: {tmp_path / 'nope.nmea'}"
    assert "Traceback" not in run("ingest", str(tmp_path / "nope.csv")).stderr


# -- ingest, serve, replay --------------------------------------------------------------------


def _pyais_vessels(path: Path) -> set[int]:
    found = set()
    for line in path.read_text().splitlines():
        try:
            msg = pyais.NMEAMessage.from_string(line).decode()
        except Exception:
            continue
        if msg.msg_type in POSITION_TYPES and abs(msg.lat) <= 90 and abs(msg.lon) <= 180:
            found.add(msg.mmsi)
    return found


def test_ingest_then_serve_shows_the_vessels(tmp_path: Path, nmea_dir: Path) -> None:
    path = nmea_dir / "kystverket" / "Ais1000Lines.nm4"
    data_dir = tmp_path / "data"
    result = run("ingest", "--data-dir", str(data_dir), "--member", "no", str(path))
    assert result.returncode == 0, result.stderr
    assert "accepted" in result.stdout
    expected = _pyais_vessels(path)
    with SqliteStore(data_dir / "lookout.db") as store:
        assert expected <= {v.mmsi for v in store.vessels(limit=100_000)}

    sources, tokens = write_config(tmp_path / "cfg", sources=[], tokens={"t-1": "analyst"})
    # the file's data are member "no"'s, released to nobody else: the token reads for "no"
    server = ServeProcess(data_dir, sources, tokens, env={"LOOKOUT_API_TOKENS_MEMBER": "no"})
    url = server.start()
    try:
        server.wait_healthy()
        r = httpx.get(
            f"{url}/api/v1/vessels",
            params={"limit": 100_000},
            headers={"Authorization": "Bearer t-1"},
        )
        assert expected <= {v["mmsi"] for v in r.json()["vessels"]}
        stats = httpx.get(f"{url}/api/v1/sources", headers={"Authorization": "Bearer t-1"})
        (source,) = stats.json()["sources"]
        assert (source["member"], source["name"], source["lines"]) == ("no", path.name, 1000)
    finally:
        code = server.terminate()
    assert code == 0, "".join(server.log)


# PROVENANCE of tracks/boston-2014: 972 points of 4 vessels, per MMSI as below.
BOSTON = {215020081: 534, 257990100: 264, 255880350: 94, 240000208: 80}


@pytest.fixture(scope="module")
def boston_store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The Boston CSV plus one unreadable row, ingested with ``lookout ingest``."""
    folder = tmp_path_factory.mktemp("boston")
    csv = folder / "boston.csv"
    original = (shared_data / "tracks" / "boston-2014" / "demodata_ais.csv").read_text()
    csv.write_text(original.rstrip("\n") + "\nnot-an-mmsi,2014-01-05T09:48:32Z,42.3,-70.8\n")
    result = run("ingest", "--data-dir", str(folder / "data"), "--member", "us", str(csv))
    assert result.returncode == 0, result.stderr
    assert "bad_record" in result.stdout
    return folder / "data" / "lookout.db"


def test_ingest_csv_counts_every_row_and_stores_every_point(boston_store: Path) -> None:
    with SqliteStore(boston_store) as store:
        (stats,) = store.ingest_stats()
        tracks = {mmsi: len(store.track(mmsi, limit=100_000)) for mmsi in BOSTON}
    assert (stats.member, stats.source, stats.lines) == ("us", "boston.csv", 973)
    assert stats.rejected == {"bad_record": 1}
    assert stats.observations == 972
    assert tracks == BOSTON


def test_ingest_csv_gives_every_vessel_a_state(boston_store: Path) -> None:
    with SqliteStore(boston_store) as store:
        assert {v.mmsi for v in store.vessels(limit=100_000)} == set(BOSTON)


def test_replay_pushes_a_recording_over_http(tmp_path: Path, nmea_dir: Path) -> None:
    path = nmea_dir / "kystverket" / "Ais1000Lines.nm4"
    sources, tokens = write_config(
        tmp_path / "cfg",
        sources=[{"name": "kyst", "member": "no", "key": "k-kyst", "release": "network"}],
        tokens={"t-1": "analyst"},
    )
    server = ServeProcess(tmp_path / "data", sources, tokens)
    url = server.start()
    try:
        result = run(
            "replay",
            str(path),
            "--speed",
            "0",
            "--to",
            url,
            "--key",
            "k-kyst",
            "--batch-lines",
            "300",
        )
        assert result.returncode == 0, result.stderr
        stats = httpx.get(f"{url}/api/v1/sources", headers={"Authorization": "Bearer t-1"})
        kyst = next(s for s in stats.json()["sources"] if s["name"] == "kyst")
        assert kyst["lines"] == 1000
        bad = run("replay", str(path), "--to", url, "--key", "wrong")
        assert bad.returncode == 1 and "HTTP 401" in bad.stderr
    finally:
        assert server.terminate() == 0


def test_replay_over_tcp_and_udp_delivers_every_line(nmea_dir: Path) -> None:
    path = nmea_dir / "dma-aislib" / "replay_dump.txt"
    want = [line for line in path.read_text().splitlines()]
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        received: list[bytes] = []

        def accept() -> None:
            conn, _ = listener.accept()
            with conn:
                while chunk := conn.recv(65536):
                    received.append(chunk)

        thread = threading.Thread(target=accept)
        thread.start()
        result = run("replay", str(path), "--speed", "0", "--to", f"tcp://127.0.0.1:{port}")
        thread.join(10)
    assert result.returncode == 0, result.stderr
    assert b"".join(received).decode().split("\r\n")[:-1] == want

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(5)
        result = run(
            "replay", str(path), "--speed", "0", "--to", f"udp://127.0.0.1:{udp.getsockname()[1]}"
        )
        assert result.returncode == 0, result.stderr
        got = [udp.recv(65536).decode().rstrip("\r\n") for _ in want]
    assert got == want


def test_replay_rejects_a_bad_target(nmea_dir: Path) -> None:
    path = nmea_dir / "dma-aislib" / "replay_dump.txt"
    result = run("replay", str(path), "--to", "ftp://x")
    assert result.returncode == 2
    assert result.stderr.startswith("lookout: error: --to must start with")
    assert run("replay", str(path), "--to", "http://127.0.0.1:1").returncode == 2  # no --key


# -- doctor ------------------------------------------------------------------------------------


def test_doctor_reports_versions_and_backends(tmp_path: Path) -> None:
    result = run("doctor", "--data-dir", str(tmp_path / "data"), "--port", "0")
    assert result.returncode == 0, result.stdout
    for name in ("python", "pyais", "fastapi", "numpy", "sqlite3", "R*Tree", "data dir"):
        assert name in result.stdout
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in result.stdout


def test_doctor_fails_a_zone_file_the_server_could_not_load(tmp_path: Path) -> None:
    ok = run("doctor", "--data-dir", str(tmp_path / "data"), "--port", "0")
    assert "detectors" in ok.stdout and "zone_entry" in ok.stdout
    missing = tmp_path / "none.geojson"
    env = {**os.environ, "LOOKOUT_ZONES": str(missing), "COLUMNS": "200"}
    result = subprocess.run(
        [*LOOKOUT, "doctor", "--data-dir", str(tmp_path / "data"), "--port", "0"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "LOOKOUT_ZONES: no such file" in result.stdout


def test_doctor_exits_1_when_the_data_dir_is_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("doctor", "--data-dir", str(blocker / "data"), "--port", "0")
    assert result.returncode == 1
    assert "fail" in result.stdout


@pytest.mark.parametrize("args", [["serve", "--tokens-file", "/nonexistent/t.json"]])
def test_bad_config_file_is_a_one_line_error(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("lookout: error: tokens file not found")
