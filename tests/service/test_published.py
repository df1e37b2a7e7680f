"""The one store of published versions and the one registry class, for every kind, on
SQLite and PostgreSQL: versions count up per id, a job publishes at most one version of
a kind, stale fits never replace newer ones, and a registry resolves references the
same way for every kind. Reads take no lock and never see half of a refresh.

A toy kind shows what adding a kind takes: a codec, built-ins and a registry class.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

import pytest

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.throughput.catalogue import builtin_throughput
from flopwise.service.refs import RefError, UnknownRef
from flopwise.service.registry import Poller, Registries
from flopwise.service.store.db import Database, open_database
from flopwise.service.store.laws import LAWS
from flopwise.service.store.published import (
    Kind,
    PublishResult,
    get_version,
    latest,
    load_since,
    publish,
    versions_of,
)
from flopwise.service.store.registry import Registry
from flopwise.service.store.throughput import THROUGHPUT
from tests.service.publishing import publish_law, publish_model


@dataclass(frozen=True)
class Toy:
    id: str
    version: int = 1
    size: int = 0


class UnknownToy(UnknownRef):
    pass


TOYS: Kind[Toy] = Kind(
    name="toy",
    noun="toy",
    listing="GET /toys",
    encode=asdict,
    decode=lambda data: Toy(**data),
    builtins=lambda: {"bundled-toy": Toy("bundled-toy")},
    unknown=UnknownToy,
)


class ToyRegistry(Registry[Toy]):
    kind = TOYS


SAMPLES: dict[str, tuple[Kind[Any], Callable[[str], Any]]] = {
    "law": (LAWS, lambda i: builtin("epoch-2024").evolve(id=i)),
    "throughput": (THROUGHPUT, lambda i: replace(builtin_throughput("h100-default"), id=i)),
    "toy": (TOYS, Toy),
}


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = open_database(store_url)
    yield database
    database.dispose()


def put(db: Database, kind: Kind[Any], value: Any, job_id: str | None = None) -> PublishResult:
    with db.write_session.begin() as session:
        return publish(session, kind, value, dataset="d", job_id=job_id)


@pytest.mark.parametrize("name", SAMPLES)
def test_versions_count_up_per_id(db: Database, name: str) -> None:
    kind, sample = SAMPLES[name]
    for expected in (1, 2, 3):
        assert put(db, kind, sample("d-a")) == PublishResult(expected, "published")
    assert put(db, kind, sample("d-b")).version == 1
    assert versions_of(db, kind, "d-a") == [1, 2, 3] and versions_of(db, kind, "d-c") == []
    stored = load_since(db, kind, 0)
    assert [(r.value.id, r.value.version) for r in stored] == [
        ("d-a", 1),
        ("d-a", 2),
        ("d-a", 3),
        ("d-b", 1),
    ]
    assert [r.row_id for r in stored] == sorted(r.row_id for r in stored)
    assert [r.value.version for r in load_since(db, kind, stored[1].row_id)] == [3, 1]
    second = get_version(db, kind, "d-a", 2)
    assert second is not None
    assert kind.encode(second.value) == kind.encode(replace(sample("d-a"), version=2))
    newest = latest(db, kind, "d-a")
    assert newest is not None and newest.value.version == 3 and newest.dataset == "d"
    assert get_version(db, kind, "d-a", 4) is None and latest(db, kind, "d-c") is None


def test_a_job_publishes_at_most_one_version_of_each_kind(db: Database) -> None:
    for kind, sample in SAMPLES.values():
        assert put(db, kind, sample("d-same"), "job1") == PublishResult(1, "published")
    for kind, sample in SAMPLES.values():  # a retried job: nothing new
        assert put(db, kind, sample("d-same"), "job1") == PublishResult(1, "repeated")
        assert put(db, kind, sample("d-other"), "job1") == PublishResult(1, "repeated")
        assert versions_of(db, kind, "d-same") == [1] and versions_of(db, kind, "d-other") == []
        assert put(db, kind, sample("d-same"), "job2") == PublishResult(2, "published")


def test_a_stale_snapshot_never_replaces_a_newer_version(db: Database) -> None:
    published = []
    for snapshot in (24, 12, 24, 36):  # the fit on 12 observations finishes last-but-two
        with db.write_session.begin() as session:
            published.append(publish_law(session, "race-chinchilla", snapshot=snapshot))
    assert [(p.version, p.status) for p in published] == [
        (1, "published"),
        (1, "superseded"),
        (2, "published"),
        (3, "published"),
    ]
    assert [r.report["snapshot"] for r in load_since(db, LAWS, 0)] == [24, 24, 36]


def test_an_id_no_reference_could_name_is_not_published(db: Database) -> None:
    with pytest.raises(RefError) as caught:
        put(db, TOYS, Toy("a b"))
    assert caught.value.name == "toy"
    assert load_since(db, TOYS, 0) == []


def test_a_registry_resolves_builtin_and_published_versions(db: Database) -> None:
    put(db, TOYS, Toy("d-toy", size=1))
    put(db, TOYS, Toy("d-toy", size=2))
    registry = ToyRegistry(db)
    assert registry.loaded() == {"bundled-toy": 1}
    assert registry.refresh() == 2 and registry.refresh() == 0
    assert registry.resolve("d-toy") == Toy("d-toy", 2, 2)
    assert registry.resolve("d-toy@1") == Toy("d-toy", 1, 1)
    assert registry.resolve("d-toy") is registry.resolve("d-toy@2")  # decoded once
    assert registry.resolve("bundled-toy@1") == Toy("bundled-toy")
    assert registry.versions("d-toy") == [1, 2] and registry.versions("bundled-toy") == []
    assert registry.loaded() == {"bundled-toy": 1, "d-toy": 2}
    assert [r.value for r in registry.published()] == [Toy("d-toy", 2, 2)]
    assert registry.latest() == [Toy("bundled-toy"), Toy("d-toy", 2, 2)]
    record = registry.record("d-toy", 1)
    assert (
        record is not None and record.dataset == "d" and registry.record("bundled-toy", 1) is None
    )
    for ref, words in (
        ("nope", "toy: unknown toy 'nope'; GET /toys lists them"),
        ("d-toy@3", "toy: 'd-toy' has no version 3"),
        ("bundled-toy@2", "toy: 'bundled-toy' has no version 2"),
        ("d-toy@\u0661", "toy: version must be 1 to 9 ASCII digits"),
        ("d-toy@" + "1" * 4301, "toy: version must be 1 to 9 ASCII digits"),
        ("d toy", "toy: an id is ASCII letters"),
    ):
        with pytest.raises(UnknownToy) as caught:
            registry.resolve(ref)
        assert str(caught.value).startswith(words), ref


def test_catch_up_refreshes_only_for_a_version_not_loaded(db: Database) -> None:
    registry = ToyRegistry(db)
    put(db, TOYS, Toy("d-toy"))
    registry.refresh()
    put(db, TOYS, Toy("d-toy"))
    registry.catch_up([("d-toy", 1)])
    assert registry.versions("d-toy") == [1]  # nothing missing: no read
    registry.catch_up([("d-toy", 1), ("d-toy", 2)])
    assert registry.versions("d-toy") == [1, 2]


def test_a_refresh_is_seen_whole_or_not_at_all_and_reads_take_no_lock(db: Database) -> None:
    """A refresh loading versions 1 to 3 is paused while it decodes version 2, holding
    its lock: reads answer at once, from the snapshot before it (none of the three)."""
    decoding, release = threading.Event(), threading.Event()

    def decode(data: dict[str, Any]) -> Toy:
        if data["version"] == 2:
            decoding.set()
            assert release.wait(60)
        return Toy(**data)

    class SlowToys(Registry[Toy]):
        kind = replace(TOYS, decode=decode)

    for _ in range(3):
        put(db, TOYS, Toy("d-toy"))
    registry = SlowToys(db)
    refresher = threading.Thread(target=registry.refresh)
    refresher.start()
    seen: list[Any] = []

    def read() -> None:
        seen.extend([registry.versions("d-toy"), registry.loaded(), registry.published()])
        with pytest.raises(UnknownToy):
            registry.resolve("d-toy@1")
        seen.append("done")

    try:
        assert decoding.wait(60), "the refresh never reached version 2"
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(60)
        assert not reader.is_alive(), "a read waited for the refresh's lock"
    finally:
        release.set()
        refresher.join(60)
    assert seen == [[], {"bundled-toy": 1}, [], "done"]
    assert registry.versions("d-toy") == [1, 2, 3]


def test_reads_are_consistent_while_another_thread_refreshes(db: Database) -> None:
    """A reader checks every snapshot it sees while versions 1..20 are published and
    loaded one refresh at a time; each refresh waits until the reader has seen it."""
    registry = ToyRegistry(db)
    seen, stop, problems = [0], threading.Event(), []
    progress = threading.Condition()

    def reader() -> None:
        while not stop.is_set():
            snap = registry.snapshot
            versions = snap.versions.get("d-toy", ())
            if versions != tuple(range(1, len(versions) + 1)) or len(versions) < seen[0]:
                problems.append(f"versions {versions} after {seen[0]}")
            if any(snap.records[("d-toy", v)].value.version != v for v in versions):
                problems.append(f"records disagree with versions {versions}")
            if versions and registry.resolve("d-toy").version < len(versions):
                problems.append("resolve went back")
            registry.published(), registry.latest(), registry.loaded()
            with progress:
                seen[0] = len(versions)
                progress.notify_all()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for version in range(1, 21):
            put(db, TOYS, Toy("d-toy"))
            registry.refresh()
            with progress:
                assert progress.wait_for(lambda v=version: seen[0] >= v, 60)  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(60)
    assert problems == [] and seen[0] == 20


def test_the_poller_refreshes_every_registry(db: Database) -> None:
    registries = Registries.open(db)
    with db.write_session.begin() as session:
        publish_law(session, "d-chinchilla")
        publish_model(session, "d-throughput")
    poller = Poller(registries, interval=0.01)
    poller.start()
    try:
        assert poller.wait_for_round(0, timeout=60)
    finally:
        poller.stop()
    assert registries.laws.versions("d-chinchilla") == [1]
    assert registries.throughput.versions("d-throughput") == [1]
