"""Every role documents and validates exactly the variables it defaults.

Mirrors prometheus-community/ansible's CI check: meta/argument_specs.yml must list every
variable of defaults/main.yml with the same default, and the role README must name each.
"""
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_argument_specs_match_defaults(role):
    defaults = _load(role / "defaults" / "main.yml") if (role / "defaults" / "main.yml").exists() else {}
    options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    missing = sorted(set(defaults) - set(options))
    assert not missing, f"{role.name}: defaults without argument spec: {missing}"
    for name, value in defaults.items():
        spec = options[name]
        assert "default" in spec, f"{role.name}: {name} has a default but its spec has none"
        assert spec["default"] == value, f"{role.name}: {name} default {value!r} != spec {spec['default']!r}"
    for name, spec in options.items():
        if "default" in spec:
            assert name in defaults, f"{role.name}: spec gives {name} a default that defaults/main.yml lacks"
        assert name.startswith(role.name + "_"), f"{role.name}: {name} is not prefixed with the role name"
        assert spec.get("description"), f"{role.name}: {name} has no description"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_readme_names_every_variable(role):
    readme = (role / "README.md").read_text(encoding="utf-8")
    options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    undocumented = sorted(name for name in options if f"`{name}`" not in readme)
    assert not undocumented, f"{role.name}/README.md does not document {undocumented}"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_private_variables_are_underscored(role):
    """Variables a role sets for itself (vars/) start with '_' so inventory never collides."""
    for path in (role / "vars").glob("*.yml") if (role / "vars").is_dir() else []:
        for name in _load(path):
            assert name.startswith("_"), f"{path.relative_to(ROOT)}: {name} must start with '_'"
