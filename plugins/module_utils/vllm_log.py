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
    # Not bare "torch.compile" or "compilation": eager starts log "disabling torch.compile" and
    # "[compilation.py]" lines too.
    ("compiling", re.compile(r"Warming up model|Dynamo bytecode transform|Compiling a graph|torch\.compile takes"
                             r"|Directly load the compiled graph")),
    ("capturing CUDA graphs", re.compile(r"Capturing CUDA graph|CUDA graph capturing|Graph capturing")),
    ("starting the API server", re.compile(r"Starting vLLM (API )?server|Available routes|Started server process")),
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


def journal_entries(text):
    """(unix time, message) of each line of `journalctl -o short-unix` output; other lines
    (continuations, "-- No entries --") are skipped."""
    entries = []
    for line in text.splitlines():
        stamp, dummy, rest = line.partition(" ")
        try:
            when = float(stamp)
        except ValueError:
            continue
        # "<host> <identifier>[<pid>]: <message>"
        message = rest.split(": ", 1)[1] if ": " in rest else rest
        entries.append((when, message))
    return entries


def phase_times(entries, start):
    """When each startup phase first shows in the log, in seconds after start, in the order a
    start goes through them: [{"phase": ..., "at_s": ...}]. Phases the log never shows (no
    CUDA graphs on CPU, no compile in eager mode) are left out."""
    first = {}
    for when, message in entries:
        if when < start:  # the previous run's last lines
            continue
        for name, pattern in PHASES:
            if name not in first and pattern.search(message):
                first[name] = when - start
    return [{"phase": name, "at_s": round(first[name], 2)} for name, dummy in PHASES if name in first]
