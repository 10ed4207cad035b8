"""daprjobs benchmarks: ``python -m bench`` (see ``bench/__main__.py`` and issue 5)."""
