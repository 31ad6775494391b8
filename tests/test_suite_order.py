"""The files ``make test`` starts first still exist (a renamed one would silently lose its place)."""

from pathlib import Path

from tests.conftest import SLOWEST_FILES


def test_every_file_started_first_exists():
    tests = Path(__file__).parent
    assert [name for name in SLOWEST_FILES if not (tests / name).is_file()] == []
