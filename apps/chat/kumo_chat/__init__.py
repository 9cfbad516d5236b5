"""kumo.webstack's chat server (seed 004): WebSocket broadcast across servers through a Redis Stream."""

__version__ = "1.0.0"
