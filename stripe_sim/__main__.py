from __future__ import annotations

import sys

from stripe_sim.cli import main

sys.exit(main())
