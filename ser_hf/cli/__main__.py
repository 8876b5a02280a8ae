"""``python -m ser_hf.cli``: the same as the ``ser-hf`` command."""

import sys

from . import main

sys.exit(main())
