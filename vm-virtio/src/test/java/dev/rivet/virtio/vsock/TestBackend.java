package dev.rivet.virtio.vsock;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An in-memory host side: host ports that "listen" accept guest connections; each host end
 * is a {@link Stream} the test feeds and drains, keeping to the backend contract (a read
 * with nothing returns 0 and signals readable later; a short write signals writable later).
 */
final class TestBackend implements VsockBackend {
    final Set<Integer> listening = ConcurrentHashMap.newKeySet();
    final List<Stream> streams = Collections.synchronizedList(new ArrayList<>());
    final LinkedBlockingQueue<Stream> accepted = new LinkedBlockingQueue<>();
    volatile VsockHost host;
    volatile boolean closed;

    @Override
    public void start(VsockHost device) {
        host = device;
    }

    @Override
    public VsockStream connect(int hostPort, int guestPort, VsockConnection connection) {
        if (!listening.contains(hostPort)) {
            return null;
        }
        Stream s = new Stream(connection, hostPort, guestPort);
        streams.add(s);
        accepted.add(s);
        return s;
    }

    /** A host program connects to the guest's {@code guestPort}. */
    Stream connectToGuest(int guestPort) {
        Stream s = new Stream(null, -1, guestPort);
        streams.add(s);
        s.connection = host.connectToGuest(guestPort, s);
        return s;
    }

    Stream nextAccepted() throws InterruptedException {
        Stream s = accepted.poll(10, TimeUnit.SECONDS);
        if (s == null) {
            throw new AssertionError("the backend saw no connection");
        }
        return s;
    }

    @Override
    public void close() {
        closed = true;
    }

    /** One host end. */
    static final class Stream implements VsockStream {
        volatile VsockConnection connection;
        final int guestPort;
        volatile int hostPort;

        // host -> guest
        private final ArrayDeque<Byte> inbound = new ArrayDeque<>();
        private boolean eof;
        private boolean readArmed;
        /** Endless data: byte i of the stream is (byte) i. */
        private boolean endless;
        long totalRead;
        long largestReadAsked;
        /** Data that "arrives" (and is signalled) during the next read that finds nothing. */
        byte[] arriveDuringEmptyRead;
        IOException readError;

        // guest -> host
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private long room = Long.MAX_VALUE;
        private boolean writeArmed;
        IOException writeError;

        volatile boolean outputShut;
        volatile boolean closedByDevice;
        volatile int established = -1;
        volatile int callsAfterClose;

        Stream(VsockConnection connection, int hostPort, int guestPort) {
            this.connection = connection;
            this.hostPort = hostPort;
            this.guestPort = guestPort;
        }

        /** The host program writes {@code data} towards the guest. */
        void offer(byte[] data) {
            boolean wake;
            synchronized (this) {
                for (byte b : data) {
                    inbound.add(b);
                }
                wake = readArmed;
                readArmed = false;
            }
            if (wake) {
                connection.readable();
            }
        }

        /** The host program shuts down its sending side. */
        void hostEof() {
            boolean wake;
            synchronized (this) {
                eof = true;
                wake = readArmed;
                readArmed = false;
            }
            if (wake) {
                connection.readable();
            }
        }

        void endless() {
            synchronized (this) {
                endless = true;
                readArmed = false;
            }
            connection.readable();
        }

        /** The host program will take {@code n} more bytes. */
        void allowWrite(long n) {
            boolean wake;
            synchronized (this) {
                room += n;
                wake = writeArmed;
                writeArmed = false;
            }
            if (wake) {
                connection.writable();
            }
        }

        synchronized void limitWrites(long n) {
            room = n;
        }

        synchronized byte[] receivedBytes() {
            return received.toByteArray();
        }

        synchronized long totalRead() {
            return totalRead;
        }

        @Override
        public synchronized int read(ByteBuffer dst) throws IOException {
            check();
            if (readError != null) {
                throw readError;
            }
            largestReadAsked = Math.max(largestReadAsked, dst.remaining());
            if (endless) {
                int n = dst.remaining();
                for (int i = 0; i < n; i++) {
                    dst.put((byte) (totalRead + i));
                }
                totalRead += n;
                return n;
            }
            if (inbound.isEmpty()) {
                if (eof) {
                    return -1;
                }
                if (arriveDuringEmptyRead != null) {
                    // The worst moment: after the host found nothing, before the device notes it.
                    for (byte b : arriveDuringEmptyRead) {
                        inbound.add(b);
                    }
                    arriveDuringEmptyRead = null;
                    connection.readable();
                    return 0;
                }
                readArmed = true;
                return 0;
            }
            int n = 0;
            while (dst.hasRemaining() && !inbound.isEmpty()) {
                dst.put(inbound.poll());
                n++;
            }
            totalRead += n;
            return n;
        }

        @Override
        public synchronized int write(ByteBuffer src) throws IOException {
            check();
            if (writeError != null) {
                throw writeError;
            }
            int n = (int) Math.min(room, src.remaining());
            byte[] b = new byte[n];
            src.get(b);
            received.writeBytes(b);
            room -= n;
            if (src.hasRemaining()) {
                writeArmed = true;
            }
            return n;
        }

        @Override
        public void shutdownOutput() {
            check();
            outputShut = true;
        }

        @Override
        public void close() {
            check();
            closedByDevice = true;
        }

        @Override
        public void established(int port) {
            check();
            established = port;
            hostPort = port;
        }

        private void check() {
            if (closedByDevice) {
                callsAfterClose++;
            }
        }
    }
}
