"""`python -m lrkd` is the same as the `lrkd` command."""

import sys

from lrkd.cli import main

sys.exit(main())
