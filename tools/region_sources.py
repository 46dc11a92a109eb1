"""Facts the South China Sea pack is built from that do not come from the npm packages: the
region, country names, the disputed areas with their claimants, and the watched reefs, each
with where it comes from. Everything here is cited in the pack's PACK.json and in
docs/zones.md."""

from __future__ import annotations

from dataclasses import dataclass

REGION = (99.0, -4.0, 126.0, 26.0)
"""west, south, east, north (degrees): the pack's zones and land are clipped to this box."""

MARGIN_DEG = 4.0
"""Coasts this far outside the region still count for EEZs (200 nm is 3.33 degrees of lat)."""

NM_M = 1852.0
EEZ_NM = 200.0
WATCH_RADIUS_NM = 12.0
"""Radius of the watch-area circles: the breadth of a territorial sea (UNCLOS art. 3)."""
DISPUTED_BUFFER_NM = 12.0
"""Disputed areas reach this far beyond their features (the sea a sovereign would claim)."""

NAMES = {
    "BRN": "Brunei",
    "CHN": "China",
    "HKG": "Hong Kong",
    "IDN": "Indonesia",
    "IND": "India",
    "JPN": "Japan",
    "KHM": "Cambodia",
    "LAO": "Laos",
    "MAC": "Macao",
    "MMR": "Myanmar",
    "MYS": "Malaysia",
    "PHL": "Philippines",
    "SGP": "Singapore",
    "THA": "Thailand",
    "TLS": "Timor-Leste",
    "TWN": "Taiwan",
    "VNM": "Viet Nam",
}
"""ISO 3166-1 alpha-3 codes (Taiwan: ``TWN``, the code ISO 3166 assigns) -> English names."""

LANDLOCKED = frozenset({"LAO"})
"""States whose OpenStreetMap polygon is land only: no territorial sea."""

EEZ_STATE = {"HKG": "CHN", "MAC": "CHN"}
"""Coasts that count toward another state's EEZ (special administrative regions of China)."""

WIKIPEDIA = "English Wikipedia, article {!r}, infobox (retrieved 2026-11)"


@dataclass(frozen=True, slots=True)
class Feature:
    """A named reef, shoal or island: position in degrees and where the position comes from."""

    name: str
    lat: float
    lon: float
    source: str


@dataclass(frozen=True, slots=True)
class DisputedArea:
    """A coarse outline: the convex hull of its features (and of the Natural Earth land inside
    ``land_box``), grown by :data:`DISPUTED_BUFFER_NM`; ``claimants`` are ISO codes."""

    id: str
    name: str
    claimants: tuple[str, ...]
    features: tuple[Feature, ...]
    land_box: tuple[float, float, float, float] | None
    source: str


def _wp(article: str) -> str:
    return WIKIPEDIA.format(article)


SCARBOROUGH = Feature("Scarborough Shoal", 15.183, 117.767, _wp("Scarborough Shoal"))
SECOND_THOMAS = Feature("Second Thomas Shoal", 9.733, 115.867, _wp("Second Thomas Shoal"))
WHITSUN = Feature("Whitsun Reef", 9.994, 114.658, _wp("Whitsun Reef"))

WATCHED = (SCARBOROUGH, SECOND_THOMAS, WHITSUN)
"""Reefs with a watch-area circle of :data:`WATCH_RADIUS_NM` around them."""

SPRATLY_FEATURES = (
    Feature("North Danger Reef", 11.42, 114.35, _wp("North Danger Reef")),
    Feature("Thitu Island", 11.054, 114.284, _wp("Thitu Island")),
    Feature("Itu Aba Island", 10.377, 114.365, _wp("Itu Aba Island")),
    WHITSUN,
    Feature("Mischief Reef", 9.90, 115.53, _wp("Mischief Reef")),
    SECOND_THOMAS,
    Feature("Commodore Reef", 8.37, 115.23, _wp("Commodore Reef")),
    Feature("Louisa Reef", 6.33, 113.27, _wp("Louisa Reef")),
    Feature("Swallow Reef", 7.37, 113.83, _wp("Swallow Reef")),
    Feature("Amboyna Cay", 7.85, 112.92, _wp("Amboyna Cay")),
    Feature("Spratly Island", 8.633, 111.917, _wp("Spratly Island")),
    Feature("Fiery Cross Reef", 9.55, 112.89, _wp("Fiery Cross Reef")),
)
"""Outermost features of the Spratly Islands (positions rounded to 0.01 degree or better)."""

DISPUTED = (
    DisputedArea(
        id="scs-disputed-spratly-islands",
        name="Spratly Islands area (disputed; approximate, not a legal boundary)",
        claimants=("BRN", "CHN", "MYS", "PHL", "TWN", "VNM"),
        features=SPRATLY_FEATURES,
        land_box=(111.0, 6.0, 117.0, 12.0),
        source=_wp("Spratly Islands") + ": claimed by Brunei, China, Malaysia, the Philippines, "
        "Taiwan and Viet Nam; outline: hull of the features listed in PACK.json",
    ),
    DisputedArea(
        id="scs-disputed-scarborough-shoal",
        name="Scarborough Shoal (disputed; approximate, not a legal boundary)",
        claimants=("CHN", "PHL", "TWN"),
        features=(SCARBOROUGH,),
        land_box=None,
        source=_wp("Scarborough Shoal") + ": claimed by China, the Philippines and Taiwan",
    ),
    DisputedArea(
        id="scs-disputed-paracel-islands",
        name="Paracel Islands (disputed; approximate, not a legal boundary)",
        claimants=("CHN", "TWN", "VNM"),
        features=(),
        land_box=(111.0, 15.5, 113.0, 17.5),
        source=_wp("Paracel Islands") + ": controlled by China, claimed by Taiwan and Viet Nam; "
        "outline: hull of the Natural Earth islands there",
    ),
)

APPROXIMATE = "approximate, not a legal boundary"
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL"
NATURAL_EARTH_ATTRIBUTION = "Made with Natural Earth"
