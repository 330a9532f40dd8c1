package dev.rivet.virtio;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.GuestRam;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One queue, one processing thread at a time, and no notification lost, whoever kicks and whenever. */
class QueueWorkerTest {
    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final DmaView dma = new DmaView(ram);
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final ExecutorService pool = Executors.newFixedThreadPool(4);
    final Virtqueue queue = new Virtqueue(0, 16, dma);

    /** Just enough context for a worker: one queue, errors collected. */
    final VirtioContext ctx = new VirtioContext() {
        @Override
        public long features() {
            return 0;
        }

        @Override
        public Virtqueue queue(int index) {
            return queue;
        }

        @Override
        public DmaView dma() {
            return dma;
        }

        @Override
        public GuestErrorLog log() {
            return errors::add;
        }

        @Override
        public void usedBuffers(int index) {
        }

        @Override
        public void configChanged() {
        }

        @Override
        public void deviceError(String message) {
            errors.add(message);
            queue.stop();
        }
    };

    QueueWorkerTest() {
        queue.setSize(16);
        queue.setDescAddr(GuestDriver.RAM_BASE);
        queue.setDriverAddr(GuestDriver.RAM_BASE + 0x1000);
        queue.setDeviceAddr(GuestDriver.RAM_BASE + 0x2000);
        assertEquals(null, queue.enable(0));
    }

    @AfterEach
    void close() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        ram.close();
    }

    @Test
    void kicksFromManyThreadsNeverRunTwoProcessorsAtOnceAndNoneIsLost() throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicLong produced = new AtomicLong();
        AtomicLong consumed = new AtomicLong();
        AtomicInteger runs = new AtomicInteger();
        QueueWorker w = new QueueWorker(pool, ctx, 0, q -> {
            if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            assertTrue(q.lock().isHeldByCurrentThread());
            consumed.set(produced.get()); // everything produced so far is "processed"
            runs.incrementAndGet();
            Thread.onSpinWait();
            inside.decrementAndGet();
        });
        int threads = 4, kicks = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < kicks; i++) {
                    produced.incrementAndGet();
                    w.kick();
                }
            });
            th.start();
            ts.add(th);
        }
        go.countDown();
        for (Thread th : ts) {
            th.join();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (consumed.get() != (long) threads * kicks && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals((long) threads * kicks, consumed.get(), "the last kick was served");
        assertEquals(0, overlaps.get(), "two threads processed the queue at once");
        assertTrue(runs.get() <= threads * kicks, "kicks during a run fold into one more run");
    }

    @Test
    void aHostExceptionInTheHandlerBecomesADeviceError() {
        QueueWorker w = new QueueWorker(Runnable::run, ctx, 0, q -> {
            throw new IllegalStateException("bug");
        });
        w.kick();
        assertTrue(errors.getLast().contains("internal error") && errors.getLast().contains("bug"), errors.toString());
        assertTrue(!queue.active());
    }

    @Test
    void disablingTheQueueWaitsForTheRunInProgress() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        QueueWorker w = new QueueWorker(pool, ctx, 0, q -> {
            runs.incrementAndGet();
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        w.kick();
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        Thread disabler = new Thread(() -> queue.disable(true));
        disabler.start();
        disabler.join(200);
        assertTrue(disabler.isAlive(), "disable returned while the queue was being processed");
        release.countDown();
        disabler.join(10_000);
        assertTrue(!disabler.isAlive());
        w.kick(); // not ready any more: the handler is not called
        Thread.sleep(50);
        assertEquals(1, runs.get());
    }
}
