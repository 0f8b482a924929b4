"""Count numpydoc validation failures per check over every docstring the API reference renders.

    python docs/numpydoc_report.py            # counts per check, enabled checks marked
    python docs/numpydoc_report.py PR01 SA01  # also list the objects failing these checks

``docs/conf.py`` enables the checks that every public docstring passes; this script shows what the
others would flag, so the list can grow as docstrings are fixed.
"""

from __future__ import annotations

import collections
import importlib
import inspect
import re
import sys
from pathlib import Path

from numpydoc.validate import ERROR_MSGS, validate

sys.path.insert(0, str(Path(__file__).parent))
import conf  # the enabled checks and exclusions live there

MODULES = ["aml", "reference", "dask"]
CLASSES = [
    "AML",
    "AML_Supervised",
    "GMML",
    "GMML_Supervised",
    "AML_SupervisedCV",
    "PairStatistics",
    "SolveResult",
]


def public_objects() -> list[str]:
    advmetric = importlib.import_module("advmetric")
    names = ["advmetric.__version__"]
    for cls_name in CLASSES:
        cls = getattr(advmetric, cls_name)
        names.append(f"advmetric.{cls_name}")
        for member, value in inspect.getmembers(cls):
            if member.startswith("_") or not callable(value):
                continue
            names.append(f"advmetric.{cls_name}.{member}")
    for module in MODULES:
        mod = importlib.import_module(f"advmetric.{module}")
        names += [f"advmetric.{module}.{name}" for name in mod.__all__]
    excluded = [re.compile(pattern) for pattern in conf.numpydoc_validation_exclude]
    return [name for name in names if not any(p.search(name) for p in excluded)]


def main(argv: list[str]) -> int:
    failures: dict[str, list[str]] = collections.defaultdict(list)
    names = public_objects()
    for name in names:
        for code, _message in validate(name)["errors"]:
            failures[code].append(name)
    enabled = conf.numpydoc_validation_checks
    print(f"{len(names)} docstrings checked")
    print("check  enabled  failures  objects  description")
    for code in sorted(set(ERROR_MSGS) | set(failures)):
        n = len(failures.get(code, []))
        if n == 0 and code not in enabled:
            continue
        objects = len(set(failures.get(code, [])))
        mark = "yes" if code in enabled else "no"
        print(f"{code:5}  {mark:7}  {n:8}  {objects:7}  {ERROR_MSGS.get(code, '')[:60]}")
    for code in argv:
        print(f"\n{code}:")
        for name in sorted(set(failures.get(code, []))):
            print("   ", name)
    return 1 if any(failures.get(code) for code in enabled) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
