"""python -m kumo_chat: run the chat server (configured by CHAT_* environment variables)."""

import sys

from .server import main

sys.exit(main())
