using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;

namespace EgressLab.Provisioner.Tests.CloudFormation;

public sealed class TemplateYamlWriterTests
{
    /// <summary>Strings YAML could misread, from the YAML 1.1 and 1.2 type rules and the indicator characters.</summary>
    public static TheoryData<string> TrickyStrings =>
    [
        "", " ", "  ", "yes", "no", "on", "off", "y", "n", "Y", "N", "YES", "true", "True", "FALSE", "null", "Null", "~",
        "1", "-1", "+1", "1.0", "1.", ".5", "0x10", "0o17", "0777", "1e3", "1E+300", "1_000", "1:30", "0b101", ".inf", "-.Inf",
        ".nan", ".NaN", "2010-09-09", "2001-12-14 21:59:43.10 -5", "10.0.0.0/16", "0.0.0.0/0", "-", "--", "---", "...", "- a",
        "?", "? a", ":", ": a", "a:", "a: b", "a:b", "Fn::GetAtt", "AWS::EC2::VPC", ",", "[", "]", "[a]", "{", "}", "{a: 1}",
        "#", "# comment", "a #b", "a#b", "&anchor", "*alias", "!Ref", "!!str", "|", ">", "'", "''", "\"", "\"quoted\"", "%TAG",
        "@at", "`tick", "<<", "=", "a ", " a", "\t", "a\tb", "\ta", "a\t", "\n", "\n\n", "a\n", "a\n\n", "a\n\n\n", "\na", "a\nb",
        " a\nb", "\n a", "  \nx", "a\n ", "a \nb", "a\n\tb", "\tx\ny", "a\r\nb", "\r", "a\rb", "\u0000", "a\u0007b", "\u007F", "\u0085",
        "a\u2028b", "\u2029", "\uFEFF", "\uFFFE", "é", "😀", "a😀b", "\u00A0", "\u00A0a\u00A0", "${AWS::StackName}-vpc",
        "#!/bin/sh\necho 1 > /proc/sys/net/ipv4/ip_forward\n", "\\", "C:\\path", "line1\nline2\\n", "key: value\n- item\n",
        "---\n...\n", "    indented\n  less\n", "trailing   \nspaces  ",
    ];

    [Fact]
    public void Write_SmallTemplate_MatchesTheGoldenText()
    {
        var template = JsonNode.Parse("""
            {
              "AWSTemplateFormatVersion": "2010-09-09",
              "Description": "Egress lab VPC\nwith a NAT instance\n",
              "Parameters": {"Mode": {"Type": "String", "AllowedValues": ["nat", "proxy-only"], "Default": "nat"}},
              "Conditions": {"IsNat": {"Fn::Equals": [{"Ref": "Mode"}, "nat"]}},
              "Resources": {
                "Vpc": {
                  "Type": "AWS::EC2::VPC",
                  "Properties": {
                    "CidrBlock": "10.0.0.0/16",
                    "EnableDnsSupport": true,
                    "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}-vpc"}}]
                  }
                },
                "NatGroup": {
                  "Type": "AWS::EC2::SecurityGroup",
                  "Properties": {
                    "GroupDescription": "yes",
                    "VpcId": {"Ref": "Vpc"},
                    "SecurityGroupIngress": [{"IpProtocol": "-1", "CidrIp": "10.0.0.0/16", "FromPort": 80, "ToPort": 8080.5}],
                    "SecurityGroupEgress": []
                  }
                },
                "Nat": {
                  "Type": "AWS::EC2::Instance",
                  "Metadata": {},
                  "Properties": {
                    "SourceDestCheck": false,
                    "SecurityGroupIds": [{"Fn::GetAtt": ["NatGroup", "GroupId"]}],
                    "UserData": {"Fn::Base64": "#!/bin/sh\necho 1 > /proc/sys/net/ipv4/ip_forward"},
                    "Matrix": [[1, 2], [], [{"a": null}]]
                  }
                }
              }
            }
            """)!.AsObject();

        var text = TemplateYamlWriter.Write(template);

        Assert.Equal(
            """
            AWSTemplateFormatVersion: "2010-09-09"
            Description: |
              Egress lab VPC
              with a NAT instance
            Parameters:
              Mode:
                Type: String
                AllowedValues:
                  - nat
                  - proxy-only
                Default: nat
            Conditions:
              IsNat:
                Fn::Equals:
                  - Ref: Mode
                  - nat
            Resources:
              Vpc:
                Type: AWS::EC2::VPC
                Properties:
                  CidrBlock: 10.0.0.0/16
                  EnableDnsSupport: true
                  Tags:
                    - Key: Name
                      Value:
                        Fn::Sub: ${AWS::StackName}-vpc
              NatGroup:
                Type: AWS::EC2::SecurityGroup
                Properties:
                  GroupDescription: "yes"
                  VpcId:
                    Ref: Vpc
                  SecurityGroupIngress:
                    - IpProtocol: "-1"
                      CidrIp: 10.0.0.0/16
                      FromPort: 80
                      ToPort: 8080.5
                  SecurityGroupEgress: []
              Nat:
                Type: AWS::EC2::Instance
                Metadata: {}
                Properties:
                  SourceDestCheck: false
                  SecurityGroupIds:
                    - Fn::GetAtt:
                        - NatGroup
                        - GroupId
                  UserData:
                    Fn::Base64: |-
                      #!/bin/sh
                      echo 1 > /proc/sys/net/ipv4/ip_forward
                  Matrix:
                    - - 1
                      - 2
                    - []
                    - - a: null

            """.ReplaceLineEndings("\n"),
            text);
        AssertRoundTrips(template, text, "golden");
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("Fn::GetAtt", "Fn::GetAtt")]
    [InlineData("10.0.0.0/16", "10.0.0.0/16")]
    [InlineData("yes", "\"yes\"")]
    [InlineData("1.0", "\"1.0\"")]
    [InlineData("a: b", "\"a: b\"")]
    [InlineData("", "\"\"")]
    [InlineData("tab\there", "\"tab\\there\"")]
    [InlineData("bell\u0007", "\"bell\\u0007\"")]
    [InlineData("nel\u0085", "\"nel\\u0085\"")]
    [InlineData("quote\" and \\", "quote\" and \\")]
    [InlineData("\"quote\"", "\"\\\"quote\\\"\"")]
    [InlineData("a\nb", "|-\n      a\n      b")]
    [InlineData("a\nb\n", "|\n      a\n      b")]
    [InlineData("a\nb\n\n", "|+\n      a\n      b\n")]
    [InlineData(" a\nb", "|2-\n       a\n      b")]
    [InlineData("\n a", "|2-\n\n       a")]
    [InlineData("  \na", "\"  \\na\"")]
    [InlineData("a *b", "\"a *b\"")]
    [InlineData("a\r\nb", "\"a\\r\\nb\"")]
    [InlineData("\n\n", "\"\\n\\n\"")]
    public void Write_String_ChoosesTheSimplestStyleThatReadsBack(string value, string expected)
    {
        var template = new JsonObject { ["Resources"] = new JsonObject { ["R"] = new JsonObject { ["V"] = value } } };

        var text = TemplateYamlWriter.Write(template);

        Assert.Equal($"Resources:\n  R:\n    V: {expected}\n", text);
        AssertRoundTrips(template, text, "style");
    }

