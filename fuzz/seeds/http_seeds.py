#!/usr/bin/python3
"""Seeds for fuzz_http_request (raw requests) and fuzz_api_body (writes:
a kind/method byte, the name, a newline, the body; NUL between writes),
for the service fuzz/http_harness.c sets up.  Takes the corpus root.

Run from the repository root:  python3 fuzz/seeds/http_seeds.py fuzz/corpus
(rewrites the named seeds; inputs merged by scripts/fuzz.sh are kept)."""
import os, sys, json
root = sys.argv[1]
T = "fuzz-token"
def req(method, path, headers=(), body=b"", version="HTTP/1.1"):
    h = [f"{method} {path} {version}", "Host: 198.18.0.1:8080"] + list(headers)
    if body:
        h.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body
AUTH = f"Authorization: Bearer {T}"
JS = "Content-Type: application/json"
mac10 = "52:54:00:00:00:10"
seeds = {
 "script-ipxe.bin": req("GET", "/boot.ipxe?mac=52%3A54%3A00%3A00%3A00%3A30&uuid=4c4c4544-0035-1053-8053-b4c04f4d4433&arch=x86_64&platform=efi&hostname=&serial=SN1", ["User-Agent: iPXE/1.21.1"]),
 "script-inventory-rack1.bin": req("GET", f"/boot.ipxe?mac={mac10}&arch=x86_64&platform=efi"),
 "script-local.bin": req("GET", "/boot.ipxe?mac=52-54-00-00-00-20&platform=pcbios&arch=i386"),
 "script-hexraw-mac.bin": req("GET", "/boot.ipxe?mac=525400000031&hostname=h1+x&serial=%24%7Bserial%7D"),
 "script-bad-mac.bin": req("GET", "/boot.ipxe?mac=zz:54:00:00:00:10"),
 "script-no-mac.bin": req("HEAD", "/boot.ipxe", version="HTTP/1.0"),
 "config-user-data.bin": req("GET", "/configs/user-data?mac=52:54:00:00:00:31&hostname=web1"),
 "config-ks-rack1.bin": req("GET", f"/configs/ks?mac={mac10}&arch=x86_64&uuid=u-1"),
 "config-json-shell.bin": req("GET", "/configs/meta.json?mac=52:54:00:00:00:33&serial=%22x%22") + req("GET", "/configs/setup.sh?mac=52:54:00:00:00:33&hostname=a;b"),
 "config-missing.bin": req("GET", "/configs/nope?mac=52:54:00:00:00:33"),
 "asset-whole.bin": req("GET", "/assets/vmlinuz"),
 "asset-range.bin": req("GET", "/assets/vmlinuz", ["Range: bytes=100-199"]),
 "asset-range-suffix.bin": req("GET", "/assets/vmlinuz", ["Range: bytes=-500", 'If-Range: "x"']),
 "asset-range-open.bin": req("GET", "/assets/extra/initrd2.img", ["Range: bytes=3-"]),
 "asset-range-unsat.bin": req("GET", "/assets/empty", ["Range: bytes=0-0"]),
 "asset-inm.bin": req("GET", "/assets/initrd.img", ['If-None-Match: W/"abc", "def", *']),
 "asset-ims.bin": req("GET", "/assets/initrd.img", ["If-Modified-Since: Sat, 01 Jan 2050 00:00:00 GMT"]),
 "asset-alias.bin": req("GET", "/assets/alias.img"),
 "asset-encoded-traversal.bin": req("GET", "/assets/extra/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", version="HTTP/1.0"),
 "asset-traversal.bin": req("GET", "/assets/../../etc/passwd") + req("GET", "/assets/%2e%2e/%2e%2e/etc/passwd"),
 "asset-dir.bin": req("GET", "/assets/extra/") + req("GET", "/assets"),
 "asset-post.bin": req("POST", "/assets/vmlinuz", body=b"x"),
 "api-leases.bin": req("GET", "/api/v1/leases", [AUTH]) + req("GET", "/api/v1/leases/198.18.0.10", [AUTH]) + req("GET", "/api/v1/leases6", [AUTH]) + req("GET", "/api/v1/leases6/fd00:b007::10", [AUTH]),
 "api-events.bin": req("GET", "/api/v1/events?mac=52-54-00-00-00-10&limit=5&proto=http", [AUTH]),
 "api-inventory-reads.bin": req("GET", "/api/v1/profiles", [AUTH]) + req("GET", "/api/v1/groups/rack1", [AUTH]) + req("GET", "/api/v1/machines/52:54:00:00:00:10", [AUTH]),
 "api-plan.bin": req("GET", f"/api/v1/machines/{mac10}/plan?arch=x86_64&platform=efi", [AUTH]),
 "api-put-machine.bin": req("PUT", "/api/v1/machines/52:54:00:00:00:42", [AUTH, JS], json.dumps({"hostname": "n42", "labels": {"rack": "r9"}}).encode()),
 "api-post-profile.bin": req("POST", "/api/v1/profiles", [AUTH, JS], json.dumps({"name": "rescue", "kernel": "vmlinuz", "args": ["rescue", "host={{hostname}}"]}).encode()),
 "api-put-no-token.bin": req("PUT", "/api/v1/profiles/x", [JS], b'{"kernel":"vmlinuz"}'),
 "api-put-bad-token.bin": req("PUT", "/api/v1/profiles/x", ["Authorization: Bearer nope", JS], b'{"kernel":"vmlinuz"}'),
 "api-delete.bin": req("DELETE", "/api/v1/groups/none", [AUTH]),
 "api-patch.bin": req("PATCH", "/api/v1/profiles/p", [AUTH], b"{}"),
 "pipelined-keepalive.bin": req("GET", "/boot.ipxe?mac=52:54:00:00:00:31", ["Connection: keep-alive"]) * 3,
 "chunked.bin": b"PUT /api/v1/profiles/c HTTP/1.1\r\nHost: x\r\n" + AUTH.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n{\"kernel\":\"vmlinuz\"}\r\n0\r\n\r\n",
 "not-found.bin": req("GET", "/nope?x=1&x=2&&=3"),
 "bad-request-line.bin": b"GARBAGE\r\n\r\n",
 "options.bin": req("OPTIONS", "*"),
}
out = os.path.join(root, "http_request")
os.makedirs(out, exist_ok=True)
for n, b in seeds.items():
    open(os.path.join(out, n), "wb").write(b)

# api_body: hdr byte (kind | method<<2 | notoken<<4), name, '\n', body; records joined by NUL
def rec(kind, method, name, body, token=True):
    k = {"profiles": 0, "groups": 1, "machines": 2}[kind]
    m = {"PUT": 0, "POST": 1, "DELETE": 2}[method]
    return bytes([0x40 | k | m << 2 | (0 if token else 0x30)]) + name.encode() + b"\n" + (json.dumps(body).encode() if not isinstance(body, bytes) else body)
RESCUE = {"name": "rescue", "kernel": "vmlinuz", "args": ["rescue", "host={{hostname}}"]}
MACHINE = {"hostname": "n42", "labels": {"rack": "r9"}}
GROUP = {"name": "r9", "profile": "rescue", "selector": {"labels": {"rack": "r9"}, "arch": "x86_64"}}
api = {
 "put-profile.bin": rec("profiles", "PUT", "rescue", RESCUE),
 "put-profile-full.bin": rec("profiles", "PUT", "full", {"kernel": "http://198.18.0.1/vmlinuz", "initrd": ["initrd.img", "extra/initrd2.img"], "args": ["a={{metadata.x}}"], "configs": [{"name": "ks", "template": "ks.cfg", "format": "text"}], "metadata": {"x": "1"}}),
 "put-profile-local.bin": rec("profiles", "PUT", "disk", {"boot": "local", "local_method": "sanboot"}),
 "put-profile-script.bin": rec("profiles", "PUT", "cs", {"kernel": "vmlinuz", "script": "custom.ipxe"}),
 "put-machine.bin": rec("machines", "PUT", "52-54-00-00-00-42", MACHINE),
 "put-machine-meta.bin": rec("machines", "PUT", "525400000043", {"hostname": "n43", "uuid": "4c4c4544-0035", "serial": "SN9", "labels": {"rack": "r1"}, "metadata": {"role": "web"}}),
 "post-group.bin": rec("groups", "POST", "", {"name": "g1", "profile": "linux", "selector": {"arch": "arm64", "platform": "efi"}}),
 "post-machine.bin": rec("machines", "POST", "", {"mac": "52:54:00:00:00:44", "hostname": "n44"}),
 "profile-then-group.bin": rec("profiles", "PUT", "rescue", RESCUE) + b"\0" + rec("groups", "POST", "", GROUP) + b"\0" + rec("machines", "PUT", "52:54:00:00:00:42", MACHINE),
 "put-then-delete.bin": rec("profiles", "PUT", "tmp", {"kernel": "vmlinuz"}) + b"\0" + rec("profiles", "DELETE", "tmp", b""),
 "delete-profile-in-use.bin": rec("profiles", "PUT", "rescue", RESCUE) + b"\0" + rec("groups", "PUT", "r9", GROUP) + b"\0" + rec("profiles", "DELETE", "rescue", b""),
 "bad-unknown-profile.bin": rec("groups", "PUT", "g", {"profile": "nope"}),
 "bad-kernel-traversal.bin": rec("profiles", "PUT", "p", {"kernel": "../../etc/passwd"}),
 "bad-kernel-absolute.bin": rec("profiles", "PUT", "p", {"kernel": "/etc/passwd"}),
 "bad-template-traversal.bin": rec("profiles", "PUT", "p", {"kernel": "vmlinuz", "configs": [{"name": "ks", "template": "../../../etc/shadow", "format": "text"}]}),
 "bad-unknown-key.bin": rec("profiles", "PUT", "p", {"kernel": "vmlinuz", "colour": "red"}),
 "bad-second-default.bin": rec("groups", "PUT", "second-default", {"profile": "linux"}),
 "bad-hostname-newline.bin": rec("machines", "PUT", "52:54:00:00:00:42", {"hostname": "a\nb"}),
 "bad-hostname-injection.bin": rec("machines", "PUT", "52:54:00:00:00:42", {"hostname": "n1 || reboot"}),
 "bad-name-differs.bin": rec("profiles", "PUT", "p", {"name": "q", "kernel": "vmlinuz"}),
 "bad-not-a-mac.bin": rec("machines", "PUT", "not-a-mac", {"hostname": "x"}),
 "bad-post-no-name.bin": rec("profiles", "POST", "", {"kernel": "vmlinuz"}),
 "bad-file-object.bin": rec("profiles", "PUT", "linux", {"kernel": "vmlinuz"}),
 "bad-not-json.bin": rec("profiles", "PUT", "p", b"{not json"),
 "bad-array.bin": rec("profiles", "PUT", "p", b"[1, 2]"),
 "bad-duplicate-key.bin": rec("profiles", "PUT", "p", b'{"kernel": "a", "kernel": "b"}'),
 "bad-args-newline.bin": rec("profiles", "PUT", "evil", {"kernel": "vmlinuz", "args": ["a\nshell"]}),
 "bad-yaml-in-json.bin": rec("profiles", "PUT", "y", b'{"kernel": "vmlinuz", "args": ["*anchor", "&x y", "!!binary aGk="]}'),
 "no-token.bin": rec("profiles", "PUT", "p", {"kernel": "vmlinuz"}, token=False),
}
out = os.path.join(root, "api_body")
os.makedirs(out, exist_ok=True)
for n, b in api.items():
    open(os.path.join(out, n), "wb").write(b)
