"""A local, stateful stand-in for the parts of Stripe's API the portal uses.

Run it with ``python -m stripe_sim``; see README.md beside this file.
"""

from __future__ import annotations

__version__ = "0.1.0"
