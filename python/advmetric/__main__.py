"""``python -m advmetric demo``: see :mod:`advmetric.demo`."""

import sys

from .demo import main

sys.exit(main())
