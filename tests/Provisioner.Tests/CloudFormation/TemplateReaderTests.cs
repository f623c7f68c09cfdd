using System.Text;
using CsCheck;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;

namespace EgressLab.Provisioner.Tests.CloudFormation;

public sealed class TemplateReaderTests
{
    private const string Sample = """
        AWSTemplateFormatVersion: "2010-09-09"
        Conditions:
          IsNat: !Equals [!Ref Mode, nat]
        Resources:
          PrivateRoute:
            Type: AWS::EC2::Route
            Properties:
              RouteTableId: !Ref PrivateRouteTable
              DestinationCidrBlock: 0.0.0.0/0
              InstanceId: !If
                - IsNat
                - !GetAtt Nat.InstanceId
                - !Ref AWS::NoValue
              Tags:
                - Key: Name
                  Value: !Sub "${AWS::StackName}-private"
        """;

    [Theory]
    [InlineData("!Ref PrivateRouteTable", """{"Ref": "PrivateRouteTable"}""")]
    [InlineData("!Ref AWS::NoValue", """{"Ref": "AWS::NoValue"}""")]
    [InlineData("!GetAtt Nat.InstanceId", """{"Fn::GetAtt": ["Nat", "InstanceId"]}""")]
    [InlineData("!GetAtt Db.Endpoint.Address", """{"Fn::GetAtt": ["Db", "Endpoint.Address"]}""")]
    [InlineData("!GetAtt [Nat, InstanceId]", """{"Fn::GetAtt": ["Nat", "InstanceId"]}""")]
    [InlineData("!Sub \"${AWS::StackName}-vpc\"", """{"Fn::Sub": "${AWS::StackName}-vpc"}""")]
    [InlineData("!Sub [\"${Name}-vpc\", {Name: !Ref Env}]", """{"Fn::Sub": ["${Name}-vpc", {"Name": {"Ref": "Env"}}]}""")]
    [InlineData("!Join [\"\", [\"arn:\", !Ref AWS::Partition]]", """{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}]]}""")]
    [InlineData("!Select [0, !GetAZs \"\"]", """{"Fn::Select": [0, {"Fn::GetAZs": ""}]}""")]
    [InlineData("!Split [\",\", \"a,b\"]", """{"Fn::Split": [",", "a,b"]}""")]
    [InlineData("!If [IsNat, 1, !Ref AWS::NoValue]", """{"Fn::If": ["IsNat", 1, {"Ref": "AWS::NoValue"}]}""")]
    [InlineData("!Not [!Equals [!Ref Env, prod]]", """{"Fn::Not": [{"Fn::Equals": [{"Ref": "Env"}, "prod"]}]}""")]
    [InlineData("!And [!Condition A, !Condition B]", """{"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}""")]
    [InlineData("!Or [!Condition A, !Equals [a, b]]", """{"Fn::Or": [{"Condition": "A"}, {"Fn::Equals": ["a", "b"]}]}""")]
    [InlineData("!Base64 1", """{"Fn::Base64": "1"}""")]
    [InlineData("!Cidr [10.0.0.0/16, 4, 8]", """{"Fn::Cidr": ["10.0.0.0/16", 4, 8]}""")]
    [InlineData("!FindInMap [Images, !Ref AWS::Region, Nat]", """{"Fn::FindInMap": ["Images", {"Ref": "AWS::Region"}, "Nat"]}""")]
    [InlineData("!GetAZs", """{"Fn::GetAZs": ""}""")]
    [InlineData("!ImportValue Shared-VpcId", """{"Fn::ImportValue": "Shared-VpcId"}""")]
    [InlineData("!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}", """{"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}}""")]
    [InlineData("!Condition IsNat", """{"Condition": "IsNat"}""")]
    [InlineData("!Length [a, b]", """{"Fn::Length": ["a", "b"]}""")]
    [InlineData("!ToJsonString {a: 1}", """{"Fn::ToJsonString": {"a": 1}}""")]
    public void Read_ShortFormTag_BecomesTheLongForm(string yaml, string expected)
    {
        var value = ReadValue(yaml);

        AssertJsonEqual(expected, value);
    }

