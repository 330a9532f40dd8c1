package dev.rivet.platform.monitor;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A script's view of the monitor socket: write a line, read lines up to OK or ERROR. */
final class MonitorClient implements AutoCloseable {
    final SocketChannel channel;
    final OutputStream out;
    final LineReader in;

    MonitorClient(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        out = Channels.newOutputStream(channel);
        InputStream raw = Channels.newInputStream(channel);
        in = new LineReader(raw, 1 << 16);
    }

    /** The reply's lines, the final one last. */
    List<String> command(String line) throws Exception {
        send((line + "\n").getBytes(StandardCharsets.UTF_8));
        return reply();
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    List<String> reply() throws Exception {
        List<String> lines = new ArrayList<>();
        while (true) {
            String l = in.readLine();
            if (l == null) {
                throw new IOException("connection closed after " + lines);
            }
            lines.add(l);
            if (Reply.isFinal(l)) {
                return lines;
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
