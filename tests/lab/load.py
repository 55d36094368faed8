#!/usr/bin/env python3
"""A bounded client load for the gateway tests: sends chat completions one after another
through the gateway until a stop file appears, the request budget is spent or the time is up,
and writes {sent, ok, failed, errors} as JSON. Runs inside the gateway's container against
loopback only.

usage: load.py URL KEY_FILE RESULT STOP_FILE [MAX_REQUESTS] [MAX_SECONDS] [CONCURRENCY]
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
    key = open(key_file, encoding="utf-8").read().strip()
    body = json.dumps({"model": "tiny-qwen2", "messages": [{"role": "user", "content": "hi"}],
                       "max_tokens": 4}).encode()
    counts = {"sent": 0, "ok": 0, "failed": 0, "errors": []}
    lock = threading.Lock()
    deadline = time.time() + max_seconds

    def worker():
        while time.time() < deadline and not os.path.exists(stop):
            with lock:
                if counts["sent"] >= max_requests:
                    return
                counts["sent"] += 1
            request = urllib.request.Request(url, data=body, headers={
                "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    ok = response.status == 200 and json.load(response)["choices"]
            except (urllib.error.URLError, OSError, ValueError, KeyError) as err:
                ok, error = False, f"{time.strftime('%H:%M:%S')} {err}"
            with lock:
                if ok:
                    counts["ok"] += 1
                else:
                    counts["failed"] += 1
                    counts["errors"].append(error)
            with open(result + ".tmp", "w", encoding="utf-8") as handle:
                with lock:
                    json.dump(counts, handle)
            os.replace(result + ".tmp", result)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(result, "w", encoding="utf-8") as handle:
        json.dump(dict(counts, done=True), handle)


if __name__ == "__main__":
    main()
