#!/bin/bash
# NAT instance in an Auto Scaling group of one (topology: failover: asg-eni), as fck-nat does it. Before the NAT
# setup below, take over the NAT's fixed network interface: the private route tables point at it and the Elastic IP
# is associated with it, so a replacement instance changes neither. The group replaces a dead instance, and the
# replacement runs this again.
set -euo pipefail
TOKEN=$(curl -sS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token)
INSTANCE_ID=$(curl -sS -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)
export AWS_DEFAULT_REGION='${AWS::Region}'
ENI='${NatInterface}'
# The dead instance's attachment goes only when it has terminated: until then the interface is in use, so retry.
ATTACHED=""
for _ in {1..120}; do
  STATUS=$(aws ec2 describe-network-interfaces --network-interface-ids "$ENI" --query 'NetworkInterfaces[0].Status' --output text)
  if [ "$STATUS" = available ]; then
    aws ec2 attach-network-interface --network-interface-id "$ENI" --instance-id "$INSTANCE_ID" --device-index 1 || true
  fi
  ATTACHED=$(aws ec2 describe-network-interfaces --network-interface-ids "$ENI" --query 'NetworkInterfaces[0].Attachment.InstanceId' --output text)
  [ "$ATTACHED" = "$INSTANCE_ID" ] && break
  sleep 5
done
[ "$ATTACHED" = "$INSTANCE_ID" ] || { echo "could not attach $ENI to $INSTANCE_ID" >&2; exit 1; }
MAC=$(aws ec2 describe-network-interfaces --network-interface-ids "$ENI" --query 'NetworkInterfaces[0].MacAddress' --output text)
# Find the interface the kernel made for it, by its MAC address.
ENI_IFACE=""
for _ in {1..60}; do
  for DEV in /sys/class/net/*; do
    if [ "$(cat "$DEV/address")" = "$MAC" ]; then ENI_IFACE=$(basename "$DEV"); fi
  done
  [ -n "$ENI_IFACE" ] && break
  sleep 1
done
[ -n "$ENI_IFACE" ] || { echo "no interface with MAC $MAC appeared" >&2; exit 1; }
ip link set "$ENI_IFACE" up
ip addr replace '${NatPrivateIp}/${SubnetPrefixLength}' dev "$ENI_IFACE"
# The default route leaves by the fixed interface, so the NAT setup below masquerades on it (to its Elastic IP).
ip route replace default via '${SubnetRouter}' dev "$ENI_IFACE" metric 1
