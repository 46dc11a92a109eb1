"""Fast construction of the hot-path value types (track points, vessel states).

They live in :mod:`lookout.model.rows` (next to the row-backed sequences that use them); this
module keeps the names fusion has always imported.
"""

from __future__ import annotations

from lookout.model.rows import new_track_point, new_vessel_state

__all__ = ["new_track_point", "new_vessel_state"]
