"""The bounded loop of the host-side probes (http_poll, job_poll): look, and look again every
`interval` seconds until the answer is final or `window` seconds passed, so that a waiting
action makes one round trip per window instead of one per look."""

from __future__ import annotations

import time


def within_window(look, final, window, interval, clock=time.monotonic, sleep=time.sleep):
    """Call look() until final(answer) or until window seconds passed; a zero interval looks
    once (it would spin). Returns (the last answer, the number of looks)."""
    deadline = clock() + window
    looks = 0
    while True:
        answer = look()
        looks += 1
        if final(answer) or interval <= 0 or clock() + interval > deadline:
            return answer, looks
        sleep(interval)
