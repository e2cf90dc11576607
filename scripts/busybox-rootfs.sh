#!/usr/bin/env bash
# Writes to stdout a tar of the test image's root file system, made from
# Debian's busybox-static: /bin/busybox with a link for each applet,
# /etc/passwd and /etc/group with root and nobody, /tmp, /root. No image can
# be pulled here, so scripts/test-env.sh (dockerd) and scripts/podman.sh
# (Podman) import their test images from it.
set -euo pipefail
[ -x /bin/busybox ] || { echo "busybox-rootfs: /bin/busybox missing (Debian's busybox-static)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
tar -C "$root" -c .
