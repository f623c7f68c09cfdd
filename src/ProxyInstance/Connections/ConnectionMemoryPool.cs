using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace EgressLab.ProxyInstance.Connections;

/// <summary>
/// The memory pool Kestrel's socket transport reads client bytes into: pinned blocks of
/// <see cref="ConnectionMemoryPool.BlockSize"/> bytes instead of Kestrel's own 4 KiB.
/// </summary>
/// <remarks>
/// <para>Kestrel's transport asks its input pipe for at least 2 KiB before each receive and the pipe hands out what is
/// left of its current block, so with 4 KiB blocks a client's upload arrives 2 to 4 KiB per <c>recv</c>, and every
/// chunk then passes through the pipe, the request body stream and the forwarder, or through the tunnel relay, on its
/// own. With 32 KiB blocks an upload through the proxy took about a tenth of the system calls.</para>
/// <para>The block is taken only while the connection has data to read (Kestrel waits for data before it rents),
/// and it goes back to the pool once the bytes in it are consumed, so an idle connection or tunnel holds none.
/// The pool keeps at most <see cref="ConnectionMemoryPool.MaxPooledBlocks"/> free blocks; beyond that a returned block
/// is left to the garbage collector.</para>
/// </remarks>
internal sealed class ConnectionMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    private readonly ConcurrentQueue<ConnectionMemoryPool> _created = new();

    /// <summary>The pools made so far (Kestrel makes one per transport and one for its HTTP layer).</summary>
    public IReadOnlyCollection<ConnectionMemoryPool> Created => _created;

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new ConnectionMemoryPool();
        _created.Enqueue(pool);
        return pool;
    }
}

/// <summary>A pool of pinned, fixed-size blocks; see <see cref="ConnectionMemoryPoolFactory"/>.</summary>
internal sealed class ConnectionMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of every block: 32 KiB.</summary>
    public const int BlockSize = 32 * 1024;

    /// <summary>Free blocks kept for reuse: 512, 16 MiB.</summary>
    public const int MaxPooledBlocks = 512;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;
    private long _rents;
    private volatile bool _disposed;

    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks handed out so far, new or reused.</summary>
    public long Rents => Interlocked.Read(ref _rents);

    /// <summary>Free blocks waiting for reuse.</summary>
    public int Pooled => Volatile.Read(ref _freeCount);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            // Pipes never ask for more than MaxBufferSize; anyone else gets memory of their own.
            return new Unpooled(minBufferSize);
        }

        Interlocked.Increment(ref _rents);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Lease();
            return block;
        }

        var fresh = new Block(this);
        fresh.Lease();
        return fresh;
    }

    private void Return(Block block)
    {
        if (!_disposed && Interlocked.Increment(ref _freeCount) <= MaxPooledBlocks)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private sealed class Unpooled(int size) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = GC.AllocateUninitializedArray<byte>(size, pinned: true);

        public void Dispose()
        {
        }
    }

    private sealed class Block(ConnectionMemoryPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
        private int _leased;

        public Memory<byte> Memory => _array;

        public void Lease() => Volatile.Write(ref _leased, 1);

        public void Dispose()
        {
            // A block disposed twice must not sit in the pool twice.
            if (Interlocked.Exchange(ref _leased, 0) == 1)
            {
                pool.Return(this);
            }
        }
    }
}
