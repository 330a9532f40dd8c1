package dev.rivet.platform.net;

import java.util.SplittableRandom;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A deliberately simple guest TCP endpoint for tests: in-order receive only (a segment
 * ahead of what it expects is dropped and re-acknowledged, as a minimal stack may do), a
 * fixed receive buffer whose free space is the advertised window, an application that can
 * stop reading (closing the window), go-back-N retransmission of its own data, and optional
 * seeded loss of incoming data segments. It checks that the backend never sends past the
 * window it advertised and that every received byte is the expected one.
 */
final class GuestTcp {
    enum State { CLOSED, SYN_SENT, SYN_RECEIVED, ESTABLISHED }

    /** Byte {@code i} of the test stream: random-access and not periodic in a few KB. */
    static byte streamByte(long i) {
        long z = i * 0x9E3779B97F4A7C15L;
        z ^= z >>> 29;
        z *= 0xBF58476D1CE4E5B9L;
        return (byte) (z >>> 32);
    }

    private static final long RETRANSMIT_NANOS = 300_000_000L;

    final TestGuest guest;
    final int localIp;
    final int localPort;
    final int remoteIp;
    final int remotePort;
    private final int capacity;
    private final int ourWscale;
    private final SplittableRandom loss;
    private final double lossRate;

    State state = State.CLOSED;
    private int iss;
    private int sndUna;
    private int sndNxt;
    private int sndMax;
    private int rcvNxt;
    private long peerWindow;
    private int peerWscale;
    private int peerMss = 536;
    /** Highest sequence number (exclusive) our advertisements allowed. */
    private int rightEdge;
    private boolean edgeKnown;

    /** Bytes of the test stream to send, and how many went into sequence space. */
    long sendTotal;
    boolean closeAfterSend;
    private boolean finSent;
    boolean finAcked;
    boolean peerFin;
    boolean reset;
    /** The RST came at exactly the next byte expected: after all the data, and one Linux believes (RFC 5961 section 3). */
    boolean resetAtRcvNxt;
    long lastPeerMss = -1;
    int lastPeerWscale = -1;
    int synWindow;

    /** Received bytes accepted, checked against {@link #streamByte} when {@code verifyStream}. */
    long received;
    final CRC32 receivedCrc = new CRC32();
    boolean verifyStream = true;
    final java.io.ByteArrayOutputStream receivedBytes = new java.io.ByteArrayOutputStream();
    boolean keepBytes;
    boolean appPaused;
    private int unread;
    long dropped;
    boolean sawZeroWindow;
    long retransmits;
    private long lastProgress = System.nanoTime();

    GuestTcp(TestGuest guest, int localIp, int localPort, int remoteIp, int remotePort, int capacity, int ourWscale,
             SplittableRandom loss, double lossRate) {
        this.guest = guest;
        this.localIp = localIp;
        this.localPort = localPort;
        this.remoteIp = remoteIp;
        this.remotePort = remotePort;
        this.capacity = capacity;
        this.ourWscale = ourWscale;
        this.loss = loss;
        this.lossRate = lossRate;
        this.iss = 1_000_000 * localPort;
    }

    /** Sends SYN (the test then pumps until ESTABLISHED or reset). */
    void connect() {
        guest.register(this);
        state = State.SYN_SENT;
        sndUna = iss;
        sndNxt = sndMax = iss + 1;
        send(iss, 0, GuestFrames.SYN, GuestFrames.synOptions(1460, ourWscale), 0);
    }

    /** A SYN for a listening port: answer SYN-ACK. */
    void acceptSyn(GuestFrames.Parsed p) {
        rcvNxt = p.seq + 1;
        lastPeerMss = p.mss;
        lastPeerWscale = p.wscale;
        synWindow = p.window;
        peerMss = p.mss > 0 ? p.mss : 536;
        peerWscale = p.wscale >= 0 && ourWscale >= 0 ? p.wscale : 0;
        peerWindow = p.window;
        state = State.SYN_RECEIVED;
        sndUna = iss;
        sndNxt = sndMax = iss + 1;
        send(iss, 0, GuestFrames.SYN | GuestFrames.ACK, GuestFrames.synOptions(1460, p.wscale >= 0 ? ourWscale : -1), 0);
    }

