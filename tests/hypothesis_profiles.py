"""Hypothesis profiles for the suite, and :func:`examples`, which scales every test's example count with them.

Profiles (``HYPOTHESIS_PROFILE`` chooses; without it ``ci`` is used when ``CI`` is set, else ``mapiprobe``):

- ``mapiprobe``: the local default. Random: every run may find a new case. Pin each case it finds with
  ``@example`` beside the test.
- ``ci``: the same counts, derandomized (the seed is derived from the test itself) and without the example
  database, so one commit always gives one CI result.
- ``soak``: a long random search for new cases, run by hand
  (``HYPOTHESIS_PROFILE=soak pytest tests/protocol``):
  every count is multiplied by :data:`SOAK_FACTOR`, so each parser fuzzer written with ``examples(2000)`` runs
  100,000 examples.

Tests write ``@settings(max_examples=examples(N))`` rather than a bare number: an explicit ``max_examples``
overrides any profile, so the scaling has to happen here.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SOAK_FACTOR = 50

settings.register_profile(
    "mapiprobe",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
    print_blob=True,
)
settings.register_profile(
    "soak",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    max_examples=100 * SOAK_FACTOR,
    print_blob=True,
)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "mapiprobe")
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """The example count for a test that asks for *n* under the default profile."""
    return n * SOAK_FACTOR if PROFILE == "soak" else n
