"""``python -m pagewise_client.cli``: the same as the ``pagewise`` command."""

import sys

from pagewise_client.cli import main

sys.exit(main())
