"""Emulator fixes by area: each module defines apply(), called once before moto's server starts."""
