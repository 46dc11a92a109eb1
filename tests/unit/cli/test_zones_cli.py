"""``lookout zones list`` and ``lookout zones check``: what a user sees, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from shapely.geometry import box, mapping
from typer.testing import CliRunner

from conftest import missing
from lookout.cli.main import app
from lookout.sources.region_pack import available_packs

APPROXIMATE = "approximate, not a legal boundary"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["zones", *args])
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, features: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def feature(
    props: dict[str, object], geometry: dict[str, object] | None = None
) -> dict[str, object]:
    shape = geometry or mapping(box(120.0, 10.0, 121.0, 11.0))
    return {"type": "Feature", "properties": props, "geometry": shape}


def test_check_counts_zones_per_regime(tmp_path: Path) -> None:
    path = write(
        tmp_path / "zones.geojson",
        [
            feature({"id": "a", "regime": "territorial_sea", "owners": "PHL-PCG"}),
            feature({"id": "b", "regime": "watch_area"}),
            feature({"id": "c", "regime": "eez", "owners": "PHL-PCG", "approximate": True}),
            feature({"id": "d", "regime": "watch_area"}),
        ],
    )
    code, out, _ = run("check", str(path))
    assert code == 0
    assert "4 zones" in out and "watch_area 2" in out and "territorial_sea 1" in out
    assert f"1 {APPROXIMATE}" in out


def test_check_names_the_bad_feature_and_exits_1(tmp_path: Path) -> None:
    good = write(tmp_path / "good.geojson", [feature({"id": "a", "regime": "watch_area"})])
    bow = {
        "type": "Polygon",
        "coordinates": [[[120, 10], [121, 11], [121, 10], [120, 11], [120, 10]]],
    }
    bad = write(
        tmp_path / "bad.geojson",
        [
            feature({"id": "ok", "regime": "watch_area"}),
            feature({"id": "bow", "name": "Bow tie", "regime": "watch_area"}, bow),
        ],
    )
    code, out, err = run("check", str(good), str(bad))
    assert code == 1
    assert "good.geojson: 1 zones" in out
    assert "feature 1 (id 'bow', name 'Bow tie')" in err and "Self-intersection" in err


def test_list_of_an_unknown_region_says_how_to_build_it() -> None:
    code, _, err = run("list", "--region", "atlantis")
    assert code == 2
    assert "make regions" in err


def test_list_json_labels_derived_zones_approximate() -> None:
    if "scs" not in available_packs():
        missing("the South China Sea region pack is not built (make regions)")
    code, out, err = run("list", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    regimes = {r["regime"] for r in rows}
    assert {"territorial_sea", "disputed", "watch_area", "eez"} <= regimes
    for row in rows:
        assert row["approximate"] == (row["regime"] in {"eez", "disputed"})
        assert (row["label"] == APPROXIMATE) == row["approximate"]
    assert "OpenStreetMap" in err and "Natural Earth" in err
