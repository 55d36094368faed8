#!/usr/bin/python
# Copyright: (c) 2026, inferops.inference contributors
# Apache License 2.0 (see LICENSE)
"""Write the manifest of an offline bundle, or check a bundle against it."""

from __future__ import annotations

DOCUMENTATION = r"""
module: bundle
short_description: Write the manifest of an offline bundle, or check a bundle against its manifest
description:
  - With O(state=manifest), lists every file of the bundle directory O(path) with its size and sha256 in
    C(manifest.json) (with O(metadata)) and writes C(SHA256SUMS) (C(sha256sum -c) format, the manifest first).
  - With O(state=verified), checks a bundle directory or tarball (C(.tar), C(.tar.gz), ...) against its
    manifest without unpacking it; every missing, truncated, changed or added file is named, and the task fails.
  - With O(keyring), C(SHA256SUMS.asc) must be a valid signature of C(SHA256SUMS) by a key of that keyring
    (checked with C(gpgv)).
  - With O(record) on a directory, a complete check is recorded in that file (outside the bundle, where only
    root writes); later checks of the same folder and manifest hash only files whose size or modification
    time changed since.
  - Files or folders writable by group or others, setuid or setgid, and symbolic links are refused.
  - With O(state=fetched), downloads the bundle's tarball from O(url) to O(path), resuming a partial download
    of the same URL (C(<path>.<hash of the URL>.part)) with HTTP Range requests; a short read is resumed too.
version_added: "0.6.0"
author: inferops maintainers (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description: The bundle directory, or for O(state=verified) also a tarball of it.
    type: path
    required: true
  state:
    description: Write the manifest (V(manifest)), check the bundle against it (V(verified)), or download a tarball (V(fetched)).
    type: str
    choices: [manifest, verified, fetched]
    default: verified
  metadata:
    description: What the manifest says of the bundle besides its files (profile, versions, platform).
    type: dict
    default: {}
  keyring:
    description: A C(gpgv) keyring (binary, as C(gpg --export) writes it); the signature is then required.
    type: path
  record:
    description: A file (outside the bundle) that records a complete check of a directory.
    type: path
  url:
    description: For O(state=fetched), the http(s) URL of the bundle's tarball.
    type: str
  timeout:
    description: For O(state=fetched), seconds without progress before a request is given up (and retried).
    type: int
    default: 60
"""

EXAMPLES = r"""
- name: Check the bundle on the controller before any change
  inferops.inference.bundle:
    path: /srv/bundles/cpu_node-debian12-x86_64.tar
  delegate_to: localhost
"""

RETURN = r"""
manifest:
  description: The manifest without its file list.
  returned: success
  type: dict
  sample: {format: 1, profile: cpu_node, architecture: x86_64, total_bytes: 1073741824}
manifest_sha256:
  description: The sha256 of C(manifest.json).
  returned: success
  type: str
files:
  description: How many files the manifest lists.
  returned: success
  type: int
top:
  description: The folder a tarball holds the bundle in.
  returned: when O(path) is a tarball
  type: str
"""

import hashlib
import json
import os
import tarfile
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inferops.inference.plugins.module_utils import bundle as lib


