"""The docs promise behaviour by naming the test that checks it: every test they name exists."""

import re

import pytest

from tests.conftest import REPO

DOCS = ["README.md", "docs/reliability.md", "docs/benchmarks.md"]


@pytest.mark.parametrize("doc", DOCS)
def test_every_test_a_doc_names_exists(doc):
    named = set(re.findall(r"`(test_\w+)`", (REPO / doc).read_text()))
    defined = {
        match
        for path in (REPO / "tests").rglob("test_*.py")
        for match in re.findall(r"def (test_\w+)", path.read_text())
    }
    assert named - defined == set()
