"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates an empty virtualenv per sanity test and runs get-pip.py in it, fetched
from a host this machine cannot reach. This stand-in does the same job with the pip wheel
bundled in Python (ensurepip), then installs the versions ansible-test asked for from the
package index pip is configured with.
"""

import ensurepip
import os
import subprocess
import sys

# ensurepip switches pip's configuration off for this process (PIP_CONFIG_FILE=/dev/null):
# keep the environment as it was, so the install below sees the machine's pip settings.
environment = dict(os.environ)
ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args], env=environment))