    [Theory]
    [MemberData(nameof(TrickyStrings))]
    public void Write_TrickyString_RoundTripsAsValueKeyAndListItem(string value)
    {
        var template = new JsonObject
        {
            ["Resources"] = new JsonObject
            {
                ["R"] = new JsonObject
                {
                    ["Value"] = value,
                    [value] = value,
                    ["List"] = new JsonArray(JsonValue.Create(value), new JsonArray(JsonValue.Create(value)), new JsonObject { [value] = value }),
                },
            },
        };

        AssertRoundTrips(template, TemplateYamlWriter.Write(template), "tricky");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Write_RandomTemplates_RoundTripThroughTheReader(int batch)
    {
        for (var i = 0; i < 2500; i++)
        {
            var seed = (batch * 100000) + i;
            var generator = new RandomTemplate(seed);
            var template = generator.Template();

            AssertRoundTrips(template, TemplateYamlWriter.Write(template), $"seed {seed.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    [Fact]
    public void Write_LongKey_UsesAnExplicitKey()
    {
        var key = new string('k', 2000);
        var template = new JsonObject { ["Resources"] = new JsonObject { [key] = new JsonObject { ["Type"] = "T" } } };

        var text = TemplateYamlWriter.Write(template);

        Assert.StartsWith($"Resources:\n  ? {key}\n  :\n    Type: T\n", text, StringComparison.Ordinal);
        AssertRoundTrips(template, text, "long key");
    }

    [Fact]
    public void Write_NumbersFromDotNetValues_ReadBackEqual()
    {
        var template = new JsonObject
        {
            ["Resources"] = new JsonObject
            {
                ["R"] = new JsonObject
                {
                    ["Int"] = 42,
                    ["Long"] = long.MinValue,
                    ["Double"] = 0.1,
                    ["Tiny"] = 5e-324,
                    ["Huge"] = 1e300,
                    ["Decimal"] = 1.10m,
                },
            },
        };

        var text = TemplateYamlWriter.Write(template);

        Assert.Contains("Huge: 1E+300\n", text, StringComparison.Ordinal);
        Assert.Contains("Decimal: 1.10\n", text, StringComparison.Ordinal);
        AssertRoundTrips(template, text, "numbers");
    }

    [Fact]
    public void Write_EmptyTemplate_WritesAnEmptyMapping()
    {
        Assert.Equal("{}\n", TemplateYamlWriter.Write([]));
    }

    [Fact]
    public void Write_TooDeep_Throws()
    {
        JsonNode value = JsonValue.Create(1)!;
        for (var i = 0; i < TemplateReader.MaxDepth; i++)
        {
            value = new JsonArray(value);
        }

        var error = Assert.Throws<ArgumentException>(() => TemplateYamlWriter.Write(new JsonObject { ["Resources"] = value }));

        Assert.Contains("deeper than 64 levels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_UnpairedSurrogate_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => TemplateYamlWriter.Write(new JsonObject { ["Resources"] = "a\uD800b" }));

        Assert.Contains("U+D800", error.Message, StringComparison.Ordinal);
    }

    private static void AssertRoundTrips(JsonObject template, string text, string label)
    {
        var result = TemplateReader.Read(text, label);
        Assert.True(
            result.Errors.Count == 0 && JsonNode.DeepEquals(template, result.Template),
            $"{label}: the YAML does not read back to the same tree.\n{string.Join("\n", result.Errors)}\nexpected: {template.ToJsonString()}\nactual:   {result.Template?.ToJsonString()}\nYAML:\n{text}");
    }

    /// <summary>Random templates of nested mappings and lists holding awkward strings, numbers, booleans and nulls.</summary>
    private sealed class RandomTemplate(int seed)
    {
        private static readonly string[] Pieces =
        [
            " ", "  ", "\t", "\n", "\n", "\n ", "\n\t", " \n", "\r", ":", ": ", " #", "#", "-", "- ", "?", "'", "\"", "\\", "|", ">", "!", "&", "*", "%", "@", "`",
            "{", "}", "[", "]", ",", "a", "Z", "0", "9", ".", "e", "x", "+", "~", "y", "n", "yes", "null", "true", "1", "0x", "é",
            "😀", "\u0085", "\u2028", "\u2029", "\uFEFF", "\u0000", "\u0007", "\u001B", "\u007F", "\u009F", "\u00A0", "::", "${A}",
            "---", "...", "<<",
        ];

        private readonly Random random = new(seed);

        public JsonObject Template()
        {
            var resources = new JsonObject();
            for (var i = random.Next(1, 4); i > 0; i--)
            {
                resources[$"Resource{i.ToString(CultureInfo.InvariantCulture)}"] = Mapping(1);
            }

            var template = Mapping(2);
            template.Remove("Resources");
            template["Resources"] = resources;
            return template;
        }

        private JsonNode? Value(int depth) => random.Next(depth > 5 ? 6 : 9) switch
        {
            0 or 1 or 2 => JsonValue.Create(Text()),
            3 => Number(),
            4 => JsonValue.Create(random.Next(2) == 0),
            5 => null,
            6 or 7 => Mapping(depth + 1),
            _ => List(depth + 1),
        };

        private JsonObject Mapping(int depth)
        {
            var mapping = new JsonObject();
            for (var i = random.Next(0, 4); i > 0; i--)
            {
                var key = random.Next(4) == 0 ? (random.Next(2) == 0 ? "Fn::GetAtt" : "Ref") : Text();
                if (!mapping.ContainsKey(key))
                {
                    mapping[key] = Value(depth);
                }
            }

            return mapping;
        }

        private JsonArray List(int depth)
        {
            var list = new JsonArray();
            for (var i = random.Next(0, 4); i > 0; i--)
            {
                list.Add(Value(depth));
            }

            return list;
        }

        private JsonValue Number() => random.Next(4) switch
        {
            0 => JsonValue.Create(random.Next(int.MinValue, int.MaxValue)),
            1 => JsonValue.Create(random.NextDouble() * Math.Pow(10, random.Next(-20, 20))),
            2 => JsonValue.Create((decimal)random.Next(-100_000, 100_000) / 100),
            _ => (JsonValue)JsonNode.Parse(random.Next(2) == 0 ? "1e3" : "-0.50")!,
        };

        private string Text()
        {
            var text = new StringBuilder();
            // Mostly short texts, where the type rules bite; some long ones, where line breaks and indentation do.
            for (var i = random.Next(0, random.Next(4) == 0 ? 16 : 6); i > 0; i--)
            {
                if (random.Next(5) == 0)
                {
                    // Any Unicode scalar value except the surrogate range, which UTF-8 cannot hold alone.
                    int codePoint;
                    do
                    {
                        codePoint = random.Next(random.Next(2) == 0 ? 0x80 : 0x110000);
                    }
                    while (codePoint is >= 0xD800 and <= 0xDFFF);

                    text.Append(char.ConvertFromUtf32(codePoint));
                }
                else
                {
                    text.Append(Pieces[random.Next(Pieces.Length)]);
                }
            }

            return text.ToString();
        }
    }
}
