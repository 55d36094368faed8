#!/usr/bin/env python
"""A bounded client load for the gateway tests: sends chat completions one after another
through the gateway until a stop file appears, the request budget is spent or the time is up,
and writes {sent, ok, failed, errors, stopped_by, max_gap_s, seconds} as JSON. Runs inside
the gateway's container against loopback only.

usage: load.py URL KEY_FILE RESULT STOP_FILE [MAX_REQUESTS] [MAX_SECONDS] [CONCURRENCY] [RATE]

RATE (requests per second, all workers together; 0 for as fast as the replicas answer) keeps
the load steady and leaves the lab's few cores to the replicas being restarted.
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request


def main():
    url, key_file, result, stop = sys.argv[1:5]
    max_requests = int(sys.argv[5]) if len(sys.argv) > 5 else 5000
    max_seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 900
    workers = int(sys.argv[7]) if len(sys.argv) > 7 else 2
    rate = float(sys.argv[8]) if len(sys.argv) > 8 else 0
    interval = workers / rate if rate > 0 else 0
    key = open(key_file, encoding="utf-8").read().strip()
    body = json.dumps({"model": "tiny-qwen2", "messages": [{"role": "user", "content": "hi"}],
                       "max_tokens": 4}).encode()
    counts = {"sent": 0, "ok": 0, "failed": 0, "errors": [], "stopped_by": None,
              "max_gap_s": 0.0, "started": time.time()}
    last_ok = [counts["started"]]
    lock = threading.Lock()
    deadline = time.time() + max_seconds

    def stopped():
        # Why the load ended matters: a budget or deadline hit before the caller's stop file
        # means part of what was being tested ran without load.
        reason = ("stop-file" if os.path.exists(stop) else "budget" if counts["sent"] >= max_requests
                  else "deadline" if time.time() >= deadline else None)
        if reason and not counts["stopped_by"]:
            counts["stopped_by"] = reason
        return reason

    def worker():
        next_at = time.time()
        while True:
            time.sleep(max(0.0, next_at - time.time()))
            next_at = max(next_at + interval, time.time() - interval)
            with lock:
                if stopped():
                    return
                counts["sent"] += 1
            request = urllib.request.Request(url, data=body, headers={
                "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            error = None
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    if not (response.status == 200 and json.load(response)["choices"]):
                        error = f"HTTP {response.status} without choices"
            except (urllib.error.URLError, OSError, ValueError, KeyError) as err:
                error = str(err)
            with lock:
                now = time.time()
                if error:
                    counts["failed"] += 1
                    counts["errors"].append(f"{time.strftime('%H:%M:%S')} {error}")
                else:
                    counts["ok"] += 1
                    # The longest stretch without a completed request shows stalls that
                    # retries hid: traffic must keep flowing, not just eventually succeed.
                    counts["max_gap_s"] = round(max(counts["max_gap_s"], now - last_ok[0]), 2)
                    last_ok[0] = now
                write_result(result, counts)

    threads = [threading.Thread(target=worker) for dummy in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    write_result(result, dict(counts, done=True, seconds=round(time.time() - counts["started"], 1)))


def write_result(result, counts):
    """Replace the result file whole: the tests read it while the load runs and as it ends, and a
    file truncated for writing in place reads as empty (seen: JSONDecodeError in stop_load)."""
    with open(result + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(counts, handle)
    os.replace(result + ".tmp", result)


if __name__ == "__main__":
    main()
