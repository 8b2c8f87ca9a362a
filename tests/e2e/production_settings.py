"""The production settings (`portal.settings`), with collected static files in the test
run's temporary folder instead of the working tree's `staticfiles/`.

So a browser-suite run never writes into the checkout, and two runs at once (two people,
or `make test` next to `make e2e`) never collect into the same folder. Everything else,
DEBUG=false, WhiteNoise with the compressed manifest storage, the CSP, is portal.settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from portal.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["E2E_STATIC_ROOT"])
