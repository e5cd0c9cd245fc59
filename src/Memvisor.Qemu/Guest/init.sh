#!/bin/sh
# /init of a Memvisor test guest (busybox sh): mount the kernel's file systems, load the virtio
# drivers (uncompressed modules, in dependency order: the ring, the bus, the PCI transport, then the
# balloon, the serial console for the agent's reports, and the block device), then run the agent.
# The agent never returns; if it dies, init stays (PID 1 must not exit: that panics the kernel).
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t tmpfs tmpfs /tmp
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_balloon virtio_console virtio_blk; do
    /bin/busybox insmod "/lib/modules/$m.ko" || echo "memvisor-init: could not load $m"
done
# memvisor.swap=1: the first virtio disk is the guest's swap (the host created it, sparse). With it,
# a balloon can take memory from a guest whose cold pages are in use: the guest pages them out.
if /bin/busybox grep -q "memvisor.swap=1" /proc/cmdline && [ -b /dev/vda ]; then
    /bin/busybox mkswap /dev/vda >/dev/null && /bin/busybox swapon /dev/vda || echo "memvisor-init: swap on /dev/vda failed"
fi
echo "memvisor-init: starting the agent"
/sbin/memvisor-agent
echo "memvisor-init: the agent exited ($?)"
while true; do /bin/busybox sleep 3600; done
