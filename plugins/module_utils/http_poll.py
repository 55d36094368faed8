"""Poll a URL until it answers as wanted, for a bounded window (the http_poll module's loop).

The wait_http action used to send one `uri` request per round trip and then sleep `delay`
seconds on the controller: a server that came up just after a request was seen up to a whole
round trip plus `delay` later (about 6 s with the default 5). Polling on the host, every
`interval` seconds within a window, sees it within `interval`, with one round trip per window.
"""

from __future__ import annotations

import re
import time

from ansible_collections.inferops.inference.plugins.module_utils.window import within_window


def sum_of_matches(pattern, content):
    """The sum of the numbers the pattern's group captures in content; None when nothing matches."""
    found = re.findall(pattern, content or "", re.MULTILINE)
    return sum(float(value) for value in found) if found else None


def poll(fetch, codes, window, interval, zero_sum=None, clock=time.monotonic, sleep=time.sleep):
    """Call fetch() -> (status, body, msg) until status is one of codes (and, with zero_sum, the
    numbers it captures in body add up to 0 or it matches nothing), or until window seconds
    passed. Returns {done, status, msg, left, polls}: the last answer's."""
    def look():
        status, body, msg = fetch()
        left = sum_of_matches(zero_sum, body) if zero_sum and status in codes else None
        return {"done": status in codes and not left, "status": status, "msg": msg, "left": left}
    answer, polls = within_window(look, lambda a: a["done"], window, interval, clock, sleep)
    return {**answer, "polls": polls}