    [Theory]
    [InlineData("true", "true")]
    [InlineData("False", "false")]
    [InlineData("yes", "\"yes\"")]
    [InlineData("on", "\"on\"")]
    [InlineData("~", "null")]
    [InlineData("null", "null")]
    [InlineData("", "null")]
    [InlineData("1", "1")]
    [InlineData("-1", "-1")]
    [InlineData("+1", "1")]
    [InlineData("007", "7")]
    [InlineData("0x1F", "31")]
    [InlineData("0o17", "15")]
    [InlineData("1.5", "1.5")]
    [InlineData("1.", "1.0")]
    [InlineData(".5", "0.5")]
    [InlineData("-.5e3", "-0.5e3")]
    [InlineData("12345678901234567890123", "12345678901234567890123")]
    [InlineData(".inf", "\".inf\"")]
    [InlineData("1_000", "\"1_000\"")]
    [InlineData("2010-09-09", "\"2010-09-09\"")]
    [InlineData("10.0.0.0/16", "\"10.0.0.0/16\"")]
    [InlineData("\"1\"", "\"1\"")]
    [InlineData("'true'", "\"true\"")]
    [InlineData("!!str 1", "\"1\"")]
    [InlineData("! 1", "\"1\"")]
    [InlineData("!!int \"8\"", "8")]
    [InlineData("|\n        a\n        b", "\"a\\nb\\n\"")]
    public void Read_Scalar_IsTypedByTheCoreSchema(string yaml, string expected)
    {
        var value = ReadValue(yaml);

        AssertJsonEqual(expected, value);
    }

    [Fact]
    public void Read_YamlTemplate_KeepsTheLineOfEveryValue()
    {
        var result = TemplateReader.Read(Sample, "sample.yaml");

        Assert.Empty(result.Errors);
        Assert.Equal("sample.yaml", result.Source);
        Assert.Equal(5, result.LineOf("Resources.PrivateRoute"));
        Assert.Equal(8, result.LineOf("Resources.PrivateRoute.Properties.RouteTableId"));
        Assert.Equal(10, result.LineOf("Resources.PrivateRoute.Properties.InstanceId"));
        Assert.Equal(13, result.LineOf("Resources.PrivateRoute.Properties.InstanceId.Fn::If[2]"));
        Assert.Equal(16, result.LineOf("Resources.PrivateRoute.Properties.Tags[0].Value"));
        Assert.Equal(16, result.LineOf("Resources.PrivateRoute.Properties.Tags[0].Value.Fn::Sub"));
    }

    [Theory]
    [InlineData("Resources.PrivateRoute.Properties.GatewayId", 7)]
    [InlineData("Resources.PrivateRoute.Properties.Tags[5].Key", 14)]
    [InlineData("Resources.Missing.Properties", 4)]
    [InlineData("Outputs", 1)]
    public void LineOf_PathNotInTheFile_FallsBackToTheNearestAncestor(string path, int expected)
    {
        var result = TemplateReader.Read(Sample, "sample.yaml");

        Assert.Equal(expected, result.LineOf(path));
    }

    [Fact]
    public void Read_JsonTemplate_ReadsTheSameTreeWithLines()
    {
        const string Json = """
            {
              "AWSTemplateFormatVersion": "2010-09-09",
              "Conditions": {"IsNat": {"Fn::Equals": [{"Ref": "Mode"}, "nat"]}},
              "Resources": {
                "PrivateRoute": {
                  "Type": "AWS::EC2::Route",
                  "Properties": {
                    "RouteTableId": {"Ref": "PrivateRouteTable"},
                    "DestinationCidrBlock": "0.0.0.0/0",
                    "InstanceId": {"Fn::If": ["IsNat", {"Fn::GetAtt": ["Nat", "InstanceId"]}, {"Ref": "AWS::NoValue"}]},
                    "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}-private"}}]
                  }
                }
              }
            }
            """;

        var json = TemplateReader.Read(Json, "sample.json");
        var yaml = TemplateReader.Read(Sample, "sample.yaml");

        Assert.Empty(json.Errors);
        Assert.True(JsonNode.DeepEquals(yaml.Template, json.Template), json.Template?.ToJsonString());
        Assert.Equal(8, json.LineOf("Resources.PrivateRoute.Properties.RouteTableId"));
        Assert.Equal(11, json.LineOf("Resources.PrivateRoute.Properties.Tags[0]"));
    }

