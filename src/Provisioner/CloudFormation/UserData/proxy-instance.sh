#!/bin/bash
# Proxy instance: installs the published proxy, its configuration and its systemd unit (deploy/systemd).
set -euo pipefail
# CloudFormation fills these in (Fn::Sub). The parameters' patterns admit no quotes, spaces or backslashes, so
# single quotes hold them as they are.
package_url='${ProxyPackageUrl}'
package_sha256='${ProxyPackageSha256}'
# The NAT instance boots alongside this one, so the first tries may find no way out: retry for ten minutes.
curl --fail --silent --show-error --location --retry 60 --retry-delay 10 --retry-all-errors --output /tmp/egress-proxy.tar.gz "$package_url"
if [ -n "$package_sha256" ]; then echo "$package_sha256  /tmp/egress-proxy.tar.gz" | sha256sum --check --strict; fi
mkdir -p /opt/egress-proxy /etc/egress-proxy
tar -xzf /tmp/egress-proxy.tar.gz -C /opt/egress-proxy --strip-components=1 --no-same-owner
rm -f /tmp/egress-proxy.tar.gz
# Empty when the policy is in the file; else the SSM parameter the stack made, which the proxy reads and polls.
policy_parameter='${PolicyParameterName}'
if [ -z "$policy_parameter" ]; then
# The same document the lab writes (ProxyInstanceConfig), with the topology's values filled in by CloudFormation. The
# allowlist parameter "a,b,c" arrives as a", "b", "c: its pattern admits no quotes or backslashes, so it stays
# inside the JSON strings.
cat > /etc/egress-proxy/proxy.json <<'EGRESS_PROXY_CONFIG'
{
  "Proxy": {
    "Listen": [
      "0.0.0.0:${ProxyPort}"
    ],
    "AdminListen": "${AdminAddress}:${AdminPort}",
    "AccessLog": {
      "Format": "squid",
      "Path": "/var/log/egress-proxy/access.log"
    },
    "Policy": {
      "DefaultAction": "Deny",
      "DenyPrivateDestinations": true,
      "RequireSniMatch": true,
      "Rules": [
        {
          "Name": "allowlist",
          "Action": "Allow",
          "Sources": [
            "${VpcCidr}"
          ],
          "Domains": [
            "${AllowedDomainList}"
          ]
        }
      ]
    }
  }
}
EGRESS_PROXY_CONFIG
else
# The same document without its Policy section, which the parameter holds instead (in the instance's region).
cat > /etc/egress-proxy/proxy.json <<'EGRESS_PROXY_SSM_CONFIG'
{
  "Proxy": {
    "Listen": [
      "0.0.0.0:${ProxyPort}"
    ],
    "AdminListen": "${AdminAddress}:${AdminPort}",
    "AccessLog": {
      "Format": "squid",
      "Path": "/var/log/egress-proxy/access.log"
    },
    "PolicySource": {
      "SsmParameter": "${PolicyParameterName}",
      "Region": "${AWS::Region}"
    }
  }
}
EGRESS_PROXY_SSM_CONFIG
fi
# The access log's directory appears only when systemd starts the unit (LogsDirectory=), so this early check
# leaves the log out; the unit checks the file again, log included, before every start. With the policy in SSM, the
# check reads the parameter too.
Proxy__AccessLog__Path=- /opt/egress-proxy/ProxyInstance --check-config /etc/egress-proxy/proxy.json
cat > /etc/systemd/system/egress-proxy.service <<'EGRESS_PROXY_UNIT'
${SystemdUnit}
EGRESS_PROXY_UNIT
systemctl daemon-reload
systemctl enable --now egress-proxy
