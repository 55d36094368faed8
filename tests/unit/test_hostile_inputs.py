"""Hostile values for every string option of every role entry point, derived from the
argument specs so that the test grows with the roles.

Each value must either be refused by the role's validate phase (the check_inputs rules in
tasks/validate.yml, run here through the same code) with a message naming the option, or, for
options that are legitimately free text, come out of every template it reaches as exactly one
token, checked with systemd's own parser (`systemd-analyze verify`) and an unquoting of the
ExecStart/Environment lines.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.inferops.inference.plugins.module_utils.inputs import check, normalise_rule

ROOT = Path(__file__).resolve().parents[2]
# The internal role (inferops) is left out: its entry points take values its callers checked,
# and its shared defaults reach hosts only through the public roles' variables, which their
# validate entry points check (inferops_prefix -> vllm_install_prefix, model_tools_prefix; the
# service account -> vllm_service_user/ray_cluster_user; inferops_vllm_python -> *_python).
ROLES = sorted(p for p in (ROOT / "roles").iterdir()
               if (p / "meta" / "argument_specs.yml").exists() and p.name != "inferops")
SENTINEL = "ZQX"
HOSTILE = {
    "newline": SENTINEL + "a\nExecStartPre=/bin/sh -c id",
    "single_quote": SENTINEL + "a'b",
    "double_quote": SENTINEL + 'a" "b',
    "semicolon": SENTINEL + "a;id",
    "subshell": SENTINEL + "$(id)",
    "backtick": SENTINEL + "`id`",
    "dotdot": "../" + SENTINEL,
    "slash": SENTINEL + "a/b",
    "leading_dash": "-" + SENTINEL + "x",
    "nul": SENTINEL + "a\x00b",
    "long": SENTINEL + "a" * 10000,
    "non_ascii": SENTINEL + "模型ü",
    "specifier": SENTINEL + "%h$HOME",
}
# Kinds that accept some of the values above: free text, and bearer tokens (RFC 6750 allows
# '/', '.', '-'); whatever they accept must render as one token wherever it goes.
FREE_TEXT_KINDS = {"text", "arg", "pattern", "model_ref", "revision", "repo_id", "token"}


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _rules(role):
    """{variable: rule} from every check_inputs task of the role's validate entry point."""
    rules = {}
    for task in _load(role / "tasks" / "validate.yml") or []:
        args = task.get("inferops.inference.check_inputs")
        if args:
            rules.update({name: normalise_rule(rule) for name, rule in args["inputs"].items()})
    return rules


def _string_options(role):
    """(entry point, option, spec) for every option whose value is text: str, path, raw with a
    text default, list of str, dict; options restricted by `choices` are checked by Ansible."""
    specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]
    for entry, spec in specs.items():
        for name, option in (spec.get("options") or {}).items():
            kind = option.get("type", "str")
            if "choices" in option or kind in ("bool", "int", "float"):
                continue
            if kind == "list" and option.get("elements", "str") not in ("str", "path"):
                continue
            if kind == "raw" and not isinstance(option.get("default"), str):
                continue
            yield entry, name, option


CASES = [(role.name, entry, name, option) for role in ROLES for entry, name, option in _string_options(role)]


def _as_option_value(option, value):
    kind = option.get("type", "str")
    if kind == "list":
        return [value]
    if kind == "dict":
        return {"INFEROPS_TEST": value}
    return value


def test_every_role_has_a_validate_entry_point():
    for role in ROLES:
        specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]
        assert "validate" in specs, f"{role.name}: no validate entry point in meta/argument_specs.yml"
        assert (role / "tasks" / "validate.yml").exists(), f"{role.name}: no tasks/validate.yml"


@pytest.mark.parametrize("role,entry,name,option", CASES, ids=[f"{c[0]}:{c[1]}:{c[2]}" for c in CASES])
def test_every_text_option_has_a_rule(role, entry, name, option):
    rules = _rules(ROOT / "roles" / role)
    assert name in rules, (f"{role}: {name} (entry point {entry}) is text but tasks/validate.yml gives it no kind "
                           "in inferops.inference.check_inputs")


def _accepted():
    """(role, option, label, value) for hostile values a rule accepts: free text to render."""
    accepted = []
    for role, entry, name, option in CASES:
        if entry != "main":
            continue
        rule = _rules(ROOT / "roles" / role).get(name)
        if rule is None:
            continue
        for label, raw in HOSTILE.items():
            value = _as_option_value(option, raw)
            if check(name, value, rule) is None:
                accepted.append((role, name, label, value, rule))
    return accepted


