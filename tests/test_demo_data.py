"""The Kitakyushu demo data must stay a valid, complete office configuration."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator

import pytest

from queue_server.demo_data import demo_offices
from queue_server.office_config import LANGS, Names, Office

WARD_IDS = [
    "moji",
    "kokurakita",
    "kokuraminami",
    "wakamatsu",
    "yahatahigashi",
    "yahatanishi",
    "tobata",
]
OFFICES = demo_offices()


def _all_names(office: Office) -> Iterator[tuple[str, Names]]:
    # Address and what-to-bring are optional in the model but the demo fills
    # them in, so a missing one should fail rather than be skipped.
    assert office.address is not None, office.id
    yield f"{office.id} name", office.names
    yield f"{office.id} address", office.address
    for service in office.services:
        assert service.bring is not None, service.id
        yield f"{office.id}/{service.id} name", service.names
        yield f"{office.id}/{service.id} bring", service.bring
    for counter in office.counters:
        yield f"{office.id}/counter {counter.id}", counter.names


def _by_id(office: Office) -> str:
    return office.id


@pytest.fixture(params=OFFICES, ids=_by_id)
def office(request: pytest.FixtureRequest) -> Office:
    return request.param


def test_ward_ids_exactly() -> None:
    assert [o.id for o in OFFICES] == WARD_IDS


def test_office_round_trips_through_validation(office: Office) -> None:
    # The server stores configs as JSON, so the dump must load back unchanged.
    dumped = office.model_dump(by_alias=True)
    assert Office.model_validate(dumped) == office
    assert Office.model_validate_json(office.model_dump_json(by_alias=True)) == office


def test_counter_count(office: Office) -> None:
    assert 6 <= len(office.counters) <= 12


def test_every_service_has_a_counter(office: Office) -> None:
    served = {sid for counter in office.counters for sid in counter.services}
    assert served == {s.id for s in office.services}


def test_some_service_is_shared_by_counters(office: Office) -> None:
    tally = Tally(sid for counter in office.counters for sid in counter.services)
    assert any(n >= 2 for n in tally.values())


def test_all_names_translated(office: Office) -> None:
    for where, names in _all_names(office):
        for lang in LANGS:
            assert getattr(names, lang.replace("-", "_")), f"{where}: {lang} missing"
        assert names.en != names.ja, f"{where}: en is just the Japanese text"


def test_service_names_have_easy_japanese(office: Office) -> None:
    for service in office.services:
        assert service.names.ja_easy, service.id


def test_service_letters_unique(office: Office) -> None:
    letters = [s.letter for s in office.services]
    assert len(letters) == len(set(letters))


def test_services_identical_across_offices() -> None:
    # Ids and letters must mean the same thing city-wide.
    first = OFFICES[0].services
    for office in OFFICES[1:]:
        assert office.services == first, office.id


def test_konbini_only_for_certificates(office: Office) -> None:
    assert {s.id for s in office.services if s.konbini} == {"shomei", "zei"}
