# Copyright: (c) 2026, inferops.inference contributors
# Apache License 2.0 (see LICENSE)
"""The attributes the collection's modules share, written once."""


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    # A module that only looks (at the host or at the inputs) and changes nothing: it runs in
    # check mode as it does otherwise, and has nothing to diff. Each module adds its platform.
    INSPECT = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""