    [Fact]
    public void Read_JsonNumber_KeepsItsDigits()
    {
        var result = TemplateReader.Read("""{"Resources": {"R": {"Type": "T", "Properties": {"Big": 12345678901234567890123, "Small": 1.50}}}}""", "n.json");

        var properties = result.Template!["Resources"]!["R"]!["Properties"]!;
        Assert.Equal("12345678901234567890123", properties["Big"]!.ToJsonString());
        Assert.Equal("1.50", properties["Small"]!.ToJsonString());
    }

    [Theory]
    [InlineData("{\n  \"Resources\": {\n    \"R\": {\"Type\": \"T\",}\n  }\n}", 3, "invalid JSON")]
    [InlineData("{\n  // comment\n  \"Resources\": {}\n}", 2, "invalid JSON")]
    [InlineData("{\n  \"Resources\": {\n    \"R\": {\"Type\": \"T\"}\n  }\n}\nextra", 6, "invalid JSON")]
    [InlineData("{\n  \"Resources\": {\n    \"R\": {\"Type\": \"T\"},\n    \"R\": {\"Type\": \"U\"}\n  }\n}", 4, "duplicate key 'R'")]
    [InlineData("{\"Resources\": {\"R\": {\"Type\": \"\\ud800\"}}}", 1, "invalid JSON")]
    [InlineData("Resources:\n  R:\n    Type: T\n   Properties: {}\n", 4, "invalid YAML")]
    [InlineData("Resources:\n  R:\n    Type: \"T\n", 3, "invalid YAML")]
    [InlineData("Resources:\n  R:\n    Type: [T\n", 4, "invalid YAML")]
    [InlineData("Resources:\n  R:\n    Type: T\n    Type: U\n", 4, "duplicate key 'Type'")]
    [InlineData("Resources:\n  R:\n    Type: T\n    !!str Type: U\n", 4, "duplicate key 'Type'")]
    [InlineData("Resources:\n  R:\n    Type: T\n    Properties:\n      X: !Reff Y\n", 5, "unknown tag '!Reff'. Did you mean '!Ref'?")]
    [InlineData("Resources:\n  R:\n    Type: T\n    Properties:\n      X: !GetAtt Nat\n", 5, "!GetAtt 'Nat' does not name a resource and an attribute")]
    [InlineData("Resources:\n  R:\n    Type: T\n    Properties:\n      X: !Ref [a, b]\n", 5, "!Ref takes one name, not a list")]
    [InlineData("Resources:\n  R:\n    Type: T\n    Properties:\n      X: !!int ten\n", 5, "'ten' cannot be read as !!int")]
    [InlineData("Resources:\n  R:\n    Type: T\n    Properties:\n      [a, b]: c\n", 5, "a key is a list, but keys must be names")]
    [InlineData("Resources:\n  R:\n    Type: T\n---\nResources: {}\n", 5, "2 YAML documents")]
    public void Read_BadText_ReportsTheErrorAtItsLine(string text, int line, string expected)
    {
        var result = TemplateReader.Read(text, "bad");

        Assert.Null(result.Template);
        var error = Assert.Single(result.Errors);
        Assert.Equal("template", error.Resource);
        Assert.Equal(line, error.Line);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(error.Fix);
    }

