import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parent / "transform"))

# Tests transform their functions afresh; tests/test_diskcache.py turns the disk cache on for
# itself, in a folder of its own.
os.environ.setdefault("SRCGRAD_CACHE", "0")
