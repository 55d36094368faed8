"""Every plugin of the collection renders in ansible-doc, with its own documentation.

Filters live several to a .py file; ansible-doc reads each one's documentation from
plugins/filter/<name>.yml, unless the .py file itself has a DOCUMENTATION (which then
wins for every filter of that file). The filter names come from FilterModule().filters(),
so a filter added without documentation fails here. ansible-doc runs once per plugin type
against a throwaway collections tree that links to this checkout.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def _root():
    for parent in Path(__file__).resolve().parents:
        if (parent / "galaxy.yml").is_file():
            return parent
    raise RuntimeError("galaxy.yml not found above this test")


ROOT = _root()
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
COLLECTION = f"{GALAXY['namespace']}.{GALAXY['name']}"
# Plugin folders with one plugin per file, by ansible-doc type (action plugins share their
# module's documentation; module_utils and doc_fragments are not plugins of their own).
SINGLE_FILE_TYPES = {"modules": "module", "lookup": "lookup", "inventory": "inventory", "callback": "callback",
                     "connection": "connection", "become": "become", "cache": "cache", "vars": "vars"}


def _load(path):
    spec = importlib.util.spec_from_file_location(f"_inferops_doc_check_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _jinja_plugins(folder, class_name, method):
    """{name: function} over every .py file of plugins/<folder>, and {file: error} for files that do not load."""
    found, broken = {}, {}
    for path in sorted((ROOT / "plugins" / folder).glob("*.py")):
        if path.name == "__init__.py":
            continue
        try:
            plugins = getattr(getattr(_load(path), class_name)(), method)()
        except Exception as exc:  # reported by test_plugin_files_load
            broken[path.name] = f"{type(exc).__name__}: {exc}"
            continue
        for name, func in plugins.items():
            assert name not in found, f"{folder} {name} is defined twice"
            found[name] = func
    return found, broken


FILTERS, BROKEN_FILTERS = _jinja_plugins("filter", "FilterModule", "filters")
TESTS, BROKEN_TESTS = _jinja_plugins("test", "TestModule", "tests")
SINGLE = sorted((doc_type, path.stem)
                for folder, doc_type in SINGLE_FILE_TYPES.items()
                for path in (ROOT / "plugins" / folder).glob("*.py") if path.name != "__init__.py")
CASES = ([("filter", name) for name in sorted(FILTERS)] + [("test", name) for name in sorted(TESTS)] + SINGLE)


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory):
    base = tmp_path_factory.mktemp("collections")
    namespace = base / "ansible_collections" / GALAXY["namespace"]
    namespace.mkdir(parents=True)
    (namespace / GALAXY["name"]).symlink_to(ROOT, target_is_directory=True)
    return base


def _ansible_doc_command():
    beside = Path(sys.executable).parent / "ansible-doc"
    command = str(beside) if beside.exists() else shutil.which("ansible-doc")
    if not command:
        pytest.skip("ansible-doc is not installed")
    return command


def _run_ansible_doc(collections, doc_type, fqcns):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.pop("ANSIBLE_CONFIG", None)
    # cwd outside the checkout: its ansible.cfg is not read.
    return subprocess.run([_ansible_doc_command(), "--json", "-t", doc_type, *fqcns], cwd=collections, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def _render(collections, doc_type, names):
    """{name: ansible-doc's JSON entry, or the error text}. One ansible-doc call while all render;
    it prints no JSON at all when one fails, so the ones its errors name are set aside and the rest retried."""
    results, pending = {}, list(names)
    while pending:
        proc = _run_ansible_doc(collections, doc_type, [f"{COLLECTION}.{name}" for name in pending])
        if proc.returncode == 0:
            output = json.loads(proc.stdout or "{}")
            for name in pending:
                results[name] = output.get(f"{COLLECTION}.{name}") or f"not in ansible-doc's output: {proc.stderr.strip()}"
            break
        named = [name for name in pending if re.search(rf"{re.escape(COLLECTION)}\.{re.escape(name)}\b", proc.stderr)]
        if not named:  # an error that names no plugin: find the culprits one at a time
            if len(pending) == 1:
                results[pending[0]] = proc.stderr.strip() or f"ansible-doc exited {proc.returncode}"
                break
            for name in pending:
                results.update(_render(collections, doc_type, [name]))
            break
        for name in named:
            results[name] = "\n".join(line for line in proc.stderr.splitlines() if f"{COLLECTION}.{name}" in line)
        pending = [name for name in pending if name not in named]
    return results


@pytest.fixture(scope="session")
def rendered(collections_path):
    by_type = {}
    for doc_type, name in CASES:
        by_type.setdefault(doc_type, []).append(name)
    return {(doc_type, name): entry
            for doc_type, names in by_type.items()
            for name, entry in _render(collections_path, doc_type, names).items()}


def _text(value):
    if isinstance(value, (list, tuple)):
        return " ".join(str(item) for item in value if item)
    return str(value or "")


def test_plugin_files_load():
    assert not BROKEN_FILTERS and not BROKEN_TESTS, {**BROKEN_FILTERS, **BROKEN_TESTS}


def test_there_are_plugins_to_check():
    assert FILTERS and ("module", "check_inputs") in SINGLE


@pytest.mark.parametrize("doc_type,name", CASES, ids=[f"{t}-{n}" for t, n in CASES])
def test_plugin_renders_its_own_documentation(rendered, doc_type, name):
    entry = rendered[(doc_type, name)]
    assert isinstance(entry, dict), f"ansible-doc -t {doc_type} {COLLECTION}.{name} does not render:\n{entry}"
    doc = entry["doc"]
    documented = doc.get("module" if doc_type == "module" else "name")
    assert documented == name, (
        f"{COLLECTION}.{name} renders the documentation of {documented!r} from {doc.get('filename')}: "
        f"give it plugins/{doc_type}/{name}.yml and take DOCUMENTATION, EXAMPLES and RETURN out of the .py file")
    assert _text(doc.get("short_description")).strip(), "short_description is empty"
    assert _text(doc.get("description")).strip(), "description is empty"
    # A ": " in a plain YAML line makes it a mapping: ansible-doc still renders, sanity refuses it.
    paragraphs = doc["description"] if isinstance(doc["description"], list) else [doc["description"]]
    assert all(isinstance(p, str) for p in paragraphs), f"a description line is not text (quote it): {paragraphs}"
    assert _text(entry.get("examples")).strip(), "EXAMPLES is empty"


@pytest.mark.parametrize("doc_type,name", [c for c in CASES if c[0] in ("filter", "test")],
                         ids=[f"{t}-{n}" for t, n in CASES if t in ("filter", "test")])
def test_jinja_plugin_documents_its_arguments(rendered, doc_type, name):
    entry = rendered[(doc_type, name)]
    if not isinstance(entry, dict):
        pytest.fail(f"does not render: {entry}")
    doc = entry["doc"]
    returned = (entry.get("return") or {}).get("_value") or {}
    assert _text(returned.get("description")).strip(), "RETURN has no _value with a description"

    options = doc.get("options") or {}
    assert "_input" in options, "the piped value is not documented as option _input"
    positional = [item.strip() for item in str(doc.get("positional") or "").split(",") if item.strip()]
    assert set(positional) <= set(options), f"positional names undocumented options: {positional}"

    func = (FILTERS if doc_type == "filter" else TESTS)[name]
    params = list(inspect.signature(func).parameters.values())[1:]
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return
    by_name = {p.name: p for p in params}
    assert set(options) - {"_input"} == set(by_name), (
        f"documented options {sorted(set(options) - {'_input'})} differ from the arguments {sorted(by_name)}")
    for arg, param in by_name.items():
        required = param.default is inspect.Parameter.empty
        assert bool(options[arg].get("required")) == required, (
            f"option {arg} is {'not ' if required else ''}required in the code")
