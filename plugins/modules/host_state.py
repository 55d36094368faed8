#!/usr/bin/python
"""Read what a role's re-run needs to know of a host, in one round trip (read-only)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state
short_description: Read files, accounts, units, ports and packages of a host in one call
description:
  - One module call instead of one per stat, getent, C(systemctl), C(ss) or record read. A role asks for
    everything its checks and its re-run need, and skips each write whose target this call shows already in
    the wanted state (same checksum, owner, group and mode). On a converged host a re-run then costs one
    round trip per role instead of one per task.
  - Read-only; runs the same in check mode. Nothing it is asked for has to exist.
version_added: "0.9.0"
author: inferops maintainers (@inferops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - inferops.inference.attributes.inspect
attributes:
  platform:
    platforms: posix
options:
  paths:
    description: Paths to stat (links are not followed). Regular files also get their SHA-1.
    type: list
    elements: str
    default: []
  read:
    description: Small text files (records) to read, at most 1 MiB each.
    type: list
    elements: str
    default: []
  units:
    description: systemd units whose load, active and enablement states to read (one C(systemctl show)).
    type: list
    elements: str
    default: []
  users:
    description: Accounts to look up in the passwd database.
    type: list
    elements: str
    default: []
  groups:
    description: Groups to look up in the group database.
    type: list
    elements: str
    default: []
  ports:
    description: TCP ports to look for a listener on (any address, IPv4 or IPv6).
    type: list
    elements: int
    default: []
  packages:
    description: Packages whose installed version to read (C(dpkg-query) or C(rpm)).
    type: list
    elements: str
    default: []
  commands:
    description:
      - Read-only commands to run, by name, each an argument list (no shell). A command that is missing
        reports rc 127.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Read the state of the service in one call
  inferops.inference.host_state:
    paths: [/etc/systemd/system/vllm.service]
    units: [vllm.service]
    users: [vllm]
    ports: [8000]
  register: _state
"""

RETURN = r"""
paths:
  description: Per path C(exists), and when it exists C(type) (file, directory, link, other), C(mode) (octal
    string), C(owner), C(group), C(checksum) (SHA-1, regular files), C(target) (links).
  returned: always
  type: dict
read:
  description: Per path its text, or null when it is missing or unreadable.
  returned: always
  type: dict
units:
  description: Per unit C(LoadState), C(ActiveState), C(UnitFileState), C(FragmentPath), C(Description).
  returned: always
  type: dict
users:
  description: Per account C(uid), C(gid), C(group), C(home), C(shell), or null.
  returned: always
  type: dict
groups:
  description: Per group C(gid), or null.
  returned: always
  type: dict
ports:
  description: Per port whether something listens on it.
  returned: always
  type: dict
packages:
  description: Per package its installed version, or null.
  returned: always
  type: dict
commands:
  description: Per command C(rc), C(stdout) and C(stderr).
  returned: always
  type: dict
"""

import grp
import hashlib
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

UNIT_PROPERTIES = ("LoadState", "ActiveState", "UnitFileState", "FragmentPath", "Description")
READ_LIMIT = 1 << 20


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def path_state(path):
    try:
        st = os.lstat(path)
    except OSError:
        return {"exists": False}
    kind = ("link" if stat.S_ISLNK(st.st_mode) else "directory" if stat.S_ISDIR(st.st_mode)
            else "file" if stat.S_ISREG(st.st_mode) else "other")
    found = {"exists": True, "type": kind, "mode": "%04o" % stat.S_IMODE(st.st_mode),
             "owner": _name(pwd.getpwuid, st.st_uid), "group": _name(grp.getgrgid, st.st_gid)}
    if kind == "link":
        found["target"] = os.readlink(path)
    elif kind == "file":
        digest = hashlib.sha1()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
        found["checksum"] = digest.hexdigest()
    return found


def read_text(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(READ_LIMIT).decode("utf-8", "replace")
    except OSError:
        return None


def user_state(name):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return {"uid": entry.pw_uid, "gid": entry.pw_gid, "group": _name(grp.getgrgid, entry.pw_gid),
            "home": entry.pw_dir, "shell": entry.pw_shell}


def group_state(name):
    try:
        return {"gid": grp.getgrnam(name).gr_gid}
    except KeyError:
        return None


def listening_ports(tables=("/proc/net/tcp", "/proc/net/tcp6")):
    """Local ports in state LISTEN (0A) in the kernel's socket tables."""
    found = set()
    for table in tables:
        text = read_text(table) or ""
        for line in text.splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":
                found.add(int(fields[1].rsplit(":", 1)[1], 16))
    return found


def parse_unit_show(text, units):
    """`systemctl show -p ... u1 u2` prints one block per unit, blank-line separated, in order."""
    blocks = text.strip("\n").split("\n\n") if text.strip() else []
    result = {}
    for unit, block in zip(units, blocks):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        result[unit] = {key: props.get(key, "") for key in UNIT_PROPERTIES}
    for unit in units[len(blocks):]:
        result[unit] = {key: "" for key in UNIT_PROPERTIES}
        result[unit]["LoadState"] = "not-found"
    return result


def unit_states(module, units):
    systemctl = module.get_bin_path("systemctl")
    if not units:
        return {}
    if not systemctl:
        return parse_unit_show("", units)
    rc, out, _err = module.run_command([systemctl, "show", "--no-pager", "-p", ",".join(UNIT_PROPERTIES), "--"] + units)
    return parse_unit_show(out if rc == 0 else "", units)


def package_versions(module, names):
    if not names:
        return {}
    found = {name: None for name in names}
    dpkg, rpm = module.get_bin_path("dpkg-query"), module.get_bin_path("rpm")
    if dpkg:
        _rc, out, _err = module.run_command([dpkg, "-W", "-f", "${Package}\t${db:Status-Status}\t${Version}\n", "--"] + names)
        for line in out.splitlines():
            name, status, version = (line.split("\t") + ["", ""])[:3]
            if status == "installed" and name in found:
                found[name] = version
    elif rpm:
        for name in names:
            rc, out, _err = module.run_command([rpm, "-q", "--qf", "%{VERSION}-%{RELEASE}", "--", name])
            found[name] = out.strip() if rc == 0 else None
    return found


def run_commands(module, commands):
    result = {}
    for name, argv in commands.items():
        argv = [str(arg) for arg in argv]
        if not argv or not (os.path.isabs(argv[0]) and os.access(argv[0], os.X_OK) or module.get_bin_path(argv[0])):
            result[name] = {"rc": 127, "stdout": "", "stderr": f"{argv[:1]} not found"}
            continue
        rc, out, err = module.run_command(argv)
        result[name] = {"rc": rc, "stdout": out, "stderr": err}
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "str", "default": []},
            "read": {"type": "list", "elements": "str", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "users": {"type": "list", "elements": "str", "default": []},
            "groups": {"type": "list", "elements": "str", "default": []},
            "ports": {"type": "list", "elements": "int", "default": []},
            "packages": {"type": "list", "elements": "str", "default": []},
            "commands": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    params = module.params
    listening = listening_ports() if params["ports"] else set()
    module.exit_json(
        changed=False,
        paths={path: path_state(path) for path in params["paths"]},
        read={path: read_text(path) for path in params["read"]},
        units=unit_states(module, params["units"]),
        users={name: user_state(name) for name in params["users"]},
        groups={name: group_state(name) for name in params["groups"]},
        ports={str(port): port in listening for port in params["ports"]},
        packages=package_versions(module, params["packages"]),
        commands=run_commands(module, params["commands"]),
    )


if __name__ == "__main__":
    main()
