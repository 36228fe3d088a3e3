"""Polling policy: next-poll times and backoff, stored state, one request at a time per host."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from index.fetch import fetch_url
from index.polling import FeedState, HostGate, PollPolicy, due_by_host, host_key, next_poll_at
from tests.fakes.site import PUBLIC_IP, UA, Reply, Site, SiteHandler, fake_dns

NOW = datetime(2024, 2, 12, 12, 0, tzinfo=UTC)


def test_next_poll_interval_backlog_and_capped_backoff() -> None:
    policy = PollPolicy()
    assert next_poll_at(NOW, 0, policy) == NOW + timedelta(minutes=15)
    assert next_poll_at(NOW, 0, policy, backlog=True) == NOW + timedelta(minutes=1)
    assert [next_poll_at(NOW, n, policy) - NOW for n in (1, 2, 3, 4)] == [
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=4),
    ]
    assert next_poll_at(NOW, 5, policy) == NOW + timedelta(hours=6)
    assert next_poll_at(NOW, 100_000, policy) == NOW + timedelta(hours=6)  # no overflow after a long outage
    custom = PollPolicy(interval=timedelta(minutes=5), max_backoff=timedelta(minutes=12))
    assert next_poll_at(NOW, 1, custom) == NOW + timedelta(minutes=10)
    assert next_poll_at(NOW, 2, custom) == NOW + timedelta(minutes=12)


def test_state_round_trips_through_json() -> None:
    state = FeedState(
        "http://news.example/feed",
        title="Coast",
        etag='"x"',
        last_modified="Sat, 10 Feb 2024",
        last_poll=NOW,
        next_poll=NOW + timedelta(minutes=15),
        consecutive_failures=2,
        last_error="boom",
        items_added=7,
        backlog=True,
        child_lastmod=(("http://news.example/s1.xml", "2024-02-10T00:00:00+00:00"),),
    )
    assert FeedState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert FeedState.from_dict({"url": "http://a.example/f", "future_field": 1}) == FeedState("http://a.example/f")
    assert state.with_added(3).items_added == 10


def test_due_feeds_interleaved_by_host() -> None:
    def feed(url: str, minutes: int | None) -> FeedState:
        return FeedState(url, next_poll=None if minutes is None else NOW + timedelta(minutes=minutes))

    states = [
        feed("http://a.example/1", -30),
        feed("http://www.a.example/2", -20),
        feed("http://a.example/3", -10),
        feed("http://b.example/1", -5),
        feed("http://c.example/1", None),
        feed("http://c.example/later", 5),
    ]
    order = [s.url for s in due_by_host(states, NOW)]
    assert order == [
        "http://c.example/1",
        "http://a.example/1",
        "http://b.example/1",  # never polled first
        "http://www.a.example/2",
        "http://a.example/3",
    ]
    assert host_key("http://WWW.A.example:8080/x") == "a.example"


def test_host_gate_spaces_requests_to_one_host() -> None:
    clock = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    gate = HostGate(2.0, clock=lambda: clock[0], sleep=sleep)
    with gate.hold("http://a.example/1"):
        clock[0] += 5.0  # a long request: the gap counts from its end
    clock[0] += 0.5
    with gate.hold("http://b.example/1"):
        pass
    assert sleeps == []
    with gate.hold("http://www.a.example/2"):
        pass
    assert sleeps == [1.5]


@pytest.fixture
def busy_site(site: Site) -> Site:
    """A route that takes a while and records how many requests each host had in flight at once."""
    guard = threading.Lock()
    in_flight: dict[str, int] = {}
    peaks: dict[str, int] = {}

    def slow(handler: SiteHandler) -> None:
        host = handler.headers["Host"]
        with guard:
            in_flight[host] = in_flight.get(host, 0) + 1
            peaks[host] = max(peaks.get(host, 0), in_flight[host])
        handler.site.stop.wait(0.05)
        with guard:
            in_flight[host] -= 1
        handler.reply(Reply(b"<rss/>"))

    site.routes["/slow"] = slow
    site.peaks = peaks  # type: ignore[attr-defined]
    return site


@pytest.mark.usefixtures("public")
def test_host_gate_lets_one_request_at_a_time_reach_a_host(busy_site: Site) -> None:
    dns = fake_dns({"a.example": [PUBLIC_IP], "b.example": [PUBLIC_IP]})
    gate = HostGate()
    fetch = gate.wrap(
        lambda url, **kw: fetch_url(url, timeout=5, max_bytes=1000, user_agent=UA, resolver=dns, feed=True, **kw)
    )
    errors: list[BaseException] = []

    def worker(host: str) -> None:
        try:
            for _ in range(3):
                fetch(f"http://{host}/slow")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(host,)) for host in ["a.example", "b.example"] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(busy_site.requests) == 18
    assert busy_site.peaks == {"a.example": 1, "b.example": 1}  # type: ignore[attr-defined]
