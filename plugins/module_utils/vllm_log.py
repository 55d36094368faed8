"""Where a starting vLLM server is, read from its log lines (the journal of its unit).

Used by the wait_http action (progress while the health gate waits) and the startup benchmark.
The patterns match vLLM 0.8 to 0.32 (V0 and V1 engines, CPU and CUDA); an unknown line keeps
the last known phase.
"""

from __future__ import annotations

import re

# (phase, pattern), in the order a start goes through them.
PHASES = (
    ("starting", re.compile(r"vLLM API server version|Initializing a V[01] LLM engine|non-default args")),
    ("loading weights", re.compile(r"Starting to load model|Loading weights|Loading safetensors")),
    ("compiling", re.compile(r"torch\.compile|Compiling a graph|Warming up model|compilation|Dynamo bytecode")),
    ("capturing CUDA graphs", re.compile(r"Capturing CUDA graph|CUDA graph capturing|Graph capturing")),
    ("starting the API server", re.compile(r"Starting vLLM API server|Available routes|Started server process")),
    ("ready", re.compile(r"Application startup complete")),
)
_FAILED = re.compile(r"Traceback \(most recent call last\)|EngineCore failed to start|RuntimeError|ValueError|Error:")


def startup_phase(lines, last=None):
    """The latest phase the lines show (or last when they show none)."""
    phase = last
    for line in lines:
        for name, pattern in PHASES:
            if pattern.search(line):
                phase = name
    return phase


def error_lines(lines, limit=30):
    """What to show when a start failed: from the last traceback (or error line) on, else the
    last lines; at most limit lines."""
    lines = list(lines)
    starts = [i for i, line in enumerate(lines) if "Traceback (most recent call last)" in line]
    if not starts:
        starts = [i for i, line in enumerate(lines) if _FAILED.search(line)]
    begin = starts[-1] if starts else max(len(lines) - limit, 0)
    return lines[begin:][-limit:]
