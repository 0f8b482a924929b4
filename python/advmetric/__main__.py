"""``python -m advmetric demo``: see :mod:`advmetric.demo`."""

import sys

from .demo import main

if __name__ == "__main__":
    sys.exit(main())