@pytest.mark.parametrize("role,entry,name,option", CASES, ids=[f"{c[0]}:{c[1]}:{c[2]}" for c in CASES])
@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_hostile_value_is_refused_naming_the_option_or_is_free_text(role, entry, name, option, label):
    rule = _rules(ROOT / "roles" / role).get(name)
    if rule is None:
        pytest.skip("no rule (reported by test_every_text_option_has_a_rule)")
    value = _as_option_value(option, HOSTILE[label])
    problem = check(name, value, rule)
    if problem is None:
        assert rule["kind"] in FREE_TEXT_KINDS, f"{name} ({rule['kind']}) accepted {label}: {value!r}"
        assert label not in ("newline", "nul", "long"), f"{name} accepted {label}"
    else:
        assert name in problem, problem
        if rule.get("secret"):
            assert SENTINEL not in problem, f"{name} is secret but the message shows it: {problem}"


INT_CASES = [(role.name, name) for role in ROLES
             for name, option in _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"].items()
             if option.get("type") == "int"]


@pytest.mark.parametrize("role,name", INT_CASES, ids=[f"{c[0]}:{c[1]}" for c in INT_CASES])
@pytest.mark.parametrize("value", [-1, "1;x", 1.5, True, "9" * 30])
def test_numbers_have_a_range(role, name, value):
    """Ansible's int type takes -1 (and turns 2.0 into 2): every int option has a rule with its range."""
    rule = _rules(ROOT / "roles" / role).get(name)
    assert rule is not None and rule["kind"] in ("count", "port"), f"{role}: {name} has no count/port rule"
    problem = check(name, value, rule)
    assert problem and name in problem, problem


def test_system_directories_are_never_owned():
    for path in ("/", "/etc", "/var/lib", "/usr/local/x", "/home", "/opt", "/srv", "/var", "/etc/vllm"):
        assert check("vllm_service_home", path, {"kind": "path", "owned": True}), path
    for path in ("/var/lib/vllm", "/srv/models", "/opt/inferops/vllm", "/data/models"):
        assert check("vllm_service_home", path, {"kind": "path", "owned": True}) is None, path


def test_the_derivation_covers_the_roles():
    """The set of options grows with the roles; this fails loudly if the derivation breaks."""
    assert len({(c[0], c[2]) for c in CASES}) >= 100
    assert {c[0] for c in CASES} == {r.name for r in ROLES}


# Rendering: every free-text value that a rule accepts, through every template of its role.

def _templar(variables):
    from ansible.template import Templar, trust_as_template  # noqa: F401
    from ansible.parsing.dataloader import DataLoader
    return Templar(loader=DataLoader(), variables=variables)


@pytest.fixture(scope="module")
def render():
    pytest.importorskip("ansible")
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(ROOT / ".lab" / "collections")
    if not (Path(collections) / "ansible_collections" / "inferops" / "inference").exists():
        pytest.skip("the collection link is missing: run through `make unit`")
    _AnsibleCollectionFinder(paths=[collections])._install()
    loader = DataLoader()

    def _render(role, overrides):
        variables = {"ansible_managed": "managed", "inventory_hostname": "lab", "model_path": "/srv/models/m",
                     "groups": {"ray_head": ["lab"]}, "ansible_facts": {"default_ipv4": {"address": "10.0.0.1"}},
                     "ray_cluster_node_ip": "10.0.0.1", "ray_cluster_node_env": {}}
        variables["hostvars"] = {"lab": variables}
        # The internal role's shared defaults first (roles depend on it), then the role's own.
        for path in (ROOT / "roles" / "inferops" / "defaults" / "main.yml", ROOT / "roles" / role / "defaults" / "main.yml",
                     ROOT / "roles" / role / "vars" / "main.yml"):
            if path.exists():
                variables.update(loader.load_from_file(str(path), trusted_as_template=True) or {})
        variables.update(overrides)
        templates = sorted((ROOT / "roles" / role / "templates").glob("*.j2"))
        if role == "gateway":
            # The gateway's list of replicas is written by the internal role's upstreams entry
            # point, with this gateway's settings.
            templates.append(ROOT / "roles" / "inferops" / "templates" / "upstreams.conf.j2")
            variables.update({"_inferops_backends": "{{ _gateway_backend_list }}",
                              "_inferops_gateway": {"max_fails": "{{ gateway_max_fails }}",
                                                    "fail_timeout": "{{ gateway_fail_timeout }}"},
                              "inferops_upstreams_drain": "{{ gateway_drain }}"})
            variables = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in variables.items()}
            variables["_inferops_gateway"] = {k: trust_as_template(v) for k, v in variables["_inferops_gateway"].items()}
        templar = Templar(loader=loader, variables=variables)
        out = {}
        for template in templates:
            out[template.name] = templar.template(trust_as_template(template.read_text(encoding="utf-8")))
        return out

    return _render


