"""The sweep period that checks every connection's login and heartbeat deadlines.

The deadlines themselves are tested end to end (``test_bad_input``: no login
in time; ``test_presence``: heartbeat pings and timeouts on a real server).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from chatserver.config import ServerConfig
from chatserver.timeouts import LONGEST_PERIOD, SHORTEST_PERIOD, sweep_period


def test_default_settings_sweep_once_a_second(tmp_path: Path) -> None:
    assert sweep_period(ServerConfig(data_dir=tmp_path)) == LONGEST_PERIOD


seconds = st.floats(min_value=0.001, max_value=3600, allow_nan=False)


@given(interval=seconds, extra=seconds, login=seconds)
def test_every_deadline_is_checked_within_a_quarter_of_its_span(
    interval: float, extra: float, login: float
) -> None:
    config = ServerConfig(
        data_dir=Path("unused"), heartbeat_interval=interval,
        heartbeat_timeout=interval + extra, login_timeout=login,
    )
    period = sweep_period(config)
    assert SHORTEST_PERIOD <= period <= LONGEST_PERIOD
    for span in (interval, config.heartbeat_timeout - interval, login):
        assert period <= max(span / 4, SHORTEST_PERIOD)
