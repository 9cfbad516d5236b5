"""The embedded AWS emulator: moto's server, with fixes where moto answers unlike AWS.

    python scripts/emulator.py -H 127.0.0.1 -p PORT    moto's server (its arguments), fixed
    python scripts/emulator.py --check-moto            only check the moto version, exit 0 or 1

Started by scripts/emulator.sh (which also waits for health and stops it) and by the
integration tests. The fixes, one module per AWS service, are in scripts/emulator_fixes; the
test hooks (call log, slow resources) in scripts/emulator_hooks.py; the fault mode (throttling, 5xx,
read-after-write lag; off unless WEBSTACK_EMULATOR_FAULT_* is set) in scripts/emulator_faults.py.

The fixes were written for the moto versions in emulator_fixes.MOTO_VERSIONS: on any other the
emulator refuses to start (exit 1, the message says which version it found, which it needs and
how to install it) unless WEBSTACK_EMULATOR_ALLOW_MOTO=1 is set, when it warns and starts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator_fixes import MotoVersionError, check_moto_version, installed_moto_version  # noqa: E402


def check() -> None:
    """Exit 1 with the guard's message on a moto the fixes were not written for (or warn)."""
    try:
        warning = check_moto_version(installed_moto_version())
    except MotoVersionError as error:
        print(error, file=sys.stderr, flush=True)
        sys.exit(1)
    if warning:
        print(warning, file=sys.stderr, flush=True)


if __name__ == "__main__":
    check()
    if sys.argv[1:] == ["--check-moto"]:
        sys.exit(0)
    # AWS's managed policies exist in every account (AmazonSSMManagedInstanceCore, which the compute
    # role attaches for Session Manager): moto loads them only when asked (0.4 s).
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    # Only now import moto: on another version its internals may not even import.
    import emulator_faults
    import emulator_hooks
    from emulator_fixes import apply_all
    from moto.server import main

    apply_all()
    emulator_hooks.install_test_hooks()
    emulator_faults.install()
    main(sys.argv[1:])
