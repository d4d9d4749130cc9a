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


def rule_file_header(rule_set_id: str, *, code: str, effective_from: str, total: int, threshold: int,
                     kind: str = "factory", title: str = "规则") -> str:
    """The top of a small rule file for a test (everything before its requirements and sections)."""
    return f"""
id: {rule_set_id}
version: "1"
kind: {kind}
title: {{zh: {title}, en: {rule_set_id}}}
standard: {{code: {code}, title: {{zh: 标准, en: Standard}}}}
effective_from: {effective_from}
total: {total}
pass: {{threshold: {threshold}}}
"""
