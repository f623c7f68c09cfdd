using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace EgressLab.ProxyInstance.Tunnel;

internal enum ClientHelloParseStatus
{
    /// <summary>More bytes are needed to decide.</summary>
    Incomplete,

    /// <summary>A complete, well-formed ClientHello; the server name (or its absence) is known.</summary>
    Parsed,

    /// <summary>The bytes are not a TLS handshake record (plain text, SSLv2, another protocol).</summary>
    NotTls,

    /// <summary>TLS records that do not carry a valid ClientHello within the byte limit.</summary>
    Malformed,
}

/// <summary>
/// Extracts the SNI host_name (RFC 6066 §3) from the ClientHello (RFC 8446 §4.1.2) a client sends first into a tunnel.
/// It looks without consuming, reassembles a ClientHello fragmented over several records, and allocates only the name.
/// </summary>
internal static class ClientHelloParser
{
    private const byte HandshakeContentType = 22;
    private const byte ClientHelloMessageType = 1;
    private const int RecordHeaderLength = 5;
    private const int HandshakeHeaderLength = 4;
    private const int RandomLength = 32;
    private const int MaxSessionIdLength = 32;

    // RFC 8446 §5.1: TLSPlaintext.length MUST NOT exceed 2^14.
    private const int MaxRecordPayloadLength = 16 * 1024;

    // RFC 6066 §3.
    private const ushort ServerNameExtensionType = 0;
    private const byte HostNameType = 0;

    // DNS limits (RFC 1035 §2.3.4): the name is compared with a CONNECT host that obeys them.
    private const int MaxServerNameLength = 253;
    private const int MaxLabelLength = 63;

