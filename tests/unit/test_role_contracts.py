"""Roles meet only through named contracts (DESIGN.md, "Role contracts").

- a role's private variables (`_<role>_...`) are read and set inside that role only;
- no role includes a sibling's tasks: shared steps live in the internal role `inferops`;
- every `tasks_from` entry point used from outside its role has an argument spec;
- the internal role's entry points refuse callers from outside the collection;
- what a role publishes (non-private facts it sets) is named in its README and its spec.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
SCANNED = ("roles", "playbooks", "molecule", "inventories", "tests/lab", "tests/bench", "tests/galaxy")
SUFFIXES = {".yml", ".yaml", ".j2", ".py", ".sh", ".cfg"}


def _private_prefix(role: str) -> str:
    return "_" + role.lstrip("_") + "_"


def _files():
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and path.suffix in SUFFIXES and ".molecule" not in path.parts:
                yield path


def _owner(path: Path) -> str | None:
    rel = path.relative_to(ROOT).parts
    return rel[1] if rel[0] == "roles" else None


def find_crossings(files, owner_of):
    """(file, line, variable) for every private variable used outside its role."""
    pattern = re.compile(
        r"(?<![\w.])(" + "|".join(re.escape(_private_prefix(r)) for r in ROLES) + r")[a-z0-9_]*[a-z0-9](?![\w.]*\.ya?ml)"
    )
    prefix_role = {_private_prefix(r): r for r in ROLES}
    crossings = []
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in pattern.finditer(line):
                if owner_of(path) != prefix_role[match.group(1)]:
                    crossings.append((str(path), number, match.group(0)))
    return crossings


def test_no_private_variable_crosses_a_role_boundary():
    assert find_crossings(_files(), _owner) == []


def test_the_crossing_check_catches_a_crossing(tmp_path, monkeypatch):
    # The check itself must fail on a playbook that reads another role's private variable.
    playbook = ROOT / "playbooks" / "x.yml"
    fake = tmp_path / "x.yml"
    fake.write_text("- hosts: all\n  tasks:\n    - debug: {var: _vllm_service_started_now}\n")
    crossings = find_crossings([fake], lambda path: None)
    assert crossings and crossings[0][2] == "_vllm_service_started_now"
    assert not playbook.exists()


def _tasks(data):
    for task in data or []:
        if not isinstance(task, dict):
            continue
        for key in ("block", "rescue", "always"):
            if key in task:
                yield from _tasks(task[key])
        yield task


def _includes(path: Path):
    """(module, role, tasks_from) of every include_role/import_role in a tasks or play file."""
    data = yaml.safe_load(path.read_text())
    plays = data if isinstance(data, list) else []
    tasks = []
    for item in plays:
        if isinstance(item, dict) and ("hosts" in item or "import_playbook" in item):
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                tasks.extend(_tasks(item.get(key)))
        else:
            tasks.extend(_tasks([item]))
    for task in tasks:
        for module in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
            if module in task and isinstance(task[module], dict):
                args = task[module]
                yield module, args.get("name", ""), args.get("tasks_from", "main")


def _yaml_files(*tops):
    for top in tops:
        yield from sorted((ROOT / top).rglob("*.yml"))


@pytest.mark.parametrize("role", ROLES)
def test_roles_include_only_the_internal_role(role):
    for path in _yaml_files(f"roles/{role}/tasks", f"roles/{role}/handlers"):
        for name in (include[1] for include in _includes(path)):
            assert name in ("inferops.inference.inferops", f"inferops.inference.{role}"), (
                f"{path.relative_to(ROOT)} includes {name}: shared steps belong in the internal role inferops"
            )
    meta = yaml.safe_load((ROOT / "roles" / role / "meta" / "main.yml").read_text())
    for dep in meta.get("dependencies") or []:
        assert (dep["role"] if isinstance(dep, dict) else dep) == "inferops.inference.inferops"


def _entry_points(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return specs["argument_specs"]


def test_every_entry_point_used_from_outside_has_a_spec():
    used = set()
    for path in _yaml_files("roles", "playbooks", "molecule"):
        for name, tasks_from in (include[1:] for include in _includes(path)):
            # Templated names (playbooks/_validate.yml loops over roles) are the validate entry point.
            role = name.split(".")[-1]
            roles = [r for r in ROLES if r != "inferops"] if "{{" in role else [role]
            for target in roles:
                if _owner(path) != target:
                    used.add((target, Path(tasks_from).stem))
    assert ("inferops", "rotation") in used and ("vllm_service", "restart") in used
    missing = sorted((role, entry) for role, entry in used if entry not in _entry_points(role))
    assert missing == []


def test_internal_entry_points_refuse_outside_callers():
    specs = _entry_points("inferops")
    for entry in specs:
        if entry == "main":
            continue
        text = (ROOT / "roles" / "inferops" / "tasks" / f"{entry}.yml").read_text()
        assert "import_tasks: guard.yml" in text, entry
    guard = (ROOT / "roles" / "inferops" / "tasks" / "guard.yml").read_text()
    assert "ansible_parent_role_names" in guard


def _published(role):
    facts = set()
    inputs = set(_entry_points(role)["main"].get("options") or {})
    for path in _yaml_files(f"roles/{role}/tasks"):
        for task in _tasks(yaml.safe_load(path.read_text())):
            args = task.get("ansible.builtin.set_fact")
            if isinstance(args, dict):
                facts.update(k for k in args if not k.startswith("_") and k not in ("cacheable",))
    return sorted(facts - inputs)


@pytest.mark.parametrize("role", ROLES)
def test_published_outputs_are_documented(role):
    published = _published(role)
    readme = (ROOT / "roles" / role / "README.md").read_text()
    spec = yaml.safe_dump(_entry_points(role)["main"])
    for fact in published:
        assert f"`{fact}`" in readme, f"{role} publishes {fact}: list it in its README"
        assert fact in spec, f"{role} publishes {fact}: name it in the main entry point's description"
