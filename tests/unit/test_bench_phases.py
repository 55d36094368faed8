"""tests/bench/converge_bench.py's phase split: each task's wall time counted for a role."""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "lab"))
SPEC = importlib.util.spec_from_file_location("converge_bench", ROOT / "tests" / "bench" / "converge_bench.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def task(name, start, end):
    duration = {"start": f"2026-12-01T00:00:{start:02d}.000000Z", "end": f"2026-12-01T00:00:{end:02d}.000000Z"}
    return {"task": {"name": name, "duration": duration}}


def test_the_health_gate_counts_for_the_service_that_waits_for_it():
    report = {"plays": [
        {"tasks": [task("Gathering Facts", 0, 2), task("inferops.inference.model : Check the model source", 2, 3)]},
        {"tasks": [task("inferops.inference.os_packages : Install packages with apt", 3, 10),
                   task("inferops.inference.vllm_service : Restart the server", 10, 11),
                   task("Wait for /health (model loading can take minutes)", 11, 11),  # include_role: no role name
                   task("inferops.inference.inferops : Wait for the health URL", 11, 50),
                   task("inferops.inference.vllm_service : Ask for one chat completion", 50, 52)]},
    ]}
    assert bench.role_seconds(report) == {"other": 3.0, "os_packages": 7.0, "vllm_service": 42.0}


def test_cpu_seconds_from_a_containers_cgroup_v1_or_v2(tmp_path):
    v1 = tmp_path / "v1" / "cpuacct" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "cpuacct.usage").write_text("12500000000\n")
    assert bench.cgroup_cpu_seconds("abc", root=tmp_path / "v1") == 12.5
    v2 = tmp_path / "v2" / "system.slice" / "docker-abc.scope"
    v2.mkdir(parents=True)
    (v2 / "cpu.stat").write_text("usage_usec 3250000\nuser_usec 3000000\nsystem_usec 250000\n")
    assert bench.cgroup_cpu_seconds("abc", root=tmp_path / "v2") == 3.25
    assert bench.cgroup_cpu_seconds("other", root=tmp_path / "v2") is None
