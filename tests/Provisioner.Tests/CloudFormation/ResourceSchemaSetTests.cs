using System.Text.Json;
using EgressLab.Provisioner.CloudFormation;

namespace EgressLab.Provisioner.Tests.CloudFormation;

public sealed class ResourceSchemaSetTests
{
    private const int SchemaCount = 29;

    [Fact]
    public void Embedded_EverySchemaFile_IsEmbeddedAndLoadsByItsTypeName()
    {
        var names = ResourceSchemaSet.EmbeddedResourceNames();

        Assert.Equal(SchemaCount, names.Count);
        Assert.Equal(SchemaCount, ResourceSchemaSet.Embedded.TypeNames.Count);
        Assert.Equal(ResourceSchemaSet.Embedded.TypeNames.Order(StringComparer.Ordinal), ResourceSchemaSet.Embedded.TypeNames);
    }

    [Theory]
    [InlineData("AWS::EC2::Route", "aws-ec2-route.json")]
    [InlineData("AWS::EC2::VPC", "aws-ec2-vpc.json")]
    [InlineData("AWS::ElasticLoadBalancingV2::TargetGroup", "aws-elasticloadbalancingv2-targetgroup.json")]
    [InlineData("AWS::SSM::Parameter", "aws-ssm-parameter.json")]
    public void TryGet_KnownType_ReturnsItsSchema(string typeName, string file)
    {
        Assert.True(ResourceSchemaSet.Embedded.TryGet(typeName, out var schema));

        Assert.Equal(typeName, schema.TypeName);
        Assert.Equal(ResourceSchemaSet.ResourcePrefix + file, schema.Source);
        Assert.Equal(typeName, schema.Root.GetProperty("typeName").GetString());
    }

    [Theory]
    [InlineData("AWS::EC2::Rout")]
    [InlineData("aws::ec2::route")]
    [InlineData("")]
    public void TryGet_UnknownType_ReturnsFalse(string typeName)
    {
        Assert.False(ResourceSchemaSet.Embedded.TryGet(typeName, out var schema));
        Assert.Null(schema);
    }

    [Fact]
    public void ReadOnlyProperties_TopLevelPointers_AreListedByName()
    {
        Assert.True(ResourceSchemaSet.Embedded.TryGet("AWS::EC2::Instance", out var instance));

        Assert.Contains("PrivateIp", instance.ReadOnlyProperties);
        Assert.Contains("InstanceId", instance.ReadOnlyProperties);
        Assert.DoesNotContain("SubnetId", instance.ReadOnlyProperties);
    }

    [Fact]
    public void EmbeddedResources_ComparedWithTheSourceTree_AreTheSameBytes()
    {
        var directory = Path.Combine(RepositoryRoot(), "src", "Provisioner", "CloudFormation", "Schemas");

        AssertEmbeddedEqual(directory);
    }

    [Fact]
    public void EmbeddedResources_ComparedWithTheSharedSchemas_AreTheSameBytes()
    {
        var shared = Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared", "cfn-schemas"));
        // The shared directory sits next to the repository on the development machine and in CI, not in every clone.
        // Through Requirements, so that in CI (which has it) a missing directory fails rather than skips.
        Requirements.SkipUnless(Directory.Exists(shared), $"{shared} does not exist, so there is nothing to compare the vendored schemas with.");

        AssertEmbeddedEqual(shared);
    }

    [Fact]
    public void FromJson_TwoSchemasForOneType_Throws()
    {
        var set = ResourceSchemaSet.FromJson(["""{"typeName": "X::Y::Z"}""", """{"typeName": "X::Y::Z"}"""]);

        var error = Assert.Throws<InvalidOperationException>(() => set.TypeNames);

        Assert.Contains("X::Y::Z", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("(")]
    [InlineData("[z-a]")]
    public void Pattern_DoesNotCompile_ReturnsNull(string pattern)
    {
        Assert.Null(ResourceSchemaSet.FromJson([]).Pattern(pattern));
    }

    [Fact]
    public void Pattern_EveryPatternInTheEmbeddedSchemas_Compiles()
    {
        var patterns = new List<string>();
        foreach (var typeName in ResourceSchemaSet.Embedded.TypeNames)
        {
            Assert.True(ResourceSchemaSet.Embedded.TryGet(typeName, out var schema));
            Collect(schema.Root, patterns);
        }

        Assert.NotEmpty(patterns);
        Assert.All(patterns, pattern => Assert.NotNull(ResourceSchemaSet.Embedded.Pattern(pattern)));
    }

    /// <summary>The directory holding EgressLab.slnx, found by walking up from the test binaries.</summary>
    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EgressLab.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No EgressLab.slnx above {AppContext.BaseDirectory}.");
    }

    private static void AssertEmbeddedEqual(string directory)
    {
        var files = Directory.GetFiles(directory, "*.json").Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal).ToList();
        var embedded = ResourceSchemaSet.EmbeddedResourceNames().Select(name => name[ResourceSchemaSet.ResourcePrefix.Length..]).ToList();
        Assert.Equal(files, embedded);

        var assembly = typeof(ResourceSchemaSet).Assembly;
        foreach (var file in files)
        {
            using var stream = assembly.GetManifestResourceStream(ResourceSchemaSet.ResourcePrefix + file)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Assert.True(File.ReadAllBytes(Path.Combine(directory, file)).AsSpan().SequenceEqual(copy.ToArray()), $"{file} differs from the embedded copy");
        }
    }

    private static void Collect(JsonElement element, List<string> patterns)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "pattern" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        patterns.Add(property.Value.GetString()!);
                    }
                    else if (property.Name == "patternProperties" && property.Value.ValueKind == JsonValueKind.Object)
                    {
                        patterns.AddRange(property.Value.EnumerateObject().Select(p => p.Name));
                    }

                    Collect(property.Value, patterns);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, patterns);
                }

                break;
        }
    }
}
