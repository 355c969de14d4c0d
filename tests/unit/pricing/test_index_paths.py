"""Index price paths: scripted interpolation, CSV replay, GBM reproducibility."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from exchange_sim.core.errors import DataError
from exchange_sim.core.units import Scale
from exchange_sim.pricing.csv_replay import read_price_csv
from exchange_sim.pricing.index import GbmIndex, GbmPath, PointsPath

SCALE = Scale.build(Decimal("0.5"), Decimal("0.001"), 6, "instrument")


def test_linear_path_interpolates_and_floors_to_ticks():
    """Halfway between 100 and 91 ticks is 95.5, floored to 95."""
    path = PointsPath([(0, 100), (10, 91)], linear=True)
    assert [path.price_at(t) for t in (0, 5, 10, 20)] == [100, 95, 91, 91]


def test_step_path_holds_the_last_point():
    """A step path keeps each point's price until the next point."""
    path = PointsPath([(0, 100), (10, 91)], linear=False)
    assert [path.price_at(t) for t in (0, 9, 10)] == [100, 100, 91]


def test_csv_with_iso_timestamps_is_relative_to_first_row(tmp_path):
    """ISO-8601 rows become ns offsets from the first row, prices become ticks."""
    path = tmp_path / "p.csv"
    path.write_text("timestamp,price\n2021-05-19T13:00:00Z,100.5\n2021-05-19T13:00:01.25Z,99\n")
    assert read_price_csv(str(path), "", SCALE, snap=False) == [(0, 201), (1_250_000_000, 198)]


def test_csv_with_integer_ns_timestamps(tmp_path):
    """Integer timestamps are nanoseconds, taken relative to the first row."""
    path = tmp_path / "p.csv"
    path.write_text("timestamp,price\n1000,100\n1500,100.5\n")
    assert read_price_csv(str(path), "", SCALE, snap=False) == [(0, 200), (500, 201)]


def test_csv_off_grid_price_names_the_line(tmp_path):
    """A price off the tick grid is an error at file:line unless snapping is asked for."""
    path = tmp_path / "p.csv"
    path.write_text("timestamp,price\n0,100.2\n")
    with pytest.raises(DataError, match=r"p\.csv:2: not a whole multiple"):
        read_price_csv(str(path), "", SCALE, snap=False)
    assert read_price_csv(str(path), "", SCALE, snap=True) == [(0, 200)]


def test_csv_backwards_time_is_an_error(tmp_path):
    """Rows must not go back in time."""
    path = tmp_path / "p.csv"
    path.write_text("timestamp,price\n10,100\n5,100\n")
    with pytest.raises(DataError, match=r"p\.csv:3: timestamps must not go backwards"):
        read_price_csv(str(path), "", SCALE, snap=False)


def test_csv_header_is_checked(tmp_path):
    """The first line must be the header timestamp,price."""
    path = tmp_path / "p.csv"
    path.write_text("time,px\n0,1\n")
    with pytest.raises(DataError, match=r"p\.csv:1: header"):
        read_price_csv(str(path), "", SCALE, snap=False)


def test_gbm_path_is_reproducible_and_moves():
    """Same stream, same path; a volatile path does not stay flat."""

    def prices(seed):
        path = GbmPath(
            GbmIndex(start_price=100_000), SCALE, np.random.Generator(np.random.PCG64(seed))
        )
        return [path.price_at(t * 10**9) for t in range(50)]

    assert prices(1) == prices(1)
    assert len(set(prices(1))) > 10
    assert prices(1)[0] == 100_000
