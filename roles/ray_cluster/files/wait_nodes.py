# Waits until the Ray cluster at ADDRESS has WANTED live nodes, at most TIMEOUT seconds, and
# prints their number. Run by tasks/main.yml as `python -c <this file> ADDRESS WANTED TIMEOUT`.
import sys
import time

import ray

address, wanted, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + timeout
alive, error = 0, None
while True:
    try:
        if not ray.is_initialized():
            ray.init(address=address, logging_level="ERROR")
        alive, error = sum(1 for node in ray.nodes() if node["Alive"]), None
    except Exception as exc:  # pylint: disable=broad-except  # the head may still be starting
        error = exc
    if alive >= wanted:
        print(alive)
        sys.exit(0)
    if time.monotonic() >= deadline:
        sys.exit(f"{alive} of {wanted} Ray nodes alive at {address} after {timeout:.0f} s"
                 + (f" (last error: {error})" if error else ""))
    time.sleep(2)
