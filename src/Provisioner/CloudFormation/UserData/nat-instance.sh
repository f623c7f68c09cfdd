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
# CloudWatch, unless the stack's CloudWatchAgent parameter is Disabled: a small service reads the conntrack table's
# fill from /proc and hands it to the CloudWatch agent's StatsD listener on loopback once a minute. The agent itself
# is installed last (cloudwatch-agent.sh, which the renderer appends).
ship_to_cloudwatch='${ShipToCloudWatch}'
if [ "$ship_to_cloudwatch" = true ]; then
  cat > /usr/local/sbin/egress-lab-conntrack-metrics <<'EGRESS_LAB_CONNTRACK'
#!/bin/bash
# Hands the conntrack table's fill to the CloudWatch agent's StatsD listener once a minute.
while sleep 60; do
  count=$(cat /proc/sys/net/netfilter/nf_conntrack_count) || continue
  max=$(cat /proc/sys/net/netfilter/nf_conntrack_max) || continue
  printf 'conntrack_count:%s|g\nconntrack_max:%s|g\n' "$count" "$max" > /dev/udp/127.0.0.1/8125
done
EGRESS_LAB_CONNTRACK
  chmod 755 /usr/local/sbin/egress-lab-conntrack-metrics
  cat > /etc/systemd/system/egress-lab-conntrack-metrics.service <<'EGRESS_LAB_CONNTRACK_UNIT'
[Unit]
Description=conntrack table fill to the CloudWatch agent

[Service]
ExecStart=/usr/local/sbin/egress-lab-conntrack-metrics
Restart=always

[Install]
WantedBy=multi-user.target
EGRESS_LAB_CONNTRACK_UNIT
  systemctl daemon-reload
  systemctl enable --now egress-lab-conntrack-metrics
fi
