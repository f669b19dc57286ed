#!/usr/bin/python3
"""Seeds for fuzz_inventory: objects as a kind byte, the key, a newline and
the JSON; NUL between objects.

Run from the repository root:  python3 fuzz/seeds/inventory_seeds.py fuzz/corpus/inventory
(rewrites the named seeds; inputs merged by scripts/fuzz.sh are kept)."""
import os, sys, json
out = sys.argv[1]; os.makedirs(out, exist_ok=True)
def rec(kind, name, body):
    k = {"profiles": 0, "groups": 1, "machines": 2}[kind]
    return bytes([0x40 | k]) + name.encode() + b"\n" + (body if isinstance(body, bytes) else json.dumps(body).encode())
J = lambda *r: b"\0".join(r)
RESCUE = {"name": "rescue", "kernel": "vmlinuz", "args": ["rescue", "host={{hostname}}"]}
seeds = {
 "profile.bin": rec("profiles", "rescue", RESCUE),
 "profile-full.bin": rec("profiles", "full", {"name": "full", "kernel": "http://198.18.0.1/vmlinuz", "initrd": ["initrd.img", "extra/i2.img"], "args": ["a={{metadata.x}}", "b"], "configs": [{"name": "ks", "template": "ks.cfg", "format": "text"}, {"name": "ud", "template": "user-data.yaml", "format": "yaml"}], "metadata": {"x": "1", "role": "r"}}),
 "profile-local.bin": rec("profiles", "disk", {"name": "disk", "boot": "local", "local_method": "sanboot"}),
 "profile-script.bin": rec("profiles", "cs", {"name": "cs", "kernel": "vmlinuz", "script": "custom.ipxe", "metadata": {"role": "db"}}),
 "machine.bin": rec("machines", "52:54:00:00:00:42", {"mac": "52:54:00:00:00:42", "hostname": "n42", "labels": {"rack": "r9"}}),
 "machine-full.bin": rec("machines", "52:54:00:00:00:43", {"mac": "52:54:00:00:00:43", "hostname": "n43", "uuid": "4c4c4544-0035", "serial": "SN9", "labels": {"rack": "r1", "row": "a"}, "metadata": {"role": "web"}}),
 "group-selector.bin": rec("groups", "g1", {"name": "g1", "profile": "linux", "selector": {"arch": "arm64", "platform": "efi", "uuid": "U", "hostname": "h", "serial": "s"}, "metadata": {"k": "v"}}),
 "profile-group-machine.bin": J(rec("profiles", "rescue", RESCUE), rec("groups", "r9", {"name": "r9", "profile": "rescue", "selector": {"labels": {"rack": "r9"}, "arch": "x86_64"}}), rec("machines", "52:54:00:00:00:42", {"mac": "52:54:00:00:00:42", "hostname": "n42", "labels": {"rack": "r9"}, "metadata": {"role": "db"}})),
 "group-mac-selector.bin": rec("groups", "one", {"name": "one", "profile": "linux", "selector": {"mac": "52-54-00-00-00-55", "labels": {"a": "b"}}}),
 "bad-group-unknown-profile.bin": rec("groups", "g", {"name": "g", "profile": "nope"}),
 "bad-second-default.bin": rec("groups", "d2", {"name": "d2", "profile": "linux"}),
 "bad-duplicate-profile.bin": rec("profiles", "linux", {"name": "linux", "kernel": "vmlinuz"}),
 "bad-duplicate-machine.bin": rec("machines", "52:54:00:00:00:10", {"mac": "52:54:00:00:00:10"}),
 "bad-kernel-traversal.bin": rec("profiles", "p", {"name": "p", "kernel": "../../etc/passwd"}),
 "bad-template-outside.bin": rec("profiles", "p", {"name": "p", "kernel": "vmlinuz", "configs": [{"name": "ks", "template": "/etc/shadow", "format": "text"}]}),
 "bad-not-mapping.bin": rec("profiles", "p", b"[1, 2]"),
 "bad-yaml-syntax.bin": rec("profiles", "p", b"{kernel: [vmlinuz"),
 "bad-yaml-anchor.bin": rec("profiles", "p", b"{name: p, kernel: &k vmlinuz, initrd: [*k]}"),
 "bad-hostname.bin": rec("machines", "52:54:00:00:00:42", {"mac": "52:54:00:00:00:42", "hostname": "a\nb"}),
 "bad-unknown-key.bin": rec("profiles", "p", {"name": "p", "kernel": "vmlinuz", "colour": "red"}),
 "empty.bin": b"",
}
for n, b in seeds.items():
    open(os.path.join(out, n), "wb").write(b)
