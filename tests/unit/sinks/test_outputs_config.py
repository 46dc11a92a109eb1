"""The outputs file: outputs with secrets by reference, clear errors, and the runtime starting
and stopping them with itself."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from lookout.pipeline import subjects
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings
from lookout.sinks import OutputsFileError, read_outputs
from lookout.storage.memory import MemoryStore

GOOD = """
[[outputs]]
name = "pcg-ops"
kind = "webhook"
member = "PHL-PCG"
url = "https://ops.example/lookout"
secret_env = "PCG_HOOK_SECRET"
events = true
max_attempts = 4

[[outputs]]
name = "pcg-tak"
kind = "cot"
member = "PHL-PCG"
host = "tak.example"
port = 8089
protocol = "udp"
assets = [548000001]
neutral_flags = ["ph"]
"""


def test_outputs_are_read_with_their_secret_by_reference(tmp_path: Path) -> None:
    path = tmp_path / "outputs.toml"
    path.write_text(GOOD)
    hook, tak = read_outputs(path, env={"PCG_HOOK_SECRET": "hunter2-secret"})
    assert (hook.kind, hook.member, hook.events, hook.max_attempts) == (
        "webhook", "PHL-PCG", True, 4
    )  # fmt: skip
    assert hook.secret == b"hunter2-secret"
    assert "hunter2" not in repr(hook)
    assert (tak.protocol, tak.port, tak.assets, tak.neutral_flags) == (
        "udp", 8089, frozenset({548000001}), frozenset({"PH"})
    )  # fmt: skip


def test_a_secret_file_is_read_and_stripped(tmp_path: Path) -> None:
    secret = tmp_path / "hook.secret"
    secret.write_text("from-a-file\n")
    path = tmp_path / "outputs.toml"
    path.write_text(
        '[[outputs]]\nname = "a"\nkind = "webhook"\nmember = "M"\n'
        f'url = "http://127.0.0.1:1/"\nsecret_file = "{secret}"\n'
    )
    assert read_outputs(path, env={})[0].secret == b"from-a-file"


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ('name = "x"\nkind = "email"\nmember = "M"', "kind must be one of webhook, cot"),
        ('name = "x"\nkind = "webhook"\nmember = "M"\nurl = "ftp://a"', "http(s) 'url'"),
        ('name = "x"\nkind = "webhook"\nmember = "M"\nurl = "http://a"', "secret_env or"),
        ('name = "x"\nkind = "webhook"\nmember = "M"\nurl = "http://a"\nsecret = "plain"',
         "give secrets by secret_env"),
        ('name = "x"\nkind = "webhook"\nmember = "M"\nurl = "http://a"\nsecret_env = "NOPE"',
         "NOPE is unset"),
        ('name = "x"\nkind = "cot"\nmember = "M"\nprotocol = "sctp"', "tcp or udp"),
        ('name = "x"\nkind = "cot"\nmember = "M"\nport = -1', "port must be a number"),
        ('name = "x"\nkind = "cot"', "'member' is required"),
    ],
)  # fmt: skip
def test_a_bad_output_is_refused_naming_the_file_and_the_output(
    tmp_path: Path, entry: str, says: str
) -> None:
    path = tmp_path / "outputs.toml"
    path.write_text(f"[[outputs]]\n{entry}\n")
    with pytest.raises(OutputsFileError) as err:
        read_outputs(path, env={})
    assert str(path) in str(err.value) and "'x'" in str(err.value) and says in str(err.value)


def test_the_runtime_starts_its_outputs_and_stops_them_with_itself(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(5)
        path = tmp_path / "outputs.toml"
        path.write_text(
            '[[outputs]]\nname = "tak"\nkind = "cot"\nmember = "AAA"\nhost = "127.0.0.1"\n'
            f'protocol = "udp"\nport = {udp.getsockname()[1]}\n'
        )
        settings = Settings(data_dir=tmp_path / "data", detectors="none", outputs_file=path)
        runtime = Runtime(settings, store=MemoryStore())
        with runtime:
            assert runtime.outputs is not None
            update = {"mmsi": 412000001, "observed_ts": 1.0e9, "lat": 10.0, "lon": 116.0,
                      "sources": ["AAA/ais"], "feed": "AAA/ais", "flag": "CN"}  # fmt: skip
            runtime.bus.publish(subjects.vessel(412000001), update)
            datagram, _ = udp.recvfrom(65536)
            sink = runtime.outputs.sinks[0]
        assert runtime.outputs is None
        assert b'uid="lookout-vessel-412000001"' in datagram
        assert sink.config.name == "tak"


def test_a_bad_outputs_file_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "outputs.toml"
    path.write_text('[[outputs]]\nname = "x"\nkind = "pigeon"\nmember = "M"\n')
    runtime = Runtime(
        Settings(data_dir=tmp_path, detectors="none", outputs_file=path), store=MemoryStore()
    )
    with pytest.raises(OutputsFileError, match="pigeon"):
        runtime.start()
