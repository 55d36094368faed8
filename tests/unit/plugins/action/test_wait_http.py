from ansible_collections.inferops.inference.plugins.action.wait_http import progress_line


def test_progress_line_reads_as_progress():
    line = progress_line("replica-a", "http://127.0.0.1:8000/health", 40.7, "loading weights")
    assert line == "replica-a: waiting for http://127.0.0.1:8000/health: 40 s, loading weights"
    assert "FAILED" not in line
    assert progress_line("h", "u", 5, None) == "h: waiting for u: 5 s"