def _systemd_words(text):
    """argv of a unit line the way systemd splits it (quotes, backslashes, %% and $$)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return [word.replace("%%", "%").replace("$$", "$") for word in lexer]


def _unit_lines(text, key):
    joined = text.replace("\\\n", " ")
    return [line[len(key) + 1:] for line in joined.splitlines() if line.startswith(key + "=")]


def _verify_unit(text, tmp_path, name):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / name
    unit.write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False)
    # verify exits 0 on unknown keys and bad lines: any message about the file is a failure.
    messages = [line for line in (result.stdout + result.stderr).splitlines() if str(unit) in line]
    assert result.returncode == 0 and not messages, messages or result.stderr


ACCEPTED = _accepted()


def test_some_free_text_options_reach_templates():
    assert {"vllm_service_served_model_name", "vllm_service_extra_args", "vllm_service_environment"} <= {
        a[1] for a in ACCEPTED}


def _words(line):
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


def _check_unit(text, file, tmp_path, expected):
    _verify_unit(text, tmp_path, file[:-3])
    words = [w for line in _unit_lines(text, "ExecStart") + _unit_lines(text, "Environment")
             for w in _systemd_words(line)]
    assert expected in words, f"{expected!r} is not one token of {file}: {words}"
    return words


def _check_env_file(text, file, expected):
    """KEY="value" lines of a systemd EnvironmentFile: each line one assignment."""
    words = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            parsed = _words(line)
            assert len(parsed) == 1, f"{file}: {line!r} is not one assignment"
            words += parsed
    assert any(w.endswith("=" + expected) for w in words), f"{expected!r} is not one value of {file}"
    return words


NGINX = ROOT / ".lab" / "parsers" / "usr" / "sbin" / "nginx"


def nginx_test(gateway_conf, upstreams_conf, tmp_path):
    """`nginx -t` of the rendered gateway files in a minimal main configuration."""
    if not NGINX.exists():
        pytest.skip("nginx is not unpacked: run through `make unit` (tests/lab/parsers.sh)")
    (tmp_path / "conf.d").mkdir(exist_ok=True)
    (tmp_path / "inferops-upstreams.conf").write_text(upstreams_conf, encoding="utf-8")
    (tmp_path / "conf.d" / "inferops-gateway.conf").write_text(
        gateway_conf.replace("/etc/nginx/", f"{tmp_path}/"), encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"error_log stderr;\npid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/conf.d/*.conf;\n"
        + "".join(f" {kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + "}\n", encoding="utf-8")
    result = subprocess.run([str(NGINX), "-t", "-q", "-p", str(tmp_path), "-e", "stderr", "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_gateway_configuration_passes_nginx(render, tmp_path):
    """The positive control: typical settings, keys and a drained replica make a valid nginx file."""
    # nginx resolves names when it loads the file: addresses keep the test off DNS.
    rendered = render("gateway", {"gateway_backends": ["10.0.0.2:8000", "10.0.0.3:8000"],
                                  "gateway_drain": ["10.0.0.3:8000"], "gateway_api_keys": ["sk-a", "abc/DEF+x=="],
                                  "gateway_backend_api_key": "sk-backend"})
    nginx_test(rendered["gateway.conf.j2"], rendered["upstreams.conf.j2"], tmp_path)


def _check_nginx(text, file, expected, rendered, tmp_path):
    nginx_test(text, rendered["upstreams.conf.j2"], tmp_path)
    words = [w.rstrip(";") for line in text.splitlines() if SENTINEL in line for w in _words(line)]
    assert "Bearer " + expected in words, f"{expected!r} is not one quoted string of {file}: {words}"
    return words


@pytest.mark.parametrize("role,name,label,value,rule", ACCEPTED, ids=[f"{a[1]}:{a[2]}" for a in ACCEPTED])
def test_free_text_renders_as_one_token(render, tmp_path, role, name, label, value, rule):
    overrides = {name: value, "vllm_service_python": "/bin/true", "ray_cluster_python": "/bin/true"}
    if name != "vllm_service_model":
        overrides.setdefault("vllm_service_model", "/srv/models/m")
    if role == "gateway":
        overrides.setdefault("gateway_backends", ["10.0.0.2:8000"])
    rendered = render(role, overrides)
    raw = value[0] if isinstance(value, list) else (value["INFEROPS_TEST"] if isinstance(value, dict) else value)
    expected = f"INFEROPS_TEST={raw}" if isinstance(value, dict) else raw
    for file, text in rendered.items():
        if SENTINEL not in text:
            continue
        if file.endswith(".service.j2"):
            words = _check_unit(text, file, tmp_path, expected)
        elif file.endswith(".env.j2"):
            words = _check_env_file(text, file, expected)
        elif file == "gateway.conf.j2":
            words = _check_nginx(text, file, expected, rendered, tmp_path)
        else:
            raise AssertionError(f"{name} reaches {file}, which has no parser check here")
        # The value is nowhere else split or merged into another word.
        strays = [w for w in words if SENTINEL in w and expected not in w]
        assert not strays, f"{name} leaks into other words of {file}: {strays}"
