package dev.rivet.jit;

import dev.rivet.ir.IrBlock;
import dev.rivet.ir.exec.BlockCompiler;
import dev.rivet.ir.exec.CompiledBlock;

import java.lang.invoke.MethodHandles;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The JIT tier (first slice): lowers one IR block to one hidden class with ASM, on one
 * background daemon thread fed by a bounded queue. The thread stops after a few idle
 * seconds and starts again on demand, so a machine that is dropped leaves nothing
 * running; no state is static. Hidden classes are defined non-strongly (unloadable once
 * the block that holds the instance is dropped).
 *
 * <p>Blocks with ops outside this slice (FP arithmetic, atomics, CSR/trap/privileged ops)
 * or whose method would reach {@link #MAX_CODE_SIZE} bytes are rejected and stay
 * interpreted.
 */
public final class JitCompiler implements BlockCompiler {
    /** Generated methods stay well below HotSpot's 8000-byte huge-method limit. */
    public static final int MAX_CODE_SIZE = 7999;
    private static final int QUEUE = 4096;

    private final MethodHandles.Lookup lookup = MethodHandles.lookup();
    private final ThreadPoolExecutor worker;
    private final AtomicLong compiled = new AtomicLong(), rejected = new AtomicLong(),
            bytes = new AtomicLong(), nanos = new AtomicLong(), dropped = new AtomicLong(),
            failed = new AtomicLong();

    public JitCompiler() {
        worker = new ThreadPoolExecutor(1, 1, 5, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "rivet-jit");
            t.setDaemon(true);
            return t;
        }, (r, ex) -> dropped.incrementAndGet());
        worker.allowCoreThreadTimeOut(true);
    }

    /** Asynchronous: queues the block (dropped when the queue is full) and returns. */
    @Override
    public void request(IrBlock block, Consumer<CompiledBlock> install) {
        worker.execute(() -> {
            CompiledBlock c = compile(block);
            if (c != null) {
                install.accept(c);
            }
        });
    }

    /**
     * A compiler that compiles on the caller's thread and installs before returning: for
     * tests and {@code --jit=always}, where every block should run compiled from its
     * first execution and runs must be reproducible.
     */
    public BlockCompiler synchronous() {
        return (block, install) -> {
            CompiledBlock c = compile(block);
            if (c != null) {
                install.accept(c);
            }
        };
    }

    /** Compiles one block now; null when it is rejected (counted). */
    public CompiledBlock compile(IrBlock block) {
        long t0 = System.nanoTime();
        try {
            BlockLowering l = BlockLowering.lower(block, MAX_CODE_SIZE);
            if (l.bytes == null || l.codeSize > MAX_CODE_SIZE) {
                rejected.incrementAndGet();
                return null;
            }
            MethodHandles.Lookup hc = lookup.defineHiddenClass(l.bytes, true);
            CompiledBlock c = (CompiledBlock) hc.lookupClass().getConstructor().newInstance();
            compiled.incrementAndGet();
            bytes.addAndGet(l.codeSize);
            return c;
        } catch (ReflectiveOperationException | LinkageError e) {
            failed.incrementAndGet();
            return null;
        } finally {
            nanos.addAndGet(System.nanoTime() - t0);
        }
    }

    /** Why this slice would not compile {@code block}, or null if it would. For tests and tools. */
    public static String rejection(IrBlock block) {
        BlockLowering l = BlockLowering.lower(block, MAX_CODE_SIZE);
        if (l.bytes == null) {
            return l.rejection;
        }
        return l.codeSize > MAX_CODE_SIZE ? "method too large (" + l.codeSize + " bytes)" : null;
    }

    /** The class bytes this compiler would define for {@code block} (null if rejected). */
    public static byte[] classBytes(IrBlock block) {
        return BlockLowering.lower(block, MAX_CODE_SIZE).bytes;
    }

    public long compiledBlocks() {
        return compiled.get();
    }

    public long rejectedBlocks() {
        return rejected.get();
    }

    /** Bytecode bytes of the generated {@code run} methods. */
    public long bytecodeBytes() {
        return bytes.get();
    }

    public long compileNanos() {
        return nanos.get();
    }

    /** Requests dropped because the queue was full. */
    public long droppedRequests() {
        return dropped.get();
    }

    /** Blocks that failed to define or link (a code generator bug; should stay 0). */
    public long failedBlocks() {
        return failed.get();
    }

    /** Requests still waiting. */
    public int queued() {
        return worker.getQueue().size();
    }

    public String stats() {
        return String.format("jit: %d blocks compiled, %d rejected, %d failed, %d dropped, %d bytecode bytes, %.1f ms compiling",
                compiledBlocks(), rejectedBlocks(), failedBlocks(), droppedRequests(), bytecodeBytes(), compileNanos() / 1e6);
    }

    /** Stops the worker thread (queued requests are discarded). */
    public void shutdown() {
        worker.shutdownNow();
    }
}
