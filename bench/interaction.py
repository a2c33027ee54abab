"""Benchmarks 2 and 3: placeholders until the app's view and browser tests exist.

Each returns ``{"measured": 0}`` so BENCHMARKS.md lists it as not yet measured.
"""
from __future__ import annotations

from pathlib import Path

from .common import Bench

PENDING = {"measured": 0, "why": "not yet measured"}


def run_view(mode: str, out: Path) -> dict:
    """2. Interaction: build the network view of one Cora node (render payload), time and size."""
    return dict(PENDING)


def run_coldstart(mode: str, out: Path) -> dict:
    """3. Cold start: Streamlit app start to first drawn view in headless Chromium."""
    return dict(PENDING)


BENCHES = [
    Bench("view", "2. Interaction: view build on Cora", run_view,
          notes="Placeholder: `run_view` in `bench/interaction.py`; `bench/scale.py` has the "
                "`VIEW_BUILD` hook to time the same build at every scale size."),
    Bench("coldstart", "3. Cold start in Chromium", run_coldstart,
          notes="Placeholder: `run_coldstart` in `bench/interaction.py`."),
]
