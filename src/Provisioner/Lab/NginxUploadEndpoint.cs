namespace EgressLab.Provisioner.Lab;

/// <summary>
/// The origin's <c>/upload</c> in nginx, for the lab's web servers and the bench's origin: it answers <c>200 ok</c>
/// only once it has read the whole request body, as S3 answers a <c>PUT</c>.
/// </summary>
/// <remarks>
/// <para>nginx's <c>return</c> answers as soon as the request head is in and throws the body away afterwards. A
/// client, or a proxy, then gets its answer while it is still sending, and an upload measures how fast a peer stops
/// sending (or how a proxy copes with an early answer) instead of how fast the bytes travel. curl, which sends
/// <c>Expect: 100-continue</c> above 1 MiB, does not send the body at all.</para>
/// <para>Here the location hands the request to an upstream with request buffering on (nginx's default), so nginx reads
/// the whole body first, in memory up to <see cref="BodyBufferMegabytes"/> MiB. The body goes no further
/// (<c>proxy_pass_request_body off</c>): the upstream, a server on a Unix socket in the same nginx, answers the bare
/// head. Only the outer request is in the web server's access log.</para>
/// </remarks>
internal static class NginxUploadEndpoint
{
    /// <summary>The largest body kept in memory while it is read; a larger one goes to nginx's body temp directory.</summary>
    public const int BodyBufferMegabytes = 128;

    /// <summary>The <c>http</c>-level part: the upstream and the server behind it, listening on <paramref name="socketPath"/>.</summary>
    public static string HttpBlock(string socketPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        return $$"""
              # /upload answers once the whole body is read: see the location below.
              upstream upload_complete { server unix:{{socketPath}}; keepalive 32; }
              server {
                listen unix:{{socketPath}};
                access_log off;
                location / { default_type text/plain; return 200 "ok\n"; }
              }

            """;
    }

    /// <summary>The <c>server</c>-level part: the <c>/upload</c> location of a web server, each line after <paramref name="indent"/>.</summary>
    public static string Location(string indent)
    {
        string[] lines =
        [
            "location = /upload {",
            "  client_max_body_size 1g;",
            $"  client_body_buffer_size {BodyBufferMegabytes}m;",
            "  proxy_http_version 1.1;",
            "  proxy_set_header Connection \"\";",
            "  proxy_pass_request_body off;",
            "  proxy_set_header Content-Length \"\";",
            "  proxy_pass http://upload_complete;",
            "}",
        ];
        return string.Concat(lines.Select(line => indent + line + "\n"));
    }
}
