"""kumo bot: a LINE Messaging API webhook (seed 002) that answers text messages."""
