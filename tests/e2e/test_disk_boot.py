"""The test disk image boots from its own disk, without a network.

tests/e2e/build_disk.sh builds (once, into the e2e cache) a 64 MiB disk
image as an installer writes one: an MBR, one active FAT32 EFI system
partition holding the Debian kernel, a busybox initramfs, syslinux for
BIOS and systemd-boot for UEFI.  Its initramfs prints

    IRONBOOT-DISK-BOOTED ironboot-disk
    IRONBOOT-DISK-LOADER syslinux | systemd-boot

on the serial console and powers off.  Here QEMU boots a copy of it as a
virtio disk, with no NIC at all (-nic none), under SeaBIOS and under
OVMF: the image an install writes (test_agent.py streams the same file
onto a VM's disk) boots on both firmwares.  QEMU runs inside a namespace
of the test's own and is killed by PID.

Run (root):  /usr/bin/python3 -m pytest tests/e2e/test_disk_boot.py -v -s
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import netlab

HERE = Path(__file__).resolve().parent
BUILD_DISK = HERE / "build_disk.sh"
CACHE = Path(os.environ.get("IB_E2E_ASSETS", "/var/cache/ironboot-e2e"))
QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"
ACCEL = os.environ.get("IB_QEMU_ACCEL", "tcg")
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS.fd")
HOSTNAME = "ironboot-disk"
# QEMU start to marker, TCG.  Measured alone: BIOS ~14 s, UEFI ~27 s; the
# bound allows a loaded two-core machine.
BOOT_TIMEOUT = float(os.environ.get("IB_E2E_DISK_TIMEOUT", "180"))


@pytest.fixture(scope="module")
def disk_image() -> Path:
    if os.geteuid() != 0:
        pytest.fail("needs root (network namespaces, apt-get download)")
    netlab.require_tool("mkfs.vfat", "mcopy", "mmd", "syslinux")
    try:
        p = subprocess.run(["bash", str(BUILD_DISK), str(CACHE)], capture_output=True,
                           text=True, timeout=900)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{BUILD_DISK} did not finish within 900 s")
    if p.returncode != 0:
        pytest.fail(f"disk image could not be built ({p.returncode}): {p.stderr[-800:]}")
    return CACHE / "disk.img"


def boot_disk(lab: netlab.Lab, disk: Path, tmp: Path, firmware: list[str],
              timeout: float = BOOT_TIMEOUT) -> tuple[str, float]:
    """Boots disk (a copy the caller may throw away) with no NIC; returns
    the serial console and the seconds from QEMU start to power off."""
    if not os.access(QEMU, os.X_OK):
        pytest.fail("qemu-system-x86_64 not installed (scripts/deps.sh test)")
    ns = lab.netns("disk")
    serial = tmp / "serial.txt"
    argv = [QEMU, "-accel", ACCEL, "-nodefaults", "-display", "none", "-smp", "1",
            "-m", "512", "-no-reboot", "-nic", "none", "-serial", f"file:{serial}",
            *firmware, "-drive", f"file={disk},if=virtio,format=raw"]
    t0 = time.monotonic()
    q = lab.popen(ns, argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.STDOUT)
    try:
        q.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        lab.kill(q)
        out = serial.read_bytes().decode(errors="replace") if serial.exists() else ""
        raise AssertionError(f"QEMU still running after {timeout:.0f}s; serial tail:\n"
                             f"{out[-2000:]}") from None
    took = time.monotonic() - t0
    out = serial.read_bytes().decode(errors="replace") if serial.exists() else ""
    qerr = q.stdout.read().decode(errors="replace") if q.stdout else ""
    assert q.returncode == 0, f"QEMU exit {q.returncode}: {qerr[-800:]}\n{out[-2000:]}"
    return out, took


def check_marker(out: str, loader: str) -> None:
    assert re.search(rf"^IRONBOOT-DISK-BOOTED {re.escape(HOSTNAME)}\r?$", out, re.M), \
        f"no IRONBOOT-DISK-BOOTED {HOSTNAME} on the serial console:\n{out[-2500:]}"
    assert re.search(rf"^IRONBOOT-DISK-LOADER {loader}\r?$", out, re.M), \
        f"not booted by {loader}:\n{out[-1500:]}"
    assert "Kernel panic" not in out


def seabios(tmp: Path) -> list[str]:
    # SeaBIOS prints on the serial port too (fw_cfg etc/sercon-port, as
    # test_qemu_boot.py does): its boot messages help a failure report
    return ["-fw_cfg", "name=etc/sercon-port,string=0x3f8"]


def ovmf(tmp: Path) -> list[str]:
    for f in (OVMF_CODE, OVMF_VARS):
        if not f.exists():
            pytest.fail(f"{f} missing (scripts/deps.sh test: ovmf)")
    vars_copy = tmp / "OVMF_VARS.fd"
    shutil.copy(OVMF_VARS, vars_copy)
    return ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
            "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]


@pytest.mark.parametrize("firmware,loader", [(seabios, "syslinux"), (ovmf, "systemd-boot")],
                         ids=["bios", "uefi"])
def test_disk_boots(lab, disk_image, tmp_path, firmware, loader):
    disk = tmp_path / "disk.img"
    shutil.copy(disk_image, disk)           # the cached image stays pristine
    out, took = boot_disk(lab, disk, tmp_path, firmware(tmp_path))
    print(f"\n{loader}: QEMU start to power off {took:.1f}s (accel={ACCEL})")
    check_marker(out, loader)
