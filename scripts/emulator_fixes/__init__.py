"""The embedded emulator's fixes: the places where moto answers unlike AWS, one module per AWS service.

Each fix is a function marked with @fix in the module of the AWS service whose answer it
corrects (acm.py, backup.py, cloudfront.py, ec2.py, ecs.py, elasticache.py, elbv2.py, rds.py, route53.py,
route53domains.py, s3.py). Its docstring says what moto does, what AWS does, and why a correct playbook would look
wrong against the emulator without it; none of them changes what a real account would do. A fix
changes moto only through the Patch it is given, so a test can apply one fix alone and take it
back (tests/unit/scripts/test_emulator_fixes.py: one test per fix, on in-process moto).

The fixes reach into moto's internals, which change between releases without notice. They were
written for, and are tested on, the moto versions in MOTO_VERSIONS (requirements-dev.txt pins one of
them); on any other version scripts/emulator.py refuses to start (check_moto_version) unless
WEBSTACK_EMULATOR_ALLOW_MOTO=1 is set, when it only warns. This module imports no moto, so the
check runs before anything of moto's is loaded.

The test hooks (call log, slow resources) are not fixes: they live in scripts/emulator_hooks.py.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

# The moto versions the fixes were written for. Moving to another: change requirements-dev.txt, run
# tests/unit/scripts/test_emulator_fixes.py (a fix whose "moto differs" test fails is no longer
# needed), then the integration tests, and list the new version here.
MOTO_VERSIONS = ("5.2.5",)

# Set to 1 to start the emulator on another moto version anyway (with a warning).
ALLOW_ENV = "WEBSTACK_EMULATOR_ALLOW_MOTO"

# One module per AWS service, applied in this order.
SERVICES = (
    "acm",
    "backup",
    "cloudfront",
    "ec2",
    "ecs",
    "elasticache",
    "elbv2",
    "rds",
    "route53",
    "route53domains",
    "s3",
)

_MISSING = object()


class MotoVersionError(RuntimeError):
    """The installed moto is not one the fixes were written for (the message says what to do)."""


def installed_moto_version() -> str | None:
    try:
        return importlib.metadata.version("moto")
    except importlib.metadata.PackageNotFoundError:
        return None


def check_moto_version(found: str | None, environ: MutableMapping[str, str] | None = None) -> str | None:
    """Compare the moto version found (installed_moto_version()) with MOTO_VERSIONS.

    Returns None when it is one of them, a warning when it is not but ALLOW_ENV is 1 in environ
    (default os.environ), and raises MotoVersionError otherwise: which version was found, which
    is needed, how to fix it."""
    environ = os.environ if environ is None else environ
    if found in MOTO_VERSIONS:
        return None
    needed = " or ".join(MOTO_VERSIONS)
    what = f"moto {found} is installed" if found else "moto is not installed"
    what += f" (for {sys.executable})"
    if environ.get(ALLOW_ENV) == "1":
        return (
            f"emulator: WARNING: {what}, but its fixes (scripts/emulator_fixes) were written for moto "
            f"{needed}; starting anyway because {ALLOW_ENV}=1. Where moto's internals changed, a fix may "
            "fail or silently do nothing, and a correct playbook may look wrong."
        )
    raise MotoVersionError(
        f"emulator: {what}, but its fixes (scripts/emulator_fixes) were written for moto {needed}, "
        "and reach into moto's internals, which change between releases.\n"
        "  Fix: `make venv` (installs requirements-dev.txt into .venv when the file changed), or directly "
        f"`{sys.executable} -m pip install 'moto[server]=={MOTO_VERSIONS[-1]}'`.\n"
        f"  To try this moto anyway: {ALLOW_ENV}=1 (the emulator then warns and starts)."
    )


class Patch:
    """Records every change a fix makes to moto, so that undo() restores moto as it was."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def setattr(self, owner: Any, name: str, value: Any) -> None:
        """owner.name = value (a class attribute: a method, a property)."""
        before = owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name, _MISSING)

        def restore() -> None:
            if before is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, before)

        setattr(owner, name, value)
        self._undo.append(restore)

    def setitem(self, mapping: MutableMapping, key: Any, value: Any) -> None:
        before = mapping.get(key, _MISSING)

        def restore() -> None:
            if before is _MISSING:
                mapping.pop(key, None)
            else:
                mapping[key] = before

        mapping[key] = value
        self._undo.append(restore)

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()


@dataclass(frozen=True)
class Fix:
    service: str
    name: str
    apply: Callable[[Patch], None]

    @property
    def doc(self) -> str:
        return self.apply.__doc__ or ""


def fix(function: Callable[[Patch], None]) -> Callable[[Patch], None]:
    """Mark a function of a service module as a fix (it takes a Patch)."""
    function.webstack_fix = True  # type: ignore[attr-defined]
    return function


def fixes(service: str | None = None) -> list[Fix]:
    """Every fix, by service in SERVICES order and in the order its module defines them."""
    found = []
    for name in SERVICES if service is None else (service,):
        module = importlib.import_module(f"{__name__}.{name}")
        for value in vars(module).values():
            if callable(value) and getattr(value, "webstack_fix", False) and value.__module__ == module.__name__:
                found.append(Fix(service=name, name=value.__name__, apply=value))
    return found


def apply_all() -> Patch:
    """Apply every fix (the emulator does this once, before moto's server starts)."""
    patch = Patch()
    for each in fixes():
        each.apply(patch)
    return patch


@contextlib.contextmanager
def applied(*functions: Callable[[Patch], None]) -> Iterator[Patch]:
    """Apply the given fixes for the duration of a `with` block, then restore moto."""
    patch = Patch()
    try:
        for function in functions:
            function(patch)
        yield patch
    finally:
        patch.undo()
