#!/bin/bash
# NAT instance: forward and masquerade for the private subnets. The commands after the package install are
# the ones the egress lab runs in its NAT namespace (NatInstanceSetup), with persistence added.
set -euo pipefail
for _ in {1..30}; do dnf install -y iptables-services && break; sleep 10; done
rpm -q iptables-services >/dev/null || { echo 'iptables-services did not install' >&2; exit 1; }
# Start the saved-rules service first, so its default rules load before ours and our save replaces them.
systemctl enable --now iptables
sysctl -w net.ipv4.ip_forward=1
echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-nat-instance.conf
IFACE=$(ip -o -4 route show default | awk '{print $5; exit}')
[ -n "$IFACE" ] || { echo 'no default route: cannot find the primary interface' >&2; exit 1; }
iptables -t nat -C POSTROUTING -o "$IFACE" -j MASQUERADE 2>/dev/null || iptables -t nat -A POSTROUTING -o "$IFACE" -j MASQUERADE
iptables -F FORWARD
iptables -P FORWARD ACCEPT
service iptables save
