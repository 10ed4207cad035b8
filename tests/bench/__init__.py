"""Tests of the benchmark harness (``bench/``).

pytest imports this directory as the top-level package ``bench`` (``tests/`` has no ``__init__.py``), which would
shadow the harness package of the same name. Adding the harness directory to this package's search path makes
``import bench.stats`` and friends resolve to the real modules in-process.
"""

import pathlib

__path__.append(str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
