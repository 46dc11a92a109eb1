"""The demo: an embedded server, the demo network's sources, and traffic to feed them.

``lookout demo`` builds a :class:`Demo` and serves its runtime. By default the traffic is
simulated (:mod:`lookout.sources.simulator`): the demo members' receivers send tagged NMEA to
the server's UDP and TCP listeners, through the same ingest path as real receivers, and every
such source is marked simulated. With ``replay`` a recorded file (NMEA, CSV or JSON lines) is
replayed instead at its recorded pace, as the real data it is.

Credentials are made fresh for each run and kept in ``<data dir>/demo-credentials.json``
(readable by the owner only), so scripts can find them: a static API token (acting for the
first member, ``viewer``), the push source's ingest key, and one ``watch_officer`` user per
member (``phl-officer`` ...) with a new password, for ``POST /api/v1/auth/login``. The demo
members, users and sources are registered in the data dir's ``identity.db``, so ``lookout
members list --data-dir DIR`` and the other identity commands work beside a running demo.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from lookout.model.members import Member, Role
from lookout.service.access import Access
from lookout.service.demo_network import (
    DEMO_AGREEMENT,
    DEMO_MEMBERS,
    demo_receivers,
    demo_source_configs,
    demo_targets,
)
from lookout.service.runtime import Runtime
from lookout.service.settings import Settings, SourceConfig
from lookout.sources.scenario import ExerciseFeed, build_exercise
from lookout.sources.simulator import Simulation, SimulationConfig, SimulatorSender

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEMO_EXERCISE",
    "DEMO_REGION",
    "REPLAY_MEMBER",
    "Demo",
    "build_demo",
    "demo_region",
]

DEFAULT_DATA_DIR = Path("./var/demo")
DEMO_REGION = "scs"
"""The region pack the demo watches (territorial seas, EEZs, disputed areas, watch areas)."""
REPLAY_MEMBER = "REPLAY"
"""The member that owns a replayed recording in the demo."""
PUSH_SOURCE = "patrol-reports"
"""A push source of the first member, so the HTTP ingest endpoint can be tried at once."""
DEMO_EXERCISE = "second-thomas-resupply"
"""The exercise the simulated demo runs (``lookout scenario``), starting when the demo does."""
DEMO_RELEASE = "network"
"""The release of a replayed recording's source."""
PUSH_RELEASE = "community:asean"
"""The release of the push source of patrol reports: the ASEAN members' community."""
DEMO_ROLE = Role.WATCH_OFFICER
"""The role of each member's demo user."""
EXERCISE_RECEIVER = "PCG-PALAWAN"
"""The demo receiver whose listener the exercise's lines (tag-block source EXERCISE) go to."""


@dataclass(slots=True)
class Demo:
    """A demo ready to serve: its runtime, its traffic, and the credentials to show."""

    runtime: Runtime
    api_token: str = field(repr=False)
    push_key: str = field(repr=False)
    push_source: str
    users: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    """username -> member, role and (fresh) password of the demo users."""
    vessels: int = 300
    seed: int = 1
    replay: Path | None = None
    sender: SimulatorSender | None = None
    credentials_file: Path | None = None
    exercise: str | None = DEMO_EXERCISE
    exercise_sender: SimulatorSender | None = None

    def start(self) -> None:
        """Start the runtime (binding the listeners), then the traffic toward them and, with
        simulated traffic, the exercise."""
        self.runtime.start()
        if self.sender is None and self.replay is None:
            self.sender = _sender(self.runtime, self.vessels, self.seed)
            if self.exercise is not None:
                self.exercise_sender = _exercise_sender(self.runtime, self.exercise, self.seed)
        for sender in (self.sender, self.exercise_sender):
            if sender is not None:
                sender.start()

    def stop(self) -> None:
        for sender in (self.sender, self.exercise_sender):
            if sender is not None:
                sender.stop()
        self.runtime.stop()


