package dev.rivet.virtio;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a device's processing of one queue on an {@link Executor}, one thread at a time,
 * under the queue's lock (so that reset can wait for it). A notification while processing
 * is in progress makes it run once more rather than start a second thread, so none is
 * lost and none runs concurrently.
 *
 * <p>With a direct executor ({@code Runnable::run}) the processing happens on the
 * notifying hart thread, which suits devices whose work is quick and never blocks.
 *
 * <p>A {@link VirtqueueException} from the handler, or any host exception, becomes a
 * device error (DEVICE_NEEDS_RESET), never an exception on the executor or the hart.
 */
public final class QueueWorker implements Runnable {
    /** Processes whatever is available on the queue; called with the queue's lock held. */
    @FunctionalInterface
    public interface Handler {
        void process(Virtqueue queue) throws VirtqueueException;
    }

    private static final int IDLE = 0, RUNNING = 1, RUN_AGAIN = 2;

    private final Executor executor;
    private final VirtioContext context;
    private final int queue;
    private final Handler handler;
    private final AtomicInteger state = new AtomicInteger(IDLE);

    public QueueWorker(Executor executor, VirtioContext context, int queue, Handler handler) {
        this.executor = executor;
        this.context = context;
        this.queue = queue;
        this.handler = handler;
    }

    /** Schedules processing, or asks the run in progress to look again. Any thread, never blocks. */
    public void kick() {
        for (;;) {
            int s = state.get();
            if (s == RUN_AGAIN) {
                return;
            }
            if (state.compareAndSet(s, s + 1)) {
                if (s == IDLE) {
                    try {
                        executor.execute(this);
                    } catch (RejectedExecutionException e) {
                        state.set(IDLE);
                        context.log().guestError("virtio: queue " + queue + " not processed, executor refused: " + e);
                    }
                }
                return;
            }
        }
    }

    @Override
    public void run() {
        do {
            state.set(RUNNING); // a kick from here on makes us go round again
            Virtqueue q = context.queue(queue);
            q.lock().lock();
            try {
                if (q.active()) {
                    handler.process(q);
                }
            } catch (VirtqueueException e) {
                context.deviceError(e.getMessage());
            } catch (RuntimeException | Error e) {
                // A host bug: keep the hart and the executor alive, stop the device, say why.
                context.deviceError("internal error processing queue " + queue + ": " + e);
                if (e instanceof VirtualMachineError) {
                    throw e;
                }
            } finally {
                q.lock().unlock();
            }
        } while (!state.compareAndSet(RUNNING, IDLE));
    }
}