    private int scale() {
        return lastPeerWscale >= 0 && ourWscale >= 0 ? ourWscale : 0;
    }

    private int window() {
        return Math.max(0, capacity - unread);
    }

    void handle(GuestFrames.Parsed p) {
        if (p.has(GuestFrames.RST)) {
            resetAtRcvNxt = p.seq == rcvNxt;
            reset = true;
            state = State.CLOSED;
            guest.unregister(this);
            return;
        }
        switch (state) {
            case SYN_SENT -> {
                if (p.has(GuestFrames.SYN) && p.has(GuestFrames.ACK) && p.ack == iss + 1) {
                    rcvNxt = p.seq + 1;
                    lastPeerMss = p.mss;
                    lastPeerWscale = p.wscale;
                    synWindow = p.window;
                    peerMss = p.mss > 0 ? p.mss : 536;
                    peerWscale = p.wscale >= 0 && ourWscale >= 0 ? p.wscale : 0;
                    peerWindow = p.window;
                    sndUna = iss + 1;
                    state = State.ESTABLISHED;
                    sendAck();
                }
            }
            case SYN_RECEIVED -> {
                if (p.has(GuestFrames.SYN)) {
                    send(iss, 0, GuestFrames.SYN | GuestFrames.ACK, GuestFrames.synOptions(1460, lastPeerWscale >= 0 ? ourWscale : -1), 0);
                } else if (p.has(GuestFrames.ACK) && p.ack == iss + 1) {
                    sndUna = iss + 1;
                    state = State.ESTABLISHED;
                    peerWindow = (long) p.window << peerWscale;
                    established(p);
                }
            }
            case ESTABLISHED -> established(p);
            case CLOSED -> { }
        }
    }

    private void established(GuestFrames.Parsed p) {
        boolean fin = p.has(GuestFrames.FIN);
        int len = p.dataLength;
        if ((len > 0 || fin) && lossRate > 0 && loss.nextDouble() < lossRate) {
            dropped++;
            return; // lost on the wire
        }
        if (len > 0 && edgeKnown) {
            int end = p.seq + len;
            boolean probe = len == 1 && rightEdge == rcvNxt;
            assertTrue(probe || end - rightEdge <= 0, () -> "backend sent past our window: " + p
                    + " edge=" + Integer.toUnsignedString(rightEdge));
        }
        if (p.has(GuestFrames.ACK)) {
            if (p.ack - sndUna > 0 && p.ack - sndMax <= 0) {
                int acked = p.ack - sndUna;
                sndUna = p.ack;
                lastProgress = System.nanoTime();
                if (finSent && sndUna == iss + 2 + (int) sendTotal) {
                    finAcked = true;
                }
                if (sndNxt - sndUna < 0) {
                    sndNxt = sndUna;
                }
                assertTrue(acked > 0);
            }
            if (p.ack - sndUna >= 0) {
                peerWindow = (long) p.window << peerWscale;
                if (peerWindow == 0) {
                    sawZeroWindow = true;
                }
            }
        }
        if (len == 0 && !fin) {
            return;
        }
        if (p.seq != rcvNxt) {
            sendAck(); // out of order or duplicate: drop, re-ACK what we expect
            return;
        }
        int take = Math.min(len, window());
        for (int i = 0; i < take; i++) {
            byte b = p.frame[p.data + i];
            if (verifyStream && b != streamByte(received + i)) {
                fail("byte " + (received + i) + " differs: got " + b + " expected " + streamByte(received + i));
            }
        }
        receivedCrc.update(p.frame, p.data, take);
        if (keepBytes) {
            receivedBytes.write(p.frame, p.data, take);
        }
        received += take;
        rcvNxt += take;
        if (appPaused) {
            unread += take;
        }
        if (fin && take == len && !peerFin) {
            peerFin = true;
            rcvNxt++;
        }
        sendAck();
    }

