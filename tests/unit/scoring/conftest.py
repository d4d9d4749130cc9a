"""Fixtures for the engine tests: the shipped rule files, loaded once per session."""

from pathlib import Path

import pytest

from certify.scoring import load

CRITERIA = Path(__file__).resolve().parents[3] / "criteria"
BROKEN = Path(__file__).resolve().parent / "broken"


def shipped_files() -> list[Path]:
    """Every rule file shipped in ``criteria/``."""
    return sorted(CRITERIA.glob("*.yaml"))


@pytest.fixture(scope="session")
def rule_sets():
    """The shipped rule sets by id."""
    return {rs.id: rs for rs in (load(path) for path in shipped_files())}
