"""Stand-in for ansible-test's pip bootstrap script (get-pip-<version>.py).

ansible-test creates an empty virtual environment for each sanity test and runs this script
in it to install pip, at the version ansible-test pins, before it installs the test's pinned
requirements with that pip. The script it would download comes from a host that is not
reachable from the lab or CI, so tests/sanity/run.sh places this one in ansible-test's cache
instead, with get-pip-uv.json beside it: this installs the same pip release from PyPI with uv
into the environment of the interpreter running it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys


def main():
    """Install the requested packages (pip==X) into this interpreter's environment."""
    # ansible-test passes: --disable-pip-version-check pip==X --no-setuptools --no-wheel.
    # uv installs exactly the packages named, so the options have nothing left to do.
    packages = [arg for arg in sys.argv[1:] if not arg.startswith('-')]
    # ansible-test runs this with a cleaned environment (PATH and HOME only), hence the file:
    # uv's path and the variables it needs from the caller's environment (cache, TLS, proxy).
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'get-pip-uv.json'), encoding='utf-8') as handle:
        uv = json.load(handle)
    env = dict(os.environ, **uv['env'])
    command = [uv['uv'], 'pip', 'install', '--quiet', '--python', sys.executable] + packages
    sys.exit(subprocess.call(command, env=env))


if __name__ == '__main__':
    main()
