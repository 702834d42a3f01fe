"""Hypothesis profiles: 'ci' (default) is derandomized with a fixed number of examples so CI is
repeatable; 'dev' explores more. Choose with HYPOTHESIS_PROFILE=dev."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