def build_demo(
    *,
    settings: Settings | None = None,
    data_dir: Path | None = None,
    vessels: int = 300,
    replay: Path | None = None,
    replay_speed: float = 1.0,
    seed: int = 1,
) -> Demo:
    """Configure (not start) a demo; see the module docstring."""
    base = settings if settings is not None else Settings.from_env()
    data_dir = data_dir or (base.data_dir if settings is not None else DEFAULT_DATA_DIR)
    api_token = secrets.token_urlsafe(24)
    first_member = DEMO_MEMBERS[0].id
    sources: list[SourceConfig] = []
    if replay is None:
        sources += demo_source_configs(host="127.0.0.1")
    else:
        sources.append(
            SourceConfig(
                name=replay.name[:40],
                member=REPLAY_MEMBER,
                kind="file",
                path=str(replay),
                speed=replay_speed,
                max_gap_s=10.0,
                release=DEMO_RELEASE,
            )
        )
    push_key, users = register_demo(data_dir, sources, replay=replay is not None)
    data_dir.mkdir(parents=True, exist_ok=True)
    agreement = data_dir / "sharing.toml"
    agreement.write_text(DEMO_AGREEMENT)
    demo_settings = base.with_overrides(
        data_dir=data_dir,
        sharing_file=base.sharing_file or agreement,
        api_tokens={**base.api_tokens, api_token: "demo-viewer"},
        api_tokens_member=first_member,
        sources=(*base.sources, *sources),
        region=base.region or demo_region(),
    )
    runtime = Runtime(demo_settings)
    demo = Demo(
        runtime,
        api_token,
        push_key,
        f"{first_member}/{PUSH_SOURCE}",
        users=users,
        vessels=vessels,
        seed=seed,
        replay=replay,
    )
    demo.credentials_file = _write_credentials(demo)
    return demo


def _bound(runtime: Runtime) -> dict[str, tuple[str, int]]:
    bound = {}
    for member in DEMO_MEMBERS:
        for receiver in member.receivers:
            address = runtime.bound_address(member.id, receiver.id)
            if address is not None:
                bound[receiver.id] = address
    return bound


def _exercise_sender(runtime: Runtime, name: str, seed: int) -> SimulatorSender:
    """The exercise ``name`` from now on, without background (the simulator is the
    background), its lines sent to ``EXERCISE_RECEIVER``'s listener as they fall due."""
    exercise = build_exercise([name], seed=seed, start_ts=time.time(), background=0)
    return SimulatorSender(ExerciseFeed(exercise, EXERCISE_RECEIVER), demo_targets(_bound(runtime)))


def _sender(runtime: Runtime, vessels: int, seed: int) -> SimulatorSender:
    """The simulator, aimed at the addresses the demo's listeners bound."""
    bound = _bound(runtime)
    simulation = Simulation(
        demo_receivers(),
        SimulationConfig(vessels=vessels, seed=seed),
        start_ts=time.time(),
    )
    return SimulatorSender(simulation, demo_targets(bound))


def demo_region() -> str | None:
    """The region pack whose zones the demo watches: the South China Sea pack when it is
    built (``make demo`` builds it), else none (the demo still runs, without zone alerts)."""
    from lookout.sources.region_pack import available_packs

    return DEMO_REGION if DEMO_REGION in available_packs() else None


def _write_credentials(demo: Demo) -> Path:
    settings = demo.runtime.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "demo-credentials.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(
            {
                "url": f"http://{settings.host}:{settings.port}",
                "api_token": demo.api_token,
                "push_source": demo.push_source,
                "push_key": demo.push_key,
                "users": demo.users,
            },
            out,
            indent=2,
        )
    return path


def demo_username(member: str) -> str:
    """``phl-officer`` for ``PHL-PCG``: the demo user of a member."""
    return f"{member.split('-')[0].lower()}-officer"


def register_demo(
    data_dir: Path, sources: list[SourceConfig], *, replay: bool
) -> tuple[str, dict[str, dict[str, str]]]:
    """Register the demo members, one ``watch_officer`` per member with a fresh password,
    the sources and the push source (with a fresh ingest key) in ``identity.db``; runs again
    on an existing data dir. The push key and the users."""
    access = Access.open(data_dir)
    try:
        known = {m.code for m in access.store.members()}
        members = [Member(m.id, m.name, m.country) for m in DEMO_MEMBERS]
        if replay:
            members.append(Member(REPLAY_MEMBER, "Replayed recording"))
        users: dict[str, dict[str, str]] = {}
        for member in members:
            if member.code not in known:
                access.add_member(member)
            if member.code != REPLAY_MEMBER:
                users[demo_username(member.code)] = _demo_user(access, member.code)
        registered = {(s.member, s.name) for s in access.store.sources()}
        for cfg in sources:
            if (cfg.member, cfg.name) not in registered:
                access.store.add_source(
                    cfg.member, cfg.name, release=cfg.release, key_hash=None, kind=cfg.kind
                )
        first = DEMO_MEMBERS[0].id
        if (first, PUSH_SOURCE) in registered:
            push_key = access.rotate_source_key(first, PUSH_SOURCE)
        else:
            push_key = access.add_source(first, PUSH_SOURCE, PUSH_RELEASE)
        return push_key, users
    finally:
        access.close()


def _demo_user(access: Access, member: str) -> dict[str, str]:
    username, password = demo_username(member), secrets.token_urlsafe(12)
    if access.store.user(username) is None:
        access.add_user(username, member, DEMO_ROLE, password)
    else:
        access.set_password(username, password)
        access.store.set_disabled(username, False)
    return {"member": member, "role": DEMO_ROLE.value, "password": password}
