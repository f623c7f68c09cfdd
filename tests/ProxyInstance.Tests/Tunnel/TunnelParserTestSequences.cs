using System.Buffers;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

/// <summary>Builds multi-segment sequences the way a pipe hands them over, to exercise parsers across segment boundaries.</summary>
internal static class TunnelParserTestSequences
{
    /// <summary>One segment per chunk of <paramref name="segmentSize"/> bytes, each in its own array; optionally an empty segment between each.</summary>
    public static ReadOnlySequence<byte> Chunked(ReadOnlySpan<byte> data, int segmentSize, bool emptySegmentsBetween = false)
    {
        var chunks = new List<byte[]>();
        for (int i = 0; i < data.Length; i += segmentSize)
        {
            if (emptySegmentsBetween && i > 0)
            {
                chunks.Add([]);
            }

            chunks.Add(data.Slice(i, Math.Min(segmentSize, data.Length - i)).ToArray());
        }

        return FromChunks(chunks);
    }

    /// <summary>Segments cut at the given offsets (ascending), each in its own array.</summary>
    public static ReadOnlySequence<byte> SplitAt(ReadOnlySpan<byte> data, params int[] cuts)
    {
        var chunks = new List<byte[]>();
        int start = 0;
        foreach (int cut in cuts)
        {
            chunks.Add(data[start..cut].ToArray());
            start = cut;
        }

        chunks.Add(data[start..].ToArray());
        return FromChunks(chunks);
    }

    public static ReadOnlySequence<byte> FromChunks(IReadOnlyList<byte[]> chunks)
    {
        if (chunks.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(chunks[0], 0);
        Segment last = first;
        for (int i = 1; i < chunks.Count; i++)
        {
            last = last.Append(chunks[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