    /** The application reads again: the window opens. */
    void resumeApp() {
        appPaused = false;
        unread = 0;
        sendAck();
    }

    /** Sends data the peer's window allows, FIN when asked, and retransmits after silence. */
    void tick() {
        if (state != State.ESTABLISHED) {
            return;
        }
        if (sndUna != sndMax && System.nanoTime() - lastProgress > RETRANSMIT_NANOS) {
            sndNxt = sndUna; // go back N
            lastProgress = System.nanoTime();
            retransmits++;
        }
        long sentSoFar = Integer.toUnsignedLong(sndNxt - (iss + 1));
        while (sentSoFar < sendTotal) {
            long room = peerWindow - (sndNxt - sndUna);
            int len = (int) Math.min(Math.min(peerMss, sendTotal - sentSoFar), room);
            if (len <= 0) {
                break;
            }
            send(sndNxt, len, GuestFrames.ACK | GuestFrames.PSH, new byte[0], sentSoFar);
            sndNxt += len;
            sentSoFar += len;
            if (sndNxt - sndMax > 0) {
                sndMax = sndNxt;
            }
        }
        int finSeq = iss + 1 + (int) sendTotal;
        if (closeAfterSend && sentSoFar == sendTotal && !finAcked && sndNxt == finSeq) {
            send(sndNxt, 0, GuestFrames.ACK | GuestFrames.FIN, new byte[0], 0);
            finSent = true;
            sndNxt++;
            if (sndNxt - sndMax > 0) {
                sndMax = sndNxt;
            }
        }
    }

    /** Sends a RST to the peer and forgets the connection. */
    void abort() {
        send(sndNxt, 0, GuestFrames.RST | GuestFrames.ACK, new byte[0], 0);
        state = State.CLOSED;
        guest.unregister(this);
    }

    boolean closed() {
        return reset || (peerFin && finAcked);
    }

    void sendAck() {
        send(sndNxt, 0, GuestFrames.ACK, new byte[0], 0);
    }

    private void send(int seq, int len, int flags, byte[] options, long streamOffset) {
        byte[] data = new byte[len];
        for (int i = 0; i < len; i++) {
            data[i] = streamByte(streamOffset + i);
        }
        boolean syn = (flags & GuestFrames.SYN) != 0;
        int window = window();
        int field = syn ? Math.min(window, 65535) : Math.min(window >> scale(), 65535);
        if ((flags & GuestFrames.ACK) != 0 && !syn) {
            int edge = rcvNxt + (field << scale());
            if (!edgeKnown || edge - rightEdge > 0) {
                rightEdge = edge;
            }
            edgeKnown = true;
        } else if (syn && (flags & GuestFrames.ACK) != 0) {
            rightEdge = rcvNxt + field;
            edgeKnown = true;
        }
        int ack = (flags & GuestFrames.ACK) != 0 ? rcvNxt : 0;
        guest.send(GuestFrames.tcp(localIp, localPort, remoteIp, remotePort, seq, ack, flags, field, options, data, 0, len));
    }

    /** Bytes of ours the peer acknowledged. */
    long acked() {
        return Math.min(sendTotal, Integer.toUnsignedLong(sndUna - (iss + 1)));
    }

    @Override
    public String toString() {
        return "GuestTcp[" + localPort + "->" + GuestFrames.dotted(remoteIp) + ":" + remotePort + " " + state
                + " sent=" + Integer.toUnsignedLong(sndUna - (iss + 1)) + "/" + sendTotal + " received=" + received
                + " peerFin=" + peerFin + " finAcked=" + finAcked + " reset=" + reset + " dropped=" + dropped + "]";
    }
}
