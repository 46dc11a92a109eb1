"""``lookout zones``: the bundled region packs' zones, and checking zone files before use.

``lookout zones list`` prints the zones of a region pack (id, name, regime, owners, whether
the boundary is approximate) with the pack's attribution; ``lookout zones check FILE ...``
reads zone files the way the detectors will and prints the zones per regime, or the error
naming the feature.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from lookout.cli.common import err_console, fail, out_console
from lookout.geo.zones import Regime, Zone
from lookout.sources.region_pack import RegionPackError, load_region_pack
from lookout.sources.zone_files import ZoneFileError, read_zones

__all__ = ["APPROXIMATE_LABEL", "app"]

APPROXIMATE_LABEL = "approximate, not a legal boundary"

app = typer.Typer(
    name="zones",
    help="Zones: list a bundled region pack's zones, check zone files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _row(zone: Zone) -> dict[str, object]:
    return {
        "id": zone.id,
        "name": zone.name,
        "regime": zone.regime.value,
        "owners": list(zone.owners),
        "approximate": zone.approximate,
        "label": APPROXIMATE_LABEL if zone.approximate else "",
    }


@app.command("list")
def list_zones(
    region: Annotated[
        str, typer.Option("--region", metavar="NAME", help="Region pack to list.")
    ] = "scs",
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="One JSON object per zone on stdout (id, name, regime, owners, approximate, "
            "label); the attribution goes to stderr.",
        ),
    ] = False,
) -> None:
    """List the zones of a bundled region pack (built by `make regions`).

    Approximate zones (derived EEZs, coarse disputed outlines) are marked "approximate, not a
    legal boundary".
    """
    try:
        pack = load_region_pack(region)
    except RegionPackError as exc:
        fail(str(exc))
    if as_json:
        for zone in pack.zones:
            typer.echo(orjson.dumps(_row(zone)).decode())
        err_console.print(f"Data: {pack.attribution}", markup=False, highlight=False)
        return
    table = Table(title=f"Region pack {pack.name}: {len(pack.zones)} zones")
    for column in ("id", "name", "regime", "owners", "approximate"):
        table.add_column(column, overflow="fold")
    for zone in pack.zones:
        label = APPROXIMATE_LABEL if zone.approximate else "no"
        table.add_row(zone.id, zone.name, zone.regime.value, ", ".join(zone.owners), label)
    out_console.print(table)
    out_console.print(f"Data: {pack.attribution}", markup=False, highlight=False)


@app.command("check")
def check(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            help="Zone files: GeoJSON, GeoPackage, Shapefile (.shp or .zip), KML or KMZ.",
        ),
    ],
) -> None:
    """Check zone files: read each as the detectors will and print its zones per regime.

    A file with an error prints the error naming the feature (its index, id and name) on
    stderr; the command then exits 1.
    """
    failed = 0
    for path in files:
        try:
            zones = read_zones(path)
        except ZoneFileError as exc:
            failed += 1
            err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            continue
        counts = Counter(z.regime for z in zones)
        parts = ", ".join(f"{r.value} {counts[r]}" for r in Regime if counts[r])
        approx = sum(z.approximate for z in zones)
        note = f" ({approx} {APPROXIMATE_LABEL})" if approx else ""
        out_console.print(
            f"{path}: {len(zones)} zones: {parts or 'none'}{note}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if failed:
        raise typer.Exit(1)
