from ansible_collections.inferops.inference.plugins.action.wait_http import progress_line
from ansible_collections.inferops.inference.plugins.module_utils.http_poll import sum_of_matches


def test_progress_line_reads_as_progress():
    line = progress_line("replica-a", "http://127.0.0.1:8000/health", 40.7, "loading weights")
    assert line == "replica-a: waiting for http://127.0.0.1:8000/health: 40 s, loading weights"
    assert "FAILED" not in line
    assert progress_line("h", "u", 5, None) == "h: waiting for u: 5 s"


METRICS = """# HELP vllm:num_requests_running Number of requests in model execution batches.
vllm:num_requests_running{engine="0",model_name="tiny"} 2.0
vllm:num_requests_waiting{engine="0",model_name="tiny"} 1.0
vllm:num_requests_waiting_by_reason{engine="0",reason="capacity"} 5.0
"""
DRAINED = r"^vllm:num_requests_(?:running|waiting)\{[^}]*\} ([0-9.]+)$"


def test_sum_of_matches_adds_the_captured_samples_only():
    assert sum_of_matches(DRAINED, METRICS) == 3.0
    assert sum_of_matches(DRAINED, METRICS.replace("} 2.0", "} 0.0").replace("} 1.0", "} 0.0")) == 0


def test_sum_of_matches_is_none_without_samples():
    assert sum_of_matches(DRAINED, "") is None
    assert sum_of_matches(DRAINED, "<html>502 Bad Gateway</html>") is None