def write_if_changed(module, path, text):
    try:
        with open(path, encoding="utf-8") as stream:
            if stream.read() == text:
                return False
    except OSError:
        pass
    if not module.check_mode:
        with open(path + ".tmp", "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(path + ".tmp", 0o644)
        os.replace(path + ".tmp", path)
    return True


def check_signature(module, keyring, sums, signature):
    if signature is None:
        module.fail_json(msg=f"{lib.SIGNATURE}: missing, and a signing keyring was given: the bundle is not signed")
    with tempfile.TemporaryDirectory() as work:
        paths = {}
        for name, data in ((lib.SUMS, sums), (lib.SIGNATURE, signature)):
            paths[name] = os.path.join(work, name)
            with open(paths[name], "wb") as stream:
                stream.write(data)
        rc, _out, err = module.run_command(["gpgv", "--keyring", keyring, paths[lib.SIGNATURE], paths[lib.SUMS]])
    if rc != 0:
        module.fail_json(msg=f"{lib.SIGNATURE}: not a valid signature of {lib.SUMS} by a key of {keyring}: {err.strip()}")


def manifest(module, root):
    try:
        built = lib.build_manifest(root, module.params["metadata"])
    except (OSError, ValueError) as err:
        module.fail_json(msg=f"{root}: {err}")
    text = lib.manifest_text(built)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    changed = write_if_changed(module, os.path.join(root, lib.MANIFEST), text)
    changed = write_if_changed(module, os.path.join(root, lib.SUMS), lib.sums_text(built, digest)) or changed
    module.exit_json(changed=changed, manifest=lib.summary(built), manifest_sha256=digest, files=len(built["files"]))


def _read(path):
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except OSError:
        return None


def verified(module, path):
    params = module.params
    changed, top = False, None
    try:
        if os.path.isdir(path):
            record = None
            if params["record"]:
                try:
                    record = json.loads(_read(params["record"]) or b"null")
                except ValueError:
                    record = None
            found, digest, problems, new_record = lib.check_directory(path, record)
            sums, signature = _read(os.path.join(path, lib.SUMS)), _read(os.path.join(path, lib.SIGNATURE))
            if not problems and params["record"] and new_record != record:
                changed = write_if_changed(module, params["record"], json.dumps(new_record, sort_keys=True) + "\n")
        elif os.path.isfile(path):
            found, digest, problems, top, meta = lib.check_tarball(path)
            sums, signature = meta.get(lib.SUMS), meta.get(lib.SIGNATURE)
        else:
            module.fail_json(msg=f"{path}: no such bundle directory or tarball")
    except (OSError, ValueError, tarfile.TarError) as err:
        module.fail_json(msg=f"{path}: not a readable bundle: {err}")
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        module.fail_json(msg=f"bundle {path} does not match its manifest: {shown}. Rebuild it (playbooks/bundle.yml) "
                             "or copy it again.", problems=problems)
    if params["keyring"]:
        check_signature(module, params["keyring"], sums, signature)
    result = {"changed": changed, "manifest": lib.summary(found), "manifest_sha256": digest,
              "files": len(found.get("files", {}))}
    if top is not None:
        result["top"] = top
    module.exit_json(**result)


def fetched(module, path):
    if module.check_mode:
        module.exit_json(changed=True, path=path)
    # One partial file per URL: a download of another bundle never continues this one.
    part = f"{path}.{hashlib.sha256(module.params['url'].encode('utf-8')).hexdigest()[:16]}.part"
    attempts = 0
    while True:
        try:
            size = lib.fetch_resumed(module.params["url"], part, module.params["timeout"])
            break
        except OSError as err:
            attempts += 1
            if attempts >= 5:
                module.fail_json(msg=f"downloading {module.params['url']} failed 5 times (the partial file is kept "
                                     f"and resumed next run): {err}")
    os.replace(part, path)
    module.exit_json(changed=True, path=path, size=size)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["manifest", "verified", "fetched"], "default": "verified"},
            "metadata": {"type": "dict", "default": {}},
            "keyring": {"type": "path"},
            "record": {"type": "path"},
            "url": {"type": "str"},
            "timeout": {"type": "int", "default": 60},
        },
        required_if=[("state", "fetched", ["url"])],
        supports_check_mode=True,
    )
    path = module.params["path"].rstrip("/") or "/"
    if module.params["state"] == "fetched":
        fetched(module, path)
    if module.params["state"] == "manifest":
        if not os.path.isdir(path):
            module.fail_json(msg=f"{path}: not a directory")
        manifest(module, path)
    verified(module, path)


if __name__ == "__main__":
    main()
