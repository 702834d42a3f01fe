"""Hypothesis profiles: 'ci' (default) is derandomized with a fixed number of examples so CI is
repeatable; 'dev' explores more. Choose with HYPOTHESIS_PROFILE=dev."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter):
    """`make test` says how much the op table covers (tests/op_table.py and tests/op_rows_*.py)."""
    import sys
    table = sys.modules.get("op_table")
    if table is None:
        return
    cases = getattr(sys.modules.get("test_op_table"), "CASES", ())
    try:
        import torch
        against = f"PyTorch {torch.__version__}"
    except ImportError:
        against = "not PyTorch (not installed)"
    terminalreporter.write_line(f"op table: {len(table.OPS)} rows (ops and their argument forms), {len(cases)} samples, "
                                f"checked against finite differences and {against}")
