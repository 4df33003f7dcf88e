"""run.py — runs every end-to-end test module (python3 tests/e2e/run.py [BUILD])."""
import importlib
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
if len(sys.argv) > 1:
    os.environ["LLF_BUILD"] = os.path.abspath(sys.argv[1])
only = sys.argv[2:]  # optional module names

import harness  # noqa: E402

names = sorted(f[:-3] for f in os.listdir(here) if f.startswith("test_") and f.endswith(".py"))
if only:
    names = [n for n in names if n in only]
mods = [importlib.import_module(n) for n in names]
sys.exit(0 if harness.run_tests(mods) else 1)
