using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EgressLab.ProxyInstance.Tunnel;

/// <summary>
/// A kernel pipe that moves a tunnel's bytes from one socket to another with splice(2), as HAProxy does on Linux:
/// the bytes go from the source socket's receive queue into the pipe and from the pipe into the destination socket's
/// send queue as page references, and are never copied into the process and out again.
/// </summary>
/// <remarks>
/// Both sockets are non-blocking (.NET makes them so), so every call returns at once; the caller waits for data, or for
/// room at the destination, through the socket's own asynchronous operations. A pipe costs two file descriptors, so the
/// relay makes one for a burst of data and closes it when the burst ends: an idle tunnel holds none.
/// </remarks>
internal sealed partial class SplicePipe : IDisposable
{
    /// <summary>The most one call moves: as much as the pipe holds.</summary>
    private const int Capacity = 256 * 1024;

    private const int EAGAIN = 11;
    private const int EINTR = 4;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;
    private const int F_SETPIPE_SZ = 1031;
    private const uint SPLICE_F_MOVE = 1;
    private const uint SPLICE_F_NONBLOCK = 2;

    private readonly int _read;
    private readonly int _write;
    private readonly int _capacity;
    private bool _disposed;

    private SplicePipe(int read, int write, int capacity)
    {
        _read = read;
        _write = write;
        _capacity = capacity;
    }

    /// <summary>Whether this system has splice(2): Linux.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>Bytes in the pipe, taken from the source and not yet given to the destination.</summary>
    public int Pending { get; private set; }

    /// <summary>A new pipe, or null when none can be made (no file descriptor left): the relay then copies.</summary>
    public static SplicePipe? TryCreate()
    {
        if (!IsSupported)
        {
            return null;
        }

        Span<int> fds = stackalloc int[2];
        if (Pipe2(ref MemoryMarshal.GetReference(fds), O_NONBLOCK | O_CLOEXEC) != 0)
        {
            return null;
        }

        // A larger pipe moves more per call; the kernel may refuse (pipe-max-size, a user's pipe pages), and then the
        // default (64 KiB) serves.
        var capacity = Fcntl(fds[1], F_SETPIPE_SZ, Capacity);
        return new SplicePipe(fds[0], fds[1], capacity > 0 ? capacity : 64 * 1024);
    }

    /// <summary>
    /// Moves what <paramref name="source"/> has received, up to what the pipe holds, into the pipe (which must be
    /// empty). Returns the bytes moved, 0 at the end of the source's stream, or -1 when it has nothing now.
    /// </summary>
    /// <exception cref="SocketException">The source failed (a reset).</exception>
    /// <exception cref="ObjectDisposedException">The source socket was closed.</exception>
    public int Fill(Socket source)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var moved = Splice(source.SafeHandle, fromSocket: true, _capacity - Pending);
        if (moved > 0)
        {
            Pending += moved;
        }

        return moved;
    }

    /// <summary>
    /// Moves what the pipe holds into <paramref name="destination"/>. Returns the bytes moved, or -1 when the destination
    /// has no room now (the bytes stay in the pipe: take them with <see cref="TakePending"/>).
    /// </summary>
    /// <exception cref="SocketException">The destination failed (a reset, or it closed).</exception>
    /// <exception cref="ObjectDisposedException">The destination socket was closed.</exception>
    public int Drain(Socket destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var moved = Splice(destination.SafeHandle, fromSocket: false, Pending);
        if (moved > 0)
        {
            Pending -= moved;
        }

        return moved == 0 ? -1 : moved;
    }

    /// <summary>Copies bytes out of the pipe into <paramref name="buffer"/>, for a destination that must be waited for.</summary>
    public int TakePending(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (true)
        {
            var read = Read(_read, ref MemoryMarshal.GetReference(buffer), (nuint)Math.Min(buffer.Length, Pending));
            if (read >= 0)
            {
                Pending -= (int)read;
                return (int)read;
            }

            if (Marshal.GetLastPInvokeError() != EINTR)
            {
                throw new InvalidOperationException($"reading a splice pipe failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
    }

    private int Splice(SafeHandle socket, bool fromSocket, int length)
    {
        var added = false;
        try
        {
            // Held while the call runs, so a socket closed meanwhile keeps its descriptor until then.
            socket.DangerousAddRef(ref added);
            var fd = (int)socket.DangerousGetHandle();
            while (true)
            {
                var moved = fromSocket
                    ? SpliceCall(fd, 0, _write, 0, (nuint)length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
                    : SpliceCall(_read, 0, fd, 0, (nuint)length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                if (moved >= 0)
                {
                    return (int)moved;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == EAGAIN)
                {
                    return fromSocket ? -1 : 0;
                }

                if (errno != EINTR)
                {
                    throw new SocketException((int)SocketError.ConnectionReset, $"splice failed with errno {errno}");
                }
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Close(_read);
        Close(_write);
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(ref int fds, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint SpliceCall(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, ref byte buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
