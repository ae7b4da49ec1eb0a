import uuid

from inference_core.responses import random_uuids


def test_random_uuids_are_distinct_version_4_uuids_written_as_uuid4_writes_them():
    ids = random_uuids(1000)
    parsed = [uuid.UUID(value) for value in ids]
    assert [str(value) for value in parsed] == ids  # lower-case hex, dashes 8-4-4-4-12
    assert {value.version for value in parsed} == {4}
    assert {value.variant for value in parsed} == {uuid.RFC_4122}
    assert len(set(ids)) == 1000
    assert random_uuids(0) == []
