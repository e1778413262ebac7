"""Without a browser the browser tests skip locally and fail in CI (CI=true): CI must run
them."""

from __future__ import annotations

import pytest

from .conftest import _unavailable


def test_missing_chromium_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        _unavailable("Chromium is not installed")


def test_missing_chromium_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        _unavailable("Chromium is not installed")
