using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;

namespace EgressLab.Provisioner.Tests.CloudFormation;

/// <summary>Each schema keyword, met and broken, against the embedded schemas where one uses it.</summary>
public sealed class ResourceSchemaValidatorTests
{
    private static readonly ResourceSchemaValidator Validator = ResourceSchemaValidator.Embedded;

    [Theory]
    // type, with CloudFormation's coercions
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": "web", "SecurityGroupIngress": [{"IpProtocol": "tcp", "CidrIp": "0.0.0.0/0", "FromPort": 80, "ToPort": "443"}]}""")]
    [InlineData("AWS::EC2::Instance", """{"SourceDestCheck": "false", "ImageId": 5}""")]
    [InlineData("AWS::EC2::Instance", """{"SourceDestCheck": true, "ImageId": true}""")]
    [InlineData("AWS::EC2::LaunchTemplate", """{"LaunchTemplateData": {"InstanceRequirements": {"MemoryGiBPerVCpu": {"Min": 0.5, "Max": "2.5"}}}}""")]
    [InlineData("AWS::IAM::Role", """{"AssumeRolePolicyDocument": {"Version": "2012-10-17"}}""")]
    [InlineData("AWS::IAM::Role", """{"AssumeRolePolicyDocument": "{\"Version\": \"2012-10-17\"}"}""")]
    [InlineData("AWS::EC2::NetworkAclEntry", """{"NetworkAclId": "acl", "RuleAction": "allow", "RuleNumber": 1.0, "Protocol": -1, "CidrBlock": "10.0.0.0/16"}""")]
    // additionalProperties false, patternProperties
    [InlineData("AWS::SSM::Parameter", """{"Type": "String", "Value": "v", "Tags": {"Env": "lab", "a.b/c": "d"}}""")]
    // uniqueItems false lets items repeat
    [InlineData("AWS::EC2::Instance", """{"SecurityGroupIds": ["sg-1", "sg-1"]}""")]
    // minItems, maxItems, items pattern
    [InlineData("AWS::IAM::InstanceProfile", """{"Roles": ["proxy-role"]}""")]
    // enum (integers given as a number or as text), minimum and maximum at the edges
    [InlineData("AWS::Logs::LogGroup", """{"RetentionInDays": 7}""")]
    [InlineData("AWS::Logs::LogGroup", """{"RetentionInDays": "14", "LogGroupName": "/egress-lab/proxy"}""")]
    [InlineData("AWS::AutoScaling::AutoScalingGroup", """{"MinSize": "1", "MaxSize": "1", "InstanceId": "i-1", "InstanceMaintenancePolicy": {"MinHealthyPercentage": 100, "MaxHealthyPercentage": -1}}""")]
    // minLength 0, pattern met; a pattern with a lookahead (backtracking engine) met
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": ""}""")]
    [InlineData("AWS::SSM::Parameter", """{"Type": "String", "Value": "v", "Name": "/egress-lab/proxy/port"}""")]
    // formats
    [InlineData("AWS::EC2::VPC", """{"CidrBlock": "0.0.0.0/0"}""")]
    [InlineData("AWS::EC2::VPC", """{"CidrBlock": "255.255.255.255/32"}""")]
    [InlineData("AWS::EC2::NetworkAclEntry", """{"NetworkAclId": "acl", "RuleAction": "deny", "RuleNumber": 2, "Protocol": 6, "Ipv6CidrBlock": "2001:db8::/56"}""")]
    [InlineData("AWS::EC2::NetworkAclEntry", """{"NetworkAclId": "acl", "RuleAction": "deny", "RuleNumber": 2, "Protocol": 6, "Ipv6CidrBlock": "::/0"}""")]
    [InlineData("AWS::Logs::LogGroup", """{"DataProtectionPolicy": {"Name": "p"}}""")]
    [InlineData("AWS::Logs::LogGroup", """{"DataProtectionPolicy": "{}"}""")]
    // anyOf of required lists; anyOf of relationshipRef only; oneOf with exactly one match
    [InlineData("AWS::ElasticLoadBalancingV2::Listener", """{"LoadBalancerArn": "arn", "DefaultActions": [{"Type": "authenticate-oidc", "AuthenticateOidcConfig": {"Issuer": "i", "ClientId": "c", "AuthorizationEndpoint": "a", "TokenEndpoint": "t", "UserInfoEndpoint": "u", "UseExistingClientSecret": true}}]}""")]
    [InlineData("AWS::EC2::EIPAssociation", """{"EIP": "198.51.100.7", "InstanceId": "i-1"}""")]
    [InlineData("AWS::EC2::Instance", """{"LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "1"}}""")]
    // requiredXor, requiredOr, dependentExcluded, dependentRequired, dependencies all met
    [InlineData("AWS::EC2::Subnet", """{"VpcId": "vpc", "AvailabilityZone": "us-east-1a", "Ipv4IpamPoolId": "pool", "Ipv4NetmaskLength": 24}""")]
    // intrinsic functions: scalar, list and object positions, and a good Fn::If
    [InlineData("AWS::EC2::Route", """{"RouteTableId": {"Ref": "PrivateRouteTable"}, "DestinationCidrBlock": {"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}]}}""")]
    [InlineData("AWS::EC2::Instance", """{"SecurityGroupIds": {"Fn::Split": [",", {"Fn::ImportValue": "Groups"}]}, "SourceDestCheck": {"Fn::If": ["IsNat", false, true]}}""")]
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": {"Fn::Sub": "${AWS::StackName} web"}, "SecurityGroupIngress": [{"Fn::GetAtt": ["Rules", "Ingress"]}, {"Fn::If": ["Open", {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}, {"Ref": "AWS::NoValue"}]}]}""")]
    [InlineData("AWS::EC2::Route", """{"Fn::If": ["IsNat", {"RouteTableId": "rtb", "InstanceId": "i-1"}, {"RouteTableId": "rtb", "GatewayId": "igw"}]}""")]
    [InlineData("AWS::EC2::Route", """{"RouteTableId": "rtb", "InstanceId": {"Ref": "AWS::NoValue"}}""")]
    public void Validate_ValidProperties_FindsNothing(string typeName, string properties)
    {
        var findings = Validator.Validate("Resource", typeName, JsonNode.Parse(properties));

        Assert.Empty(findings);
    }

    [Theory]
    // type
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": "web", "SecurityGroupIngress": [{"IpProtocol": "tcp", "CidrIp": "0.0.0.0/0", "FromPort": "http"}]}""", "Properties.SecurityGroupIngress[0].FromPort", "must be an integer, not the string \"http\"")]
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": "web", "SecurityGroupIngress": [{"IpProtocol": "tcp", "CidrIp": "0.0.0.0/0", "FromPort": 80.5}]}""", "Properties.SecurityGroupIngress[0].FromPort", "must be an integer, not the number 80.5")]
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": "web", "SecurityGroupIngress": [{"IpProtocol": "tcp", "CidrIp": "0.0.0.0/0", "FromPort": "80.0"}]}""", "Properties.SecurityGroupIngress[0].FromPort", "must be an integer")]
    [InlineData("AWS::EC2::Instance", """{"SourceDestCheck": "maybe"}""", "Properties.SourceDestCheck", "must be a boolean (true or false), not the string \"maybe\"")]
    [InlineData("AWS::EC2::Instance", """{"ImageId": ["ami-1"]}""", "Properties.ImageId", "must be a string, not a list")]
    [InlineData("AWS::EC2::Instance", """{"ImageId": null}""", "Properties.ImageId", "must be a string, not null")]
    [InlineData("AWS::EC2::Instance", """{"SecurityGroupIds": "sg-1"}""", "Properties.SecurityGroupIds", "must be a list, not the string \"sg-1\"")]
    [InlineData("AWS::EC2::LaunchTemplate", """{"LaunchTemplateData": {"InstanceRequirements": {"MemoryGiBPerVCpu": {"Min": "lots"}}}}""", "Properties.LaunchTemplateData.InstanceRequirements.MemoryGiBPerVCpu.Min", "must be a number")]
    [InlineData("AWS::IAM::Role", """{"AssumeRolePolicyDocument": ["x"]}""", "Properties.AssumeRolePolicyDocument", "must be a mapping or a string, not a list")]
    [InlineData("AWS::EC2::Route", """["rtb"]""", "Properties", "must be a mapping of property names to values, not a list")]
    // additionalProperties false, with and without a hint
    [InlineData("AWS::EC2::Instance", """{"SourceDestChek": false}""", "Properties.SourceDestChek", "unknown property. Did you mean 'SourceDestCheck'?")]
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": "web", "VpcID": "vpc"}""", "Properties.VpcID", "unknown property. Did you mean 'VpcId'?")]
    [InlineData("AWS::EC2::Route", """{"RouteTableId": "rtb", "Colour": "blue"}""", "Properties.Colour", "unknown property. Remove it; the known properties here are")]
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": "web", "SecurityGroupIngress": [{"IpProtocol": "tcp", "CidrIp": "0.0.0.0/0", "ToPrt": 80}]}""", "Properties.SecurityGroupIngress[0].ToPrt", "Did you mean 'ToPort'?")]
    // patternProperties: a key that matches none, and a value against the pattern's schema
    [InlineData("AWS::SSM::Parameter", """{"Type": "String", "Value": "v", "Tags": {"bad key!": "x"}}""", "Properties.Tags.bad key!", "is not an allowed key here")]
    [InlineData("AWS::SSM::Parameter", """{"Type": "String", "Value": "v", "Tags": {"Env": ["lab"]}}""", "Properties.Tags.Env", "must be a string, not a list")]
    // required, and NoValue counted as absent
    [InlineData("AWS::EC2::Route", """{"GatewayId": "igw"}""", "Properties", "required property 'RouteTableId' is missing. Add it.")]
    [InlineData("AWS::EC2::Route", """{"RouteTableId": {"Ref": "AWS::NoValue"}}""", "Properties", "required property 'RouteTableId' is missing")]
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": "web", "SecurityGroupIngress": [{"CidrIp": "0.0.0.0/0"}]}""", "Properties.SecurityGroupIngress[0]", "required property 'IpProtocol' is missing")]
    // enum
    [InlineData("AWS::EC2::NetworkAclEntry", """{"NetworkAclId": "acl", "RuleAction": "permit", "RuleNumber": 1, "Protocol": 6, "CidrBlock": "10.0.0.0/16"}""", "Properties.RuleAction", "must be one of 'allow' or 'deny', not 'permit'")]
    [InlineData("AWS::EC2::NetworkAclEntry", """{"NetworkAclId": "acl", "RuleAction": "Allow", "RuleNumber": 1, "Protocol": 6, "CidrBlock": "10.0.0.0/16"}""", "Properties.RuleAction", "Did you mean 'allow'?")]
    [InlineData("AWS::Logs::LogGroup", """{"RetentionInDays": 8}""", "Properties.RetentionInDays", "must be one of '1', '3', '5'")]
    // minLength, maxLength, pattern
    [InlineData("AWS::IAM::InstanceProfile", """{"Roles": ["r"], "InstanceProfileName": ""}""", "Properties.InstanceProfileName", "is 0 characters long, but must be at least 1 character")]
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": "for the proxy ✓"}""", "Properties.GroupDescription", "does not match the pattern")]
    [InlineData("AWS::SSM::Parameter", """{"Type": "String", "Value": "v", "Name": "aws-reserved"}""", "Properties.Name", "does not match the pattern")]
    [InlineData("AWS::IAM::InstanceProfile", """{"Roles": ["!!!"]}""", "Properties.Roles[0]", "does not match the pattern")]
    // minimum, maximum
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": "web", "SecurityGroupIngress": [{"IpProtocol": "icmp", "CidrIp": "0.0.0.0/0", "FromPort": -2}]}""", "Properties.SecurityGroupIngress[0].FromPort", "must be at least -1, not -2")]
    [InlineData("AWS::AutoScaling::AutoScalingGroup", """{"MinSize": "1", "MaxSize": "1", "InstanceId": "i-1", "InstanceMaintenancePolicy": {"MinHealthyPercentage": "101", "MaxHealthyPercentage": 200}}""", "Properties.InstanceMaintenancePolicy.MinHealthyPercentage", "must be at most 100, not 101")]
    // minItems, maxItems, uniqueItems
    [InlineData("AWS::IAM::InstanceProfile", """{"Roles": []}""", "Properties.Roles", "has 0 items, but needs at least 1 item")]
    [InlineData("AWS::IAM::InstanceProfile", """{"Roles": ["a", "b"]}""", "Properties.Roles", "has 2 items, but allows at most 1 item")]
    [InlineData("AWS::ElasticLoadBalancingV2::LoadBalancer", """{"Subnets": ["s-1", "s-2", "s-1"]}""", "Properties.Subnets[2]", "repeats item [0]")]
    // formats
    [InlineData("AWS::EC2::VPC", """{"CidrBlock": "10.0.0.0/33"}""", "Properties.CidrBlock", "'10.0.0.0/33' is not an IPv4 CIDR block")]
    [InlineData("AWS::EC2::VPC", """{"CidrBlock": "10.0.0.256/24"}""", "Properties.CidrBlock", "'10.0.0.256/24' is not an IPv4 CIDR block")]
    [InlineData("AWS::EC2::VPC", """{"CidrBlock": "10.0.0.0"}""", "Properties.CidrBlock", "'10.0.0.0' is not an IPv4 CIDR block")]
    [InlineData("AWS::EC2::VPC", """{"CidrBlock": "010.0.0.0/8"}""", "Properties.CidrBlock", "is not an IPv4 CIDR block")]
    [InlineData("AWS::EC2::VPC", """{"CidrBlock": "10.0.0/16"}""", "Properties.CidrBlock", "is not an IPv4 CIDR block")]
    [InlineData("AWS::EC2::VPC", """{"CidrBlock": "10.0.0.0/"}""", "Properties.CidrBlock", "is not an IPv4 CIDR block")]
    [InlineData("AWS::EC2::VPC", """{"CidrBlock": "10.0.0.0/016"}""", "Properties.CidrBlock", "is not an IPv4 CIDR block")]
    [InlineData("AWS::EC2::NetworkAclEntry", """{"NetworkAclId": "acl", "RuleAction": "deny", "RuleNumber": 2, "Protocol": 6, "Ipv6CidrBlock": "2001:db8::/129"}""", "Properties.Ipv6CidrBlock", "is not an IPv6 CIDR block")]
    [InlineData("AWS::EC2::NetworkAclEntry", """{"NetworkAclId": "acl", "RuleAction": "deny", "RuleNumber": 2, "Protocol": 6, "Ipv6CidrBlock": "10.0.0.0/8"}""", "Properties.Ipv6CidrBlock", "is not an IPv6 CIDR block")]
    [InlineData("AWS::EC2::NetworkAclEntry", """{"NetworkAclId": "acl", "RuleAction": "deny", "RuleNumber": 2, "Protocol": 6, "Ipv6CidrBlock": "fe80::1%eth0/64"}""", "Properties.Ipv6CidrBlock", "is not an IPv6 CIDR block")]
    // anyOf with no match; oneOf with none and with two
    [InlineData("AWS::ElasticLoadBalancingV2::Listener", """{"LoadBalancerArn": "arn", "DefaultActions": [{"Type": "authenticate-oidc", "AuthenticateOidcConfig": {"Issuer": "i", "ClientId": "c", "AuthorizationEndpoint": "a", "TokenEndpoint": "t", "UserInfoEndpoint": "u"}}]}""", "Properties.DefaultActions[0].AuthenticateOidcConfig", "matches none of the allowed forms: 'ClientSecret' set; or 'UseExistingClientSecret' set")]
    [InlineData("AWS::EC2::Instance", """{"LaunchTemplate": {"Version": "1"}}""", "Properties.LaunchTemplate", "matches none of the allowed forms")]
    [InlineData("AWS::EC2::Instance", """{"LaunchTemplate": {"LaunchTemplateId": "lt-1", "LaunchTemplateName": "lt", "Version": "1"}}""", "Properties.LaunchTemplate", "matches more than one of the exclusive forms")]
    // requiredXor: both, and neither
    [InlineData("AWS::EC2::NetworkAclEntry", """{"NetworkAclId": "acl", "RuleAction": "allow", "RuleNumber": 1, "Protocol": 6, "CidrBlock": "10.0.0.0/16", "Ipv6CidrBlock": "2001:db8::/56"}""", "Properties", "sets 'Ipv6CidrBlock' and 'CidrBlock', but exactly one of 'Ipv6CidrBlock' or 'CidrBlock' may be set")]
    [InlineData("AWS::EC2::NetworkAclEntry", """{"NetworkAclId": "acl", "RuleAction": "allow", "RuleNumber": 1, "Protocol": 6}""", "Properties", "needs exactly one of 'Ipv6CidrBlock' or 'CidrBlock'; none is set")]
    // requiredOr
    [InlineData("AWS::EC2::Subnet", """{"VpcId": "vpc"}""", "Properties", "needs at least one of 'CidrBlock', 'Ipv4IpamPoolId', 'Ipv6IpamPoolId' or 'Ipv6CidrBlock'")]
    // dependentExcluded, dependentRequired, dependencies
    [InlineData("AWS::EC2::Subnet", """{"VpcId": "vpc", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a", "AvailabilityZoneId": "use1-az1"}""", "Properties.AvailabilityZone", "'AvailabilityZone' and 'AvailabilityZoneId' cannot both be set")]
    [InlineData("AWS::EC2::Subnet", """{"VpcId": "vpc", "Ipv4IpamPoolId": "pool"}""", "Properties.Ipv4IpamPoolId", "'Ipv4IpamPoolId' requires 'Ipv4NetmaskLength', which is missing")]
    [InlineData("AWS::AutoScaling::AutoScalingGroup", """{"MinSize": "1", "MaxSize": "1", "InstanceId": "i-1", "InstanceMaintenancePolicy": {"MinHealthyPercentage": 90}}""", "Properties.InstanceMaintenancePolicy.MinHealthyPercentage", "'MinHealthyPercentage' requires 'MaxHealthyPercentage'")]
    // readOnlyProperties
    [InlineData("AWS::EC2::Route", """{"RouteTableId": "rtb", "CidrBlock": "0.0.0.0/0"}""", "Properties.CidrBlock", "is read-only: CloudFormation sets it. Remove it.")]
    [InlineData("AWS::EC2::Instance", """{"PrivateIp": "10.0.1.10"}""", "Properties.PrivateIp", "is read-only")]
    // Fn::If: each branch is checked; a malformed one is reported
    [InlineData("AWS::EC2::SecurityGroup", """{"GroupDescription": "web", "SecurityGroupIngress": [{"IpProtocol": "tcp", "CidrIp": "0.0.0.0/0", "FromPort": {"Fn::If": ["Web", 80, "http"]}}]}""", "Properties.SecurityGroupIngress[0].FromPort.Fn::If[2]", "must be an integer, not the string \"http\"")]
    [InlineData("AWS::EC2::Route", """{"Fn::If": ["IsNat", {"RouteTableId": "rtb"}, {"GatewayId": "igw"}]}""", "Properties.Fn::If[2]", "required property 'RouteTableId' is missing")]
    [InlineData("AWS::EC2::Route", """{"RouteTableId": {"Fn::If": ["IsNat", "rtb"]}}""", "Properties.RouteTableId.Fn::If", "must be a list of three items")]
    [InlineData("AWS::EC2::Route", """{"RouteTableId": {"Fn::If": [["IsNat"], "a", "b"]}}""", "Properties.RouteTableId.Fn::If[0]", "must be a condition name")]
    public void Validate_BrokenRule_ReportsItAtThePath(string typeName, string properties, string path, string expected)
    {
        var findings = Validator.Validate("Resource", typeName, JsonNode.Parse(properties));

        Assert.Contains(findings, f => f.Resource == "Resource" && f.Property == path && f.ToString().Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEveryOne()
    {
        var properties = JsonNode.Parse("""
            {"GroupDescripton": "web", "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": "http", "ToPort": 80}, {"IpProtocol": "tcp", "CidrIp": "10.0.0.0/33"}]}
            """);

        var findings = Validator.Validate("WebGroup", "AWS::EC2::SecurityGroup", properties);

        Assert.Equal(
            [
                "WebGroup.Properties: required property 'GroupDescription' is missing. Add it.",
                "WebGroup.Properties.GroupDescripton: unknown property. Did you mean 'GroupDescription'?",
                "WebGroup.Properties.SecurityGroupIngress[0]: needs exactly one of 'CidrIp', 'CidrIpv6', 'SourcePrefixListId', 'SourceSecurityGroupId' or 'SourceSecurityGroupName'; none is set. Add one of them.",
                "WebGroup.Properties.SecurityGroupIngress[0].FromPort: must be an integer, not the string \"http\". Write a whole number, such as 443.",
                "WebGroup.Properties.SecurityGroupIngress[1].CidrIp: '10.0.0.0/33' is not an IPv4 CIDR block (a.b.c.d/n, each number 0-255 without leading zeros, n 0-32). Write it like 10.0.0.0/16.",
            ],
            findings.Select(f => f.ToString()));
    }

    [Theory]
    [InlineData("AWS::EC2::Route", "required property 'RouteTableId' is missing")]
    [InlineData("AWS::EC2::VPC", "needs exactly one of 'CidrBlock' or 'Ipv4IpamPoolId'; none is set")]
    public void Validate_NoProperties_ReportsWhatIsRequired(string typeName, string expected)
    {
        var finding = Assert.Single(Validator.Validate("Resource", typeName, null));

        Assert.Equal("Properties", finding.Property);
        Assert.Equal(expected, finding.Message);
    }

    [Theory]
    [InlineData("AWS::EC2::InternetGateway")]
    [InlineData("AWS::EC2::EIP")]
    public void Validate_NoPropertiesWhereNoneAreRequired_FindsNothing(string typeName)
    {
        Assert.Empty(Validator.Validate("Resource", typeName, null));
    }

    [Theory]
    [InlineData("AWS::EC2::Rout", "Did you mean 'AWS::EC2::Route'?")]
    [InlineData("AWS::S3::Bucket", "Use one of the known types: AWS::AutoScaling::AutoScalingGroup, AWS::EC2::EIP")]
    public void Validate_UnknownType_ReportsOneFindingNamingTheKnownTypes(string typeName, string expectedFix)
    {
        var finding = Assert.Single(Validator.Validate("Bucket", typeName, JsonNode.Parse("""{"X": 1}""")));

        Assert.Equal("Type", finding.Property);
        Assert.Equal($"unknown resource type '{typeName}'", finding.Message);
        Assert.Contains(expectedFix, finding.Fix, StringComparison.Ordinal);
        Assert.Contains("AWS::SSM::Parameter", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_HostileNesting_StopsAtTheDepthLimit()
    {
        JsonNode value = JsonValue.Create(80)!;
        for (var i = 0; i < 100_000; i++)
        {
            value = new JsonObject { ["Fn::If"] = new JsonArray(JsonValue.Create("C"), value, new JsonObject { ["Ref"] = "AWS::NoValue" }) };
        }

        var properties = new JsonObject { ["RouteTableId"] = value };

        var finding = Assert.Single(Validator.Validate("Deep", "AWS::EC2::Route", properties));

        Assert.Contains("nests deeper than", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    // additionalProperties as a schema
    [InlineData("""{"Known": {"type": "string"}}""", """{"type": "integer"}""", """{"Known": "a", "Other": 5}""", null)]
    [InlineData("""{"Known": {"type": "string"}}""", """{"type": "integer"}""", """{"Known": "a", "Other": "five"}""", "Properties.Other: must be an integer")]
    // a pattern .NET cannot compile is skipped
    [InlineData("""{"Known": {"type": "string", "pattern": "("}}""", "false", """{"Known": "anything"}""", null)]
    // dependencies in schema form
    [InlineData("""{"Y": {"dependencies": {"A": {"required": ["B"]}}, "properties": {"A": {}, "B": {}}}}""", "false", """{"Y": {"A": 1}}""", "Properties.Y: required property 'B' is missing")]
    [InlineData("""{"Y": {"dependencies": {"A": {"required": ["B"]}}, "properties": {"A": {}, "B": {}}}}""", "false", """{"Y": {"A": 1, "B": 2}}""", null)]
    // a false schema
    [InlineData("""{"Z": false}""", "false", """{"Z": 1}""", "Properties.Z: is not allowed here")]
    // integer bounds on text, and 1.0 as an integer
    [InlineData("""{"N": {"type": "integer", "minimum": 1, "maximum": 10}}""", "false", """{"N": "11"}""", "Properties.N: must be at most 10, not 11")]
    [InlineData("""{"N": {"type": "integer", "minimum": 1, "maximum": 10}}""", "false", """{"N": 1.0}""", null)]
    // maxLength counts characters, not UTF-16 units
    [InlineData("""{"S": {"type": "string", "maxLength": 2}}""", "false", """{"S": "😀😀"}""", null)]
    [InlineData("""{"S": {"type": "string", "maxLength": 2}}""", "false", """{"S": "😀😀😀"}""", "Properties.S: is 3 characters long, but may be at most 2 characters")]
    // string keywords apply to a number given where a string goes
    [InlineData("""{"S": {"type": "string", "pattern": "^[a-z]+$"}}""", "false", """{"S": 42}""", "Properties.S: '42' does not match the pattern ^[a-z]+$")]
    // anyOf whose only alternative is a relationshipRef always matches
    [InlineData("""{"R": {"type": "string", "anyOf": [{"relationshipRef": {"typeName": "AWS::EC2::VPC", "propertyPath": "/properties/VpcId"}}]}}""", "false", """{"R": "vpc-1"}""", null)]
    // a $ref cycle in the schema stops at the depth limit
    [InlineData("""{"C": {"$ref": "#/definitions/Loop"}}""", "false", """{"C": 1}""", "Properties.C: nests deeper than")]
    public void Validate_CustomSchema_AppliesTheKeyword(string schemaProperties, string additionalProperties, string properties, string? expected)
    {
        var schema = new JsonObject
        {
            ["typeName"] = "Test::Custom::Thing",
            ["additionalProperties"] = JsonNode.Parse(additionalProperties),
            ["properties"] = JsonNode.Parse(schemaProperties),
            ["definitions"] = new JsonObject { ["Loop"] = new JsonObject { ["$ref"] = "#/definitions/Loop" } },
        };
        var validator = new ResourceSchemaValidator(ResourceSchemaSet.FromJson([schema.ToJsonString()]));

        var findings = validator.Validate("Thing", "Test::Custom::Thing", JsonNode.Parse(properties)).Select(f => f.ToString()).ToList();

        if (expected is null)
        {
            Assert.Empty(findings);
        }
        else
        {
            Assert.Contains(findings, f => f.StartsWith($"Thing.{expected}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Validate_RandomValuesForEveryType_ReportsWithoutThrowing()
    {
        JsonNode?[] scalars = [JsonValue.Create("x"), JsonValue.Create(""), JsonValue.Create("10.0.0.0/33"), JsonValue.Create(-1), JsonValue.Create(1.5), JsonValue.Create(true), null];
        string[] functions = ["Ref", "Fn::If", "Fn::GetAtt", "Fn::Sub", "Condition"];
        var random = new Random(20251121);
        JsonNode? Value(int depth, IReadOnlyList<string> names) => random.Next(depth > 4 ? 3 : 6) switch
        {
            0 or 1 => scalars[random.Next(scalars.Length)]?.DeepClone(),
            2 => new JsonObject { ["Ref"] = "AWS::NoValue" },
            3 => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => Value(depth + 1, names))]),
            4 => new JsonObject { [functions[random.Next(functions.Length)]] = new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => Value(depth + 1, names))]) },
            _ => Mapping(depth + 1, names),
        };
        JsonObject Mapping(int depth, IReadOnlyList<string> names)
        {
            var mapping = new JsonObject();
            for (var i = random.Next(6); i > 0; i--)
            {
                mapping[names[random.Next(names.Count)]] = Value(depth, names);
            }

            return mapping;
        }

        foreach (var typeName in ResourceSchemaSet.Embedded.TypeNames)
        {
            Assert.True(ResourceSchemaSet.Embedded.TryGet(typeName, out var schema));
            var names = new List<string> { "Unknown", "Key", "Value" };
            CollectPropertyNames(schema.Root, names);
            for (var i = 0; i < 200; i++)
            {
                var findings = Validator.Validate("Random", typeName, Mapping(0, names));

                Assert.All(findings, f => Assert.False(string.IsNullOrWhiteSpace(f.Message) || f.Resource != "Random" || !f.Property.StartsWith("Properties", StringComparison.Ordinal), $"malformed finding: {f}"));
            }
        }
    }

    private static void CollectPropertyNames(System.Text.Json.JsonElement element, List<string> names)
    {
        if (element.ValueKind == System.Text.Json.JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name == "properties" && property.Value.ValueKind == System.Text.Json.JsonValueKind.Object)
                {
                    names.AddRange(property.Value.EnumerateObject().Select(p => p.Name));
                }

                CollectPropertyNames(property.Value, names);
            }
        }
    }

    public static TheoryData<string> EmbeddedTypes => [.. ResourceSchemaSet.Embedded.TypeNames];

    [Theory]
    [MemberData(nameof(EmbeddedTypes))]
    public void Validate_MinimalPropertiesBuiltFromTheSchema_FindsNothing(string typeName)
    {
        Assert.True(ResourceSchemaSet.Embedded.TryGet(typeName, out var schema));
        var properties = MinimalProperties.For(schema);

        var findings = Validator.Validate("Minimal", typeName, properties);

        Assert.True(findings.Count == 0, $"{properties.ToJsonString()}: {string.Join("; ", findings)}");
    }
}
