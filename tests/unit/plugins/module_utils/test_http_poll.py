import http.server
import threading
import urllib.error
import urllib.request

import pytest

from ansible_collections.inferops.inference.plugins.module_utils.http_poll import poll

DRAINED = r"^vllm:num_requests_(?:running|waiting)\{[^}]*\} ([0-9.]+)$"


def answers(*replies):
    replies = list(replies)
    return lambda: replies.pop(0) if len(replies) > 1 else replies[0]


def test_returns_at_the_first_good_answer(clock):
    fetch = answers((-1, None, "Connection refused"), (503, None, "Service Unavailable"), (200, None, "OK"))
    result = poll(fetch, [200], window=5, interval=0.5, clock=clock, sleep=clock.sleep)
    assert result == {"done": True, "status": 200, "msg": "OK", "left": None, "polls": 3}
    assert clock.now == 1.0


def test_gives_up_after_the_window_with_the_last_answer(clock):
    result = poll(answers((-1, None, "Connection refused")), [200], window=2, interval=0.5, clock=clock,
                  sleep=clock.sleep)
    assert result["done"] is False
    assert result["status"] == -1 and result["msg"] == "Connection refused"
    assert result["polls"] == 5
    assert clock.now <= 2


def test_zero_sum_waits_for_the_numbers_to_add_up_to_zero(clock):
    busy = 'vllm:num_requests_running{engine="0"} 2.0\nvllm:num_requests_waiting{engine="0"} 1.0\n'
    idle = busy.replace("2.0", "0.0").replace("1.0", "0.0")
    fetch = answers((200, busy, "OK"), (200, idle, "OK"))
    assert poll(fetch, [200], 5, 1, DRAINED, clock=clock, sleep=clock.sleep)["done"] is True
    result = poll(answers((200, busy, "OK")), [200], 2, 1, DRAINED, clock=clock, sleep=clock.sleep)
    assert result["done"] is False and result["left"] == 3.0


def test_zero_window_sends_one_request(clock):
    assert poll(answers((503, None, "")), [200], 0, 0.5, clock=clock, sleep=clock.sleep)["polls"] == 1


@pytest.fixture
def server_up_after_three_requests():
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            seen.append(self.path)
            self.send_response(200 if len(seen) >= 3 else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health", seen
    server.shutdown()


def test_a_real_server_is_seen_within_the_interval(server_up_after_three_requests):
    url, seen = server_up_after_three_requests

    def fetch():
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, None, "OK"
        except urllib.error.HTTPError as error:
            return error.code, None, str(error)

    result = poll(fetch, [200], window=10, interval=0.05)
    assert result["done"] is True and result["polls"] == 3 and len(seen) == 3
