using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>Why reading the policy parameter failed.</summary>
internal enum PolicyParameterError
{
    /// <summary>The parameter does not exist (<c>ParameterNotFound</c>).</summary>
    NotFound,

    /// <summary>The credentials may not read the parameter, or not decrypt it (<c>AccessDeniedException</c>, KMS errors).</summary>
    AccessDenied,

    /// <summary>Systems Manager asked the caller to slow down (<c>ThrottlingException</c>).</summary>
    Throttled,

    /// <summary>Systems Manager answered with another error.</summary>
    Service,

    /// <summary>No answer: the network, a timeout, or no credentials found on this side.</summary>
    Client,
}

/// <summary>One read of the policy parameter: its document, or why there is none.</summary>
internal sealed record PolicyParameterRead(PolicyDocument? Document, PolicyParameterError Error, string Message)
{
    public static PolicyParameterRead Success(PolicyDocument document) => new(document, default, "");

    public static PolicyParameterRead Failure(PolicyParameterError error, string message) => new(null, error, message);

    /// <summary>What an operator can do about <see cref="Error"/>.</summary>
    public string Hint(string parameterName) => Error switch
    {
        PolicyParameterError.NotFound => $"Create it (aws ssm put-parameter --name {parameterName} --type String --value file://policy.json), or correct PolicySource.SsmParameter and PolicySource.Region.",
        PolicyParameterError.AccessDenied => "Grant the proxy's role ssm:GetParameter on the parameter, and kms:Decrypt on its key if it is a SecureString under a customer managed key.",
        PolicyParameterError.Throttled => "Systems Manager is throttling this account's GetParameter calls; poll less often (PolicySource.PollInterval) or raise the Parameter Store throughput limit.",
        PolicyParameterError.Client => "Check that the instance reaches Systems Manager (a route out, a proxy or a VPC endpoint) and has credentials (an instance profile on EC2).",
        _ => "See the error above.",
    };
}

/// <summary>Reads the policy parameter. One small seam, so that tests can count and fail reads.</summary>
internal interface IPolicyParameterClient
{
    /// <summary>Reads the parameter's current version, decrypted; never throws for a failed read.</summary>
    Task<PolicyParameterRead> ReadAsync(string parameterName, CancellationToken cancellationToken);
}

/// <summary>
/// Reads the parameter with Systems Manager's <c>GetParameter</c> (with decryption, so SecureString works). Credentials
/// come from the SDK's default chain (environment, profile, the instance profile on EC2) unless given.
/// </summary>
internal sealed class SsmPolicyParameterClient : IPolicyParameterClient, IDisposable
{
    /// <summary>How long one GetParameter call (each of the SDK's own retries) may take.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly AmazonSimpleSystemsManagementClient _client;

    public SsmPolicyParameterClient(PolicySourceSettings settings, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var config = new AmazonSimpleSystemsManagementConfig { Timeout = CallTimeout, MaxErrorRetry = 2 };
        if (settings.Region is { } region)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        if (settings.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = settings.Region;
        }

        _client = credentials is null ? new AmazonSimpleSystemsManagementClient(config) : new AmazonSimpleSystemsManagementClient(credentials, config);
    }

    public async Task<PolicyParameterRead> ReadAsync(string parameterName, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetParameterAsync(new GetParameterRequest { Name = parameterName, WithDecryption = true }, cancellationToken).ConfigureAwait(false);
            var parameter = response.Parameter;
            if (parameter?.Value is null || parameter.Version is not { } version)
            {
                return PolicyParameterRead.Failure(PolicyParameterError.Service, "the GetParameter response has no parameter value or version.");
            }

            return PolicyParameterRead.Success(new PolicyDocument(parameterName, version, parameter.Value));
        }
        catch (ParameterNotFoundException)
        {
            return PolicyParameterRead.Failure(PolicyParameterError.NotFound, "the parameter does not exist.");
        }
        catch (AmazonServiceException ex) when (ex.StatusCode == HttpStatusCode.Forbidden || ex.ErrorCode is "AccessDeniedException" || ex.ErrorCode?.StartsWith("KMS", StringComparison.Ordinal) == true)
        {
            return PolicyParameterRead.Failure(PolicyParameterError.AccessDenied, $"{ex.ErrorCode}: {ex.Message}");
        }
        catch (AmazonServiceException ex) when (ex.StatusCode == HttpStatusCode.TooManyRequests || ex.ErrorCode is "ThrottlingException" or "Throttling" or "TooManyUpdates")
        {
            return PolicyParameterRead.Failure(PolicyParameterError.Throttled, $"{ex.ErrorCode}: {ex.Message}");
        }
        catch (AmazonServiceException ex) when (ex.ErrorCode is { Length: > 0 })
        {
            return PolicyParameterRead.Failure(PolicyParameterError.Service, $"{ex.ErrorCode}: {ex.Message}");
        }
        catch (AmazonClientException ex)
        {
            // Network failures, a missing region or credentials, and service errors without a code land here.
            return PolicyParameterRead.Failure(PolicyParameterError.Client, ex.Message);
        }
        catch (HttpRequestException ex)
        {
            return PolicyParameterRead.Failure(PolicyParameterError.Client, ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return PolicyParameterRead.Failure(PolicyParameterError.Client, $"no answer within {CallTimeout.TotalSeconds} seconds.");
        }
    }

    public void Dispose() => _client.Dispose();
}
