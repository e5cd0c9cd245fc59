#!/usr/bin/env python3
"""Writes bench/scenarios/thousand-vms.json: issue 15's many-VM scenario (docs/benchmarks.md, issue 15, session 5).

1,000 small Linux VMs of one image powered on over the first 50 s (one every 50 ms), most idle, some
computing or touching a small working set; overhead memory of 1 MB each, so that a 4 GB host admits
them all; the sharing scanner fast enough (1,000 pages/s per VM, 50,000 for the host) to collapse
the identical kernel and system-file pages the VMs boot and cache. Usage: python3 make-many-vms.py [VMS]
"""
import json
import os
import sys

arg = sys.argv[1] if len(sys.argv) > 1 else "1000"
if len(sys.argv) > 2 or not arg.isdigit() or not 1 <= int(arg) <= 100000:
    sys.exit(f"make-many-vms.py: VMS must be a whole number from 1 to 100000, not {' '.join(sys.argv[1:])!r}; nothing written.")
count = int(arg)
vms = []
for i in range(count):
    kind = i % 20
    if kind == 9:
        workload = {"kind": "compute", "workingSetMB": 2}
    elif kind == 19:
        workload = {"kind": "toucher", "workingSetMB": 2}
    else:
        workload = {"kind": "idle"}
    vms.append({"name": f"vm{i + 1:04d}", "memoryMB": 16, "overheadMB": 1, "guest": "linux", "image": "debian",
                "powerOnSeconds": round(i * 50.0 / count, 3), "workload": workload})
scenario = {
    "name": f"many-vms-{count}",
    "description": f"{count} small Linux VMs of one image powered on over 50 s on a 4 GB host: what the simulator costs per VM (issue 15).",
    "seed": 1,
    "durationSeconds": 60,
    "sampleIntervalSeconds": 1,
    "host": {"memoryMB": 4096, "swapMB": 16 * count, "shareScanPerVmPagesPerSecond": 1000, "shareScanHostPagesPerSecond": 50000},
    "vms": vms,
}
name = "thousand-vms.json" if count == 1000 else f"many-vms-{count}.json"
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
staging = path + ".partial"
with open(staging, "w", encoding="utf-8") as f:
    json.dump(scenario, f, indent=1)
    f.write("\n")
os.replace(staging, path)  # whole or not at all
