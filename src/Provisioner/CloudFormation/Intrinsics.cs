using System.Text.Json.Nodes;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>CloudFormation's intrinsic functions in their long (JSON) form, as the renderer writes them.</summary>
internal static class Intrinsics
{
    public static JsonObject Ref(string name) => new() { ["Ref"] = name };

    public static JsonObject GetAtt(string resource, string attribute) => new() { ["Fn::GetAtt"] = new JsonArray(resource, attribute) };

    public static JsonObject Sub(string text) => new() { ["Fn::Sub"] = text };

    public static JsonObject Sub(string text, JsonObject variables) => new() { ["Fn::Sub"] = new JsonArray(text, variables) };

    public static JsonObject Base64(JsonNode value) => new() { ["Fn::Base64"] = value };

    public static JsonObject If(string condition, JsonNode whenTrue, JsonNode whenFalse) =>
        new() { ["Fn::If"] = new JsonArray(condition, whenTrue, whenFalse) };

    public static JsonObject Equals(JsonNode a, JsonNode b) => new() { ["Fn::Equals"] = new JsonArray(a, b) };

    public static JsonObject Not(JsonNode condition) => new() { ["Fn::Not"] = new JsonArray(condition) };

    public static JsonObject Condition(string name) => new() { ["Condition"] = name };

    public static JsonObject NoValue => Ref("AWS::NoValue");

    /// <summary>The first Availability Zone of the stack's region.</summary>
    public static JsonObject FirstAvailabilityZone =>
        new() { ["Fn::Select"] = new JsonArray(0, new JsonObject { ["Fn::GetAZs"] = "" }) };
}
