# CloudWatch, unless the stack's CloudWatchAgent parameter is Disabled (the configuration is then empty). The renderer
# appends this to every user-data script above: it installs the CloudWatch agent and starts it with the configuration
# built for this instance's role, the primary interface (known only now) in place of the marker.
cloudwatch_config=$(cat <<'EGRESS_LAB_CLOUDWATCH'
${CloudWatchAgentConfig}
EGRESS_LAB_CLOUDWATCH
)
if [ -n "$cloudwatch_config" ]; then
  for _ in {1..30}; do dnf install -y amazon-cloudwatch-agent && break; sleep 10; done
  rpm -q amazon-cloudwatch-agent >/dev/null || { echo 'amazon-cloudwatch-agent did not install' >&2; exit 1; }
  primary_interface=$(ip -o -4 route show default | awk '{print $5; exit}')
  printf '%s\n' "$cloudwatch_config" | sed "s/${PrimaryInterfaceMarker}/$primary_interface/" > /opt/aws/amazon-cloudwatch-agent/etc/egress-lab.json
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/egress-lab.json
fi
