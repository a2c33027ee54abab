"""A closed tab's trainer is released on a real server (bench/release.py in small: 2 tabs, 2 epochs).

Streamlit drops the closed sessions after a 2 s TTL; gatviz's janitor clears them, their
trainers are finalised and the heap is trimmed. Slow (about 45 s); CI runs it. Only the
server's log and RSS are checked, no timing.
"""
import os
import shutil

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("CI"),
                                 reason="chromium not installed: apt-get install -y chromium")]


def test_closed_tabs_release_their_trainers(monkeypatch):
    monkeypatch.delenv("GATVIZ_NO_RELEASE", raising=False)
    monkeypatch.delenv("GATVIZ_NO_TRIM", raising=False)
    from bench import release
    figures = release.measure(tabs=2, epochs=2, ttl=2, settle=4)
    print(f"\nrelease: {figures}")
    # the warm-up tab's trainer and both tabs' trainers were finalised and released
    assert figures["trainers_finalised"] >= 3 and figures["release_lines"] >= 1
    assert figures["after_close_mb"] < figures["peak_mb"]
