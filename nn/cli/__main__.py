"""``python -m nn.cli``: the `chainrule` command."""

import sys

from .main import main

sys.exit(main())
