#!/bin/busybox sh
# /init of the kernel matrix test's initramfs: mounts what the BPF loader needs, runs it once,
# powers off. Its output goes to the serial console, which the host test reads.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true   # 5.10 also has it under debugfs
mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
ip link set lo up
echo "@matrix {\"guest\":\"up\",\"uptimeS\":\"$(cut -d' ' -f1 /proc/uptime)\"}"
/matrix-loader /sockeye.bpf.o
echo "@matrix {\"loaderExit\":$?,\"uptimeS\":\"$(cut -d' ' -f1 /proc/uptime)\"}"
sleep 1   # let the serial port drain: the kernel's own power-down line would cut into ours
poweroff -f
