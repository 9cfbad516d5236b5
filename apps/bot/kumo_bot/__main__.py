"""python -m kumo_bot: run the bot (configured by BOT_* environment variables)."""

import sys

from .app import main

sys.exit(main())
