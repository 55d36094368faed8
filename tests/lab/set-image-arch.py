#!/usr/bin/env python
"""Relabel a local Docker image's architecture (docker import ignores --platform on 20.10):
docker save, set architecture/variant in the image config, docker load under the same tag."""
import hashlib
import io
import json
import subprocess
import sys
import tarfile

image, arch = sys.argv[1], sys.argv[2]
saved = subprocess.run(["docker", "save", image], check=True, capture_output=True).stdout
src = tarfile.open(fileobj=io.BytesIO(saved))
manifest = json.load(src.extractfile("manifest.json"))
config_name = manifest[0]["Config"]
config = json.load(src.extractfile(config_name))
config["architecture"] = arch
config["variant"] = "v8" if arch == "arm64" else config.get("variant")
data = json.dumps(config).encode()
new_name = hashlib.sha256(data).hexdigest() + ".json"
manifest[0]["Config"] = new_name
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w") as dst:
    for member in src.getmembers():
        if member.name in (config_name, "manifest.json"):
            continue
        dst.addfile(member, src.extractfile(member) if member.isfile() else None)
    for name, payload in ((new_name, data), ("manifest.json", json.dumps(manifest).encode())):
        info = tarfile.TarInfo(name)
        info.size = len(payload)
        dst.addfile(info, io.BytesIO(payload))
subprocess.run(["docker", "load"], input=out.getvalue(), check=True, capture_output=True)
print(f"lab: {image} labelled {arch}")
