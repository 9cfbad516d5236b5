#!/bin/sh
# Runs inside the debootstrapped root filesystem (chroot) of the base image.
set -eu
export DEBIAN_FRONTEND=noninteractive

# Keep the image small and the container quiet.
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /var/cache/debconf/*-old

# Host keys are made at first boot, so no two containers share one.
rm -f /etc/ssh/ssh_host_*
mkdir -p /etc/systemd/system/ssh.service.d
cat > /etc/systemd/system/ssh.service.d/10-hostkeys.conf <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
systemctl enable ssh.service >/dev/null 2>&1 || true

# Units that make no sense in a container.
for unit in getty.target console-getty.service systemd-udevd.service \
            systemd-udev-trigger.service systemd-remount-fs.service \
            systemd-logind.service sys-kernel-config.mount sys-kernel-debug.mount \
            sys-fs-fuse-connections.mount systemd-firstboot.service \
            apt-daily.timer apt-daily-upgrade.timer; do
  systemctl mask "$unit" >/dev/null 2>&1 || true
done

# No password for root; login only with keys that a test or role installs.
passwd -l root >/dev/null
: > /etc/machine-id
echo 'kumo-webstack-host' > /etc/hostname
