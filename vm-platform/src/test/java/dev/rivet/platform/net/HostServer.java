package dev.rivet.platform.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A host-side TCP server on 127.0.0.1 for the tests, each accepted socket served by a
 * virtual thread running {@link Behaviour}. It counts sockets accepted and finished (closed
 * by the server after the behaviour ended), and records how each one ended.
 */
final class HostServer implements AutoCloseable {
    interface Behaviour {
        void serve(Socket s, InputStream in, OutputStream out) throws IOException;
    }

    /** Copies input to output; at end of input, shuts down output. */
    static final Behaviour ECHO = (s, in, out) -> {
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
        }
        s.shutdownOutput();
        while (in.read(buf) >= 0) {
            // drain until the other side closes too
        }
    };

    private final ServerSocket server;
    private final Thread acceptor;
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger finished = new AtomicInteger();
    /** "ok" or the exception message, per finished socket. */
    final List<String> endings = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    HostServer(Behaviour behaviour) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        acceptor = Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    sockets.add(s);
                    Thread.ofVirtual().start(() -> {
                        try (s) {
                            behaviour.serve(s, s.getInputStream(), s.getOutputStream());
                            endings.add("ok");
                        } catch (IOException e) {
                            endings.add(String.valueOf(e.getMessage()));
                        } finally {
                            finished.incrementAndGet();
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    int port() {
        return server.getLocalPort();
    }

    /** Waits (bounded) until {@code n} sockets have finished. */
    boolean awaitFinished(int n, long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000;
        while (finished.get() < n && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        return finished.get() >= n;
    }

    @Override
    public void close() throws Exception {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        acceptor.join();
    }
}
