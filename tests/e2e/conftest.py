"""Fixtures for the browser tests: a real server, a real Chromium, and where screenshots go.

Screenshots go to a temporary folder; RESNET_SCREENSHOTS=docs/screenshots writes the README's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import IN_CI, REPO
from tests.e2e.harness import chromium, serve_app


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    wanted = os.environ.get("RESNET_SCREENSHOTS")
    folder = REPO / wanted if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def checkpoint_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("checkpoints")


@pytest.fixture(scope="session")
def app_url(data_dir, checkpoint_dir):
    with serve_app(data_dir, checkpoint_dir) as server:
        yield server.url


@pytest.fixture
def fresh_app_url(data_dir, checkpoint_dir):
    """A server of its own, for a test that must not inherit another test's sessions."""
    with serve_app(data_dir, checkpoint_dir) as server:
        yield server.url


@pytest.fixture(scope="session")
def browser():
    try:
        with chromium() as launched:
            yield launched
    except FileNotFoundError as missing:
        pytest.fail(str(missing)) if IN_CI else pytest.skip(str(missing))


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
