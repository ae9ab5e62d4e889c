#!/bin/sh
# Builds the distroless root filesystem of the runtime images in /rootfs: node, exactly the shared
# libraries that node and the native addons under /rootfs need (by ldd), CA certificates, a
# non-root user and a world-writable /tmp. Nothing else: no shell, no package manager.
set -eu
mkdir -p /rootfs/usr/local/bin /rootfs/etc/ssl/certs /rootfs/tmp
cp /usr/local/bin/node /rootfs/usr/local/bin/node
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/
# Lambda runs functions as an unprivileged sandbox user; uid 993 like its sbx_user1051.
echo 'sbx_user1051:x:993:993::/tmp:/sbin/nologin' > /rootfs/etc/passwd
echo 'sbx_user1051:x:993:' > /rootfs/etc/group
chmod 1777 /rootfs/tmp

binaries="/usr/local/bin/node $(find /rootfs -name '*.node' -o -name '*.so*' -type f | grep -v '^/rootfs/usr/local/bin/')"
for bin in $binaries; do
  ldd "$bin" 2>/dev/null | awk '/=> \// {print $3} /^\t\/[^ ]*ld-linux/ {print $1}' | while read -r lib; do
    case "$lib" in /rootfs/*) continue ;; esac
    [ -e "/rootfs$lib" ] || cp --parents -L "$lib" /rootfs
  done
done
echo "rootfs: $(du -sh /rootfs | cut -f1) ($(find /rootfs -name '*.so*' | wc -l) shared libraries)"
