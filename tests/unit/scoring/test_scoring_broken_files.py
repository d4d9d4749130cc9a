"""A wrong rule file is refused with a message that says exactly where it is wrong.

Each file in ``broken/`` holds one fault and says on its first line what the loader must report:
``# expect: <line>: <message>``.
"""

import re
from pathlib import Path

import pytest

from certify.scoring import RuleFileError, load
from tests.unit.scoring.conftest import BROKEN

FIXTURES = sorted(BROKEN.glob("*.yaml"))


def expectation(path: Path) -> tuple[int, str]:
    first = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
    match = re.fullmatch(r"# expect: (\d+): (.+)", first)
    assert match, f"{path.name} does not start with '# expect: <line>: <message>'"
    return int(match[1]), match[2]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_a_broken_file_is_refused_naming_file_line_and_key(path):
    line, message = expectation(path)
    with pytest.raises(RuleFileError) as caught:
        load(path)
    (problem,) = caught.value.problems
    assert problem.file == str(path)
    assert problem.line == line
    assert message in str(problem)
    assert str(problem).startswith(f"{path}:{line}: ")


def test_a_missing_file_is_refused():
    with pytest.raises(RuleFileError, match="cannot read the file"):
        load(BROKEN / "no-such-file.yaml")


def test_every_fault_in_a_file_is_listed(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text('id: "a b"\nversion: 1\nkind: fabric\n', encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load(path)
    found = [str(problem) for problem in caught.value.problems]
    for fragment in (":1: missing keys", ":1: id: must be an identifier", ":2: version: must be a text", ":3: kind: must be one of"):
        assert any(fragment in line for line in found), (fragment, found)
