"""tests/lab/step_times.py: the suite's table shows where each scenario's minutes go."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("step_times", ROOT / "tests" / "lab" / "step_times.py")
step_times = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(step_times)


def test_each_step_lasts_until_the_next_one_starts():
    lines = [
        "INFO     [gateway > create] Executing\n",
        "TASK [Create] ***\n",
        "INFO     [gateway > create] Executed: Successful\n",
        "INFO     [gateway > converge] Executing\n",
        "INFO     [gateway > verify] Executing Testinfra tests found in /x/tests/...\n",  # not a new step
        "INFO     [gateway > verify] Executing\n",
        "done\n",
    ]
    ticks = iter([10.0, 31.5, 250.0, 400.0])
    passed = []
    steps = step_times.timed_steps(lines, passed.append, clock=lambda: next(ticks))
    assert passed == lines  # the output itself is unchanged
    assert steps == [("create", 21.5), ("converge", 218.5), ("verify", 150.0)]


def test_no_step_no_line():
    passed = []
    assert step_times.timed_steps(["nothing here\n"], passed.append) == []
    assert passed == ["nothing here\n"]
