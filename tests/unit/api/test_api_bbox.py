"""``?bbox=west,south,east,north``: accepted boxes and clear 422s for the rest."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from lookout.api.deps import parse_bbox
from lookout.model import BBox


def test_four_numbers_make_a_box() -> None:
    assert parse_bbox("10.5,55,12,56.25") == BBox(10.5, 55.0, 12.0, 56.25)
    assert parse_bbox(None) is None
    assert parse_bbox(" ") is None


def test_west_greater_than_east_crosses_the_antimeridian() -> None:
    box = parse_bbox("170,-10,-170,10")
    assert box is not None
    assert box.contains(0.0, 179.0)
    assert box.contains(0.0, -179.0)
    assert not box.contains(0.0, 0.0)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1,2,3", "four numbers"),
        ("1,2,3,4,5", "four numbers"),
        ("a,2,3,4", "four numbers"),
        ("nan,2,3,4", "four numbers"),
        ("0,-91,1,1", "latitudes"),
        ("0,0,1,90.5", "latitudes"),
        ("0,10,1,5", "south must not exceed north"),
        ("-181,0,1,1", "longitudes"),
    ],
)
def test_bad_boxes_are_422_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(HTTPException) as info:
        parse_bbox(text)
    assert info.value.status_code == 422
    assert why in str(info.value.detail)