    [Theory]
    [InlineData("", "the template is empty")]
    [InlineData("  \n\t\n", "the template is empty")]
    [InlineData("# only a comment\n", "the template is empty")]
    [InlineData("---\n", "the template is empty")]
    [InlineData("- a\n- b\n", "the top level is a list, but a template is a mapping of sections")]
    [InlineData("just text\n", "the top level is a string")]
    [InlineData("AWSTemplateFormatVersion: \"2010-09-09\"\n", "the template has no Resources section")]
    [InlineData("Resource:\n  R:\n    Type: T\n", "the template has no Resources section. Rename 'Resource' to Resources.")]
    [InlineData("Resources:\n  - R\n", "Resources is a list, but it must be a mapping of logical ids to resources")]
    [InlineData("Resources:\n", "Resources is null, but it must be a mapping")]
    [InlineData("Resources: {}\n", "Resources is empty")]
    [InlineData("{\"Resources\": []}", "Resources is a list")]
    public void Read_WrongShape_ReportsWhatIsMissing(string text, string expected)
    {
        var result = TemplateReader.Read(text, "shape");

        Assert.Null(result.Template);
        var error = Assert.Single(result.Errors);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_AliasBomb_IsRejectedInsteadOfExpanded()
    {
        var text = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i <= 9; i++)
        {
            text.Append($"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n");
        }

        text.Append("Resources:\n  R:\n    Type: T\n    Properties:\n      X: *a9\n");

        var result = TemplateReader.Read(text.ToString(), "bomb.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains("expands to more than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RecursiveAlias_IsRejected()
    {
        var result = TemplateReader.Read("Resources: &r\n  R:\n    Type: T\n    Properties:\n      Self: *r\n", "cycle.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Contains("nests deeper than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SharedAlias_ExpandsToCopies()
    {
        var result = TemplateReader.Read("Resources:\n  A:\n    Type: T\n    Properties: &p {X: 1}\n  B:\n    Type: T\n    Properties: *p\n", "alias.yaml");

        Assert.Empty(result.Errors);
        AssertJsonEqual("""{"X": 1}""", result.Template!["Resources"]!["B"]!["Properties"]);
    }

    [Theory]
    [InlineData("Yaml", 64, true)]
    [InlineData("Yaml", 65, false)]
    [InlineData("Json", 64, true)]
    [InlineData("Json", 65, false)]
    [InlineData("Yaml", 100_000, false)]
    [InlineData("Json", 100_000, false)]
    public void Read_NestedLists_AcceptsUpToTheDepthLimit(string format, int depth, bool accepted)
    {
        // The top mapping, Resources, R and Properties are four levels; the lists make up the rest.
        var lists = depth - 4;
        var nested = new string('[', lists) + new string(']', lists);
        var text = format == "Json"
            ? $"{{\"Resources\": {{\"R\": {{\"Type\": \"T\", \"Properties\": {{\"X\": {nested}}}}}}}}}"
            : $"Resources:\n  R:\n    Type: T\n    Properties: {{X: {nested}}}\n";

        var result = TemplateReader.Read(text, "deep");

        Assert.Equal(accepted, result.Errors.Count == 0);
        if (!accepted)
        {
            Assert.Contains("deeper than 64 levels", Assert.Single(result.Errors).ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Read_ShortFormFunctionAtTheDepthLimit_CountsTheLevelItAdds()
    {
        // Sixty levels of lists under X bring the file to 64 levels; the long form of !Ref inside them is the 65th.
        var nested = new string('[', 60) + "!Ref A" + new string(']', 60);
        var text = $"Resources:\n  R:\n    Type: T\n    Properties: {{X: {nested}}}\n";

        var result = TemplateReader.Read(text, "deep");

        Assert.Contains("deeper than 64 levels", Assert.Single(result.Errors).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ByteOrderMark_IsIgnored()
    {
        var result = TemplateReader.Read("\uFEFF{\"Resources\": {\"R\": {\"Type\": \"T\"}}}", "bom.json");

        Assert.Empty(result.Errors);
    }

    [Theory]
    [InlineData("Yaml")]
    [InlineData("Json")]
    public void Read_TextWithRandomEdits_ReportsErrorsWithoutThrowing(string format)
    {
        const string Characters = "[]{}:,-\"' \n\t#&*!|>%@`~0123456789./abc\\";
        var text = format == "Json" ? TemplateReader.Read(Sample, "sample.yaml").Template!.ToJsonString(new() { WriteIndented = true }) : Sample;
        TextEdits.Gen(Characters).Sample(
            edits =>
            {
                var result = TemplateReader.Read(TextEdits.Apply(text, edits), "mangled");

                Assert.True(result.Template is null != (result.Errors.Count == 0), "a result holds a template or errors, not both");
                Assert.All(result.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message) || string.IsNullOrWhiteSpace(e.Fix), $"incomplete error: {e}"));
            },
            iter: 2000,
            print: TextEdits.Describe);
    }

    private static JsonNode? ReadValue(string yaml)
    {
        var text = $"Resources:\n  R:\n    Type: AWS::EC2::VPC\n    Properties:\n      V: {yaml}\n";
        var result = TemplateReader.Read(text, "value.yaml");
        Assert.True(result.Errors.Count == 0, string.Join("; ", result.Errors));
        return result.Template!["Resources"]!["R"]!["Properties"]!["V"];
    }

    private static void AssertJsonEqual(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}, got {actual?.ToJsonString() ?? "null"}");
}