    private static readonly SearchValues<byte> LabelChars =
        SearchValues.Create("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>Looks at the first bytes a client sent into a tunnel; consumes nothing.</summary>
    /// <param name="buffer">Bytes received from the client so far.</param>
    /// <param name="maxBytes">
    /// Most bytes, record headers included, that the records carrying the ClientHello may span; a ClientHello that needs more is Malformed.
    /// </param>
    /// <param name="serverName">On Parsed, the SNI host_name as sent, or null when the client sent none; otherwise null.</param>
    public static ClientHelloParseStatus TryParse(in ReadOnlySequence<byte> buffer, int maxBytes, out string? serverName)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        serverName = null;

        var reader = new SequenceReader<byte>(buffer);

        // RFC 8446 §5.1: the first record of a TLS connection is a handshake record with legacy_record_version 0x03xx.
        if (!reader.TryPeek(out byte firstByte))
        {
            return ClientHelloParseStatus.Incomplete;
        }

        if (firstByte != HandshakeContentType)
        {
            return ClientHelloParseStatus.NotTls;
        }

        if (!reader.TryPeek(1, out byte firstMajor))
        {
            return ClientHelloParseStatus.Incomplete;
        }

        if (firstMajor != 3)
        {
            return ClientHelloParseStatus.NotTls;
        }

        // Walk the records until they carry the whole handshake message, without copying anything but its 4-byte header.
        Span<byte> handshakeHeader = stackalloc byte[HandshakeHeaderLength];
        int handshakeHeaderBytes = 0;
        int messageLength = -1;
        long payloadSeen = 0;
        int firstRecordLength = 0;
        bool firstRecord = true;
        while (true)
        {
            long recordStart = reader.Consumed;
            if (recordStart + RecordHeaderLength > maxBytes)
            {
                return ClientHelloParseStatus.Malformed;
            }

            if (reader.Remaining < RecordHeaderLength)
            {
                return ClientHelloParseStatus.Incomplete;
            }

            reader.TryRead(out byte contentType);
            reader.TryRead(out byte major);
            reader.Advance(1);
            reader.TryReadBigEndian(out short signedLength);
            int recordLength = (ushort)signedLength;

            // RFC 8446 §5.1: handshake messages must not be interleaved with other record types, and handshake
            // records must not be empty. The first record's type and version were checked above.
            if (contentType != HandshakeContentType || major != 3
                || recordLength is 0 or > MaxRecordPayloadLength
                || recordStart + RecordHeaderLength + recordLength > maxBytes)
            {
                return ClientHelloParseStatus.Malformed;
            }

            if (firstRecord)
            {
                firstRecordLength = recordLength;
                firstRecord = false;
            }

            int available = (int)Math.Min(recordLength, reader.Remaining);
            int headerTake = Math.Min(HandshakeHeaderLength - handshakeHeaderBytes, available);
            if (headerTake > 0)
            {
                reader.TryCopyTo(handshakeHeader.Slice(handshakeHeaderBytes, headerTake));
                handshakeHeaderBytes += headerTake;

                // RFC 8446 §4: the client's first handshake message is client_hello.
                if (handshakeHeader[0] != ClientHelloMessageType)
                {
                    return ClientHelloParseStatus.Malformed;
                }

                if (handshakeHeaderBytes == HandshakeHeaderLength)
                {
                    messageLength = HandshakeHeaderLength + ((handshakeHeader[1] << 16) | (handshakeHeader[2] << 8) | handshakeHeader[3]);
                    if (RecordHeaderLength + (long)messageLength > maxBytes)
                    {
                        return ClientHelloParseStatus.Malformed;
                    }
                }
            }

            reader.Advance(available);
            payloadSeen += available;
            if (messageLength >= 0 && payloadSeen >= messageLength)
            {
                break;
            }

            if (available < recordLength)
            {
                return ClientHelloParseStatus.Incomplete;
            }
        }

        // Everything is there: parse in place when one record in one segment holds the message, else gather the fragments.
        if (firstRecordLength >= messageLength)
        {
            ReadOnlySequence<byte> message = buffer.Slice(RecordHeaderLength, messageLength);
            if (message.IsSingleSegment)
            {
                return ParseClientHello(message.FirstSpan[HandshakeHeaderLength..], out serverName);
            }
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(messageLength);
        try
        {
            Gather(in buffer, rented.AsSpan(0, messageLength));
            return ParseClientHello(rented.AsSpan(HandshakeHeaderLength, messageLength - HandshakeHeaderLength), out serverName);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // Copies the payload of consecutive records, already validated by the walk above, into destination.
    private static void Gather(in ReadOnlySequence<byte> buffer, Span<byte> destination)
    {
        var reader = new SequenceReader<byte>(buffer);
        int copied = 0;
        while (copied < destination.Length)
        {
            reader.Advance(3);
            reader.TryReadBigEndian(out short signedLength);
            int take = Math.Min((ushort)signedLength, destination.Length - copied);
            reader.TryCopyTo(destination.Slice(copied, take));
            reader.Advance(take);
            copied += take;
        }
    }

    // RFC 8446 §4.1.2 (and RFC 5246 §7.4.1.2, which lets a TLS 1.2 ClientHello end without extensions).
    private static ClientHelloParseStatus ParseClientHello(ReadOnlySpan<byte> body, out string? serverName)
    {
        serverName = null;

        // legacy_version (0x03xx) and random.
        int p = 2 + RandomLength;
        if (body.Length < p + 1 || body[0] != 3)
        {
            return ClientHelloParseStatus.Malformed;
        }

        // legacy_session_id<0..32>.
        int sessionIdLength = body[p++];
        if (sessionIdLength > MaxSessionIdLength || !TrySkip(body, ref p, sessionIdLength))
        {
            return ClientHelloParseStatus.Malformed;
        }

        // cipher_suites<2..2^16-2>, two bytes each.
        if (!TryReadUInt16(body, ref p, out int cipherSuitesLength)
            || cipherSuitesLength < 2 || cipherSuitesLength % 2 != 0
            || !TrySkip(body, ref p, cipherSuitesLength))
        {
            return ClientHelloParseStatus.Malformed;
        }

        // legacy_compression_methods<1..2^8-1>.
        if (p >= body.Length)
        {
            return ClientHelloParseStatus.Malformed;
        }

        int compressionMethodsLength = body[p++];
        if (compressionMethodsLength < 1 || !TrySkip(body, ref p, compressionMethodsLength))
        {
            return ClientHelloParseStatus.Malformed;
        }

        if (p == body.Length)
        {
            return ClientHelloParseStatus.Parsed;
        }

        // extensions<..2^16-1> must fill the rest of the message exactly.
        if (!TryReadUInt16(body, ref p, out int extensionsLength) || p + extensionsLength != body.Length)
        {
            return ClientHelloParseStatus.Malformed;
        }

        ReadOnlySpan<byte> serverNameData = default;
        bool sawServerName = false;
        while (p < body.Length)
        {
            if (!TryReadUInt16(body, ref p, out int extensionType)
                || !TryReadUInt16(body, ref p, out int extensionLength)
                || p + extensionLength > body.Length)
            {
                return ClientHelloParseStatus.Malformed;
            }

            if (extensionType == ServerNameExtensionType)
            {
                // RFC 8446 §4.2: an extension type must not appear twice; two names would let the proxy and the
                // origin see different ones.
                if (sawServerName)
                {
                    return ClientHelloParseStatus.Malformed;
                }

                sawServerName = true;
                serverNameData = body.Slice(p, extensionLength);
            }

            p += extensionLength;
        }

        if (!sawServerName)
        {
            return ClientHelloParseStatus.Parsed;
        }

        // RFC 6066 §3: ServerNameList server_name_list<1..2^16-1>, entries of name_type and HostName<1..2^16-1>.
        int q = 0;
        if (!TryReadUInt16(serverNameData, ref q, out int listLength) || listLength == 0 || q + listLength != serverNameData.Length)
        {
            return ClientHelloParseStatus.Malformed;
        }

        ReadOnlySpan<byte> hostName = default;
        bool sawHostName = false;
        while (q < serverNameData.Length)
        {
            byte nameType = serverNameData[q++];
            if (!TryReadUInt16(serverNameData, ref q, out int nameLength) || q + nameLength > serverNameData.Length)
            {
                return ClientHelloParseStatus.Malformed;
            }

            if (nameType == HostNameType)
            {
                // RFC 6066 §3: at most one name of each name_type.
                if (sawHostName)
                {
                    return ClientHelloParseStatus.Malformed;
                }

                sawHostName = true;
                hostName = serverNameData.Slice(q, nameLength);
            }

            q += nameLength;
        }

        if (!sawHostName)
        {
            return ClientHelloParseStatus.Parsed;
        }

        if (!IsValidHostName(hostName))
        {
            return ClientHelloParseStatus.Malformed;
        }

        serverName = Encoding.ASCII.GetString(hostName);
        return ClientHelloParseStatus.Parsed;
    }

    // RFC 6066 §3: ASCII, no trailing dot. Restricted further to DNS names: labels of letters, digits, '-' and '_',
    // so a NUL, a space or a non-ASCII byte can never reach a comparison or a log line.
    private static bool IsValidHostName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.Length > MaxServerNameLength)
        {
            return false;
        }

        while (true)
        {
            int dot = name.IndexOf((byte)'.');
            ReadOnlySpan<byte> label = dot < 0 ? name : name[..dot];
            if (label.IsEmpty || label.Length > MaxLabelLength || label.ContainsAnyExcept(LabelChars))
            {
                return false;
            }

            if (dot < 0)
            {
                return true;
            }

            name = name[(dot + 1)..];
        }
    }

    private static bool TryReadUInt16(ReadOnlySpan<byte> span, ref int position, out int value)
    {
        if (position + 2 > span.Length)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(span[position..]);
        position += 2;
        return true;
    }

    private static bool TrySkip(ReadOnlySpan<byte> span, ref int position, int count)
    {
        if (position + count > span.Length)
        {
            return false;
        }

        position += count;
        return true;
    }
}
