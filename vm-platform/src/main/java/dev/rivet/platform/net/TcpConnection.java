package dev.rivet.platform.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * One guest-visible TCP connection (RFC 9293) bridged to a host socket: the backend plays
 * the remote end towards the guest, and relays the byte stream to and from a Netty channel.
 *
 * <p>Towards the guest it keeps the send sequence space ({@code sndUna <= sndNxt <= sndMax})
 * over a buffer of host bytes not yet acknowledged, sends no more than the guest's
 * advertised window (scaled per RFC 7323) and its MSS, and retransmits: on a timeout (RFC
 * 6298 estimator, Karn's rule, exponential backoff, {@link UserNetOptions.Limits#tcpMaxRetries}
 * tries before a reset) and on three duplicate ACKs (RFC 5681 fast retransmit). Both go back
 * to {@code sndUna} and resend what the window allows. A zero window is probed with one byte.
 *
 * <p>From the guest it accepts in-order data within the window it advertised; a segment
 * ahead of {@code rcvNxt} is dropped and answered with an ACK for what is expected (the
 * guest retransmits), as RFC 9293 allows. The advertised window is the room left in the host
 * socket's write queue, so a slow host reader closes the guest's window; likewise the host
 * socket stops being read (Netty autoRead off) while the guest-bound buffer is full or the
 * guest's receive queue is congested.
 *
 * <p>FINs travel both ways independently (half-close: a guest FIN shuts down the host
 * socket's output once queued bytes are written; host end-of-stream becomes a FIN after
 * the buffered bytes). A reset on either side resets the other. A host reset is sequenced
 * after the bytes the host sent before it (RFC 9293 section 3.5.2), so the bytes already read
 * from the host socket still go to the guest as its window allows, and its RST follows once
 * it has acknowledged them all: the guest reads what the host sent, then ECONNRESET. A guest
 * that does not take them within {@link UserNetOptions.Limits#tcpResetDrain} (or the
 * retransmission limit) gets its RST anyway. When both FINs are acknowledged the connection
 * ends, after {@link UserNetOptions.Limits#tcpTimeWait} if we closed first (so a
 * retransmitted guest FIN is still acknowledged). Event-loop thread only.
 */
final class TcpConnection extends ChannelInboundHandlerAdapter {
    /** Host bytes held for the guest (sent but unacknowledged, plus unsent) before the host socket is paused. */
    static final int SEND_BUFFER = 128 * 1024;
    /** Guest bytes queued to the host socket that our advertised window allows. */
    static final int RECEIVE_BUFFER = 128 * 1024;
    /** Our window-scale shift: RECEIVE_BUFFER >> 2 fits the 16-bit field. */
    static final int OUR_WSCALE = 2;
    /** Our MSS: a 1500-byte MTU less IPv4 and TCP headers. */
    static final int OUR_MSS = Packets.MTU - Packets.IP_HLEN - TcpSegment.HLEN;
    /** RFC 9293 section 3.7.1: the MSS to assume when the peer sends none. */
    static final int DEFAULT_MSS = 536;
    /** Our MSS (4 bytes) and NOP + window scale (4 bytes) on SYN and SYN-ACK. */
    private static final int SYN_OPTIONS = 8;
    private static final long RTO_INITIAL = TimeUnit.SECONDS.toNanos(1);
    /** Below RFC 6298's 1 s, as Linux does: the guest is next door. */
    private static final long RTO_MIN = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long RTO_MAX = TimeUnit.SECONDS.toNanos(60);
    private static final long CLOCK_GRANULARITY = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int DUP_ACK_THRESHOLD = 3;
    private static final int MAX_COMPONENTS = 1024;

    enum State {
        /** Guest SYN seen, the host connect in progress. */
        CONNECTING,
        /** Our SYN-ACK sent to the guest. */
        SYN_RECEIVED,
        /** A forwarded host connection: our SYN sent to the guest. */
        SYN_SENT,
        /** Data both ways; FINs are tracked by flags. */
        ESTABLISHED,
        /** Both FINs done, we closed first: lingering to re-acknowledge a late FIN. */
        TIME_WAIT,
        CLOSED
    }

    private final TcpNat nat;
    private final TcpKey key;
    private final GuestLink link;
    private final Counters counters;
    private final int maxRetries;
    private Channel host;
    private State state;

    private int iss;
    private int sndUna;
    private int sndNxt;
    private int sndMax;
    /** The guest's window in bytes (already scaled). */
    private long sndWnd;
    private int sndWscale;
    private int rcvWscale;
    private int mss = DEFAULT_MSS;
    private int rcvNxt;
    private final CompositeByteBuf sendBuffer;

    private boolean hostEof;
    private boolean guestFin;
    private boolean finAcked;
    /** Our FIN went out before the guest's arrived: we are the side that waits in TIME_WAIT. */
    private boolean closedFirst;
    private boolean hostOutputShut;
    /** Guest bytes written to the host socket and not yet flushed to the kernel. */
    private int hostPending;
    private int lastWindowAdvertised;
    /** A guest segment's data is being written to the host (a write may complete inside). */
    private boolean receiving;
    /**
     * The host socket was reset (and is closed): the send buffer is being delivered, then the
     * guest gets RST. Guest data and FIN have nowhere to go meanwhile and are not acknowledged.
     */
    private boolean hostReset;
    /** Bounds the delivery after a host reset. */
    private ScheduledFuture<?> drainTimer;

    private long rto = RTO_INITIAL;
    private long srtt = -1;
    private long rttvar;
    private boolean timing;
    private int timedSeq;
    private long timedAt;
    /** When the retransmission (or persist) timer fires; 0 when not armed. */
    private long rtoDeadline;
    private ScheduledFuture<?> timer;
    private int retries;
    private int dupAcks;
    private boolean recovering;
    private int recover;
    private boolean waitingForLink;

    TcpConnection(TcpNat nat, TcpKey key, State initial) {
        this.nat = nat;
        this.key = key;
        this.link = nat.link();
        this.counters = nat.counters();
        this.maxRetries = nat.limits().tcpMaxRetries();
        this.state = initial;
        this.sendBuffer = io.netty.buffer.Unpooled.compositeBuffer(MAX_COMPONENTS);
    }

    TcpKey key() {
        return key;
    }

    State state() {
        return state;
    }

    private long now() {
        return nat.nowNanos();
    }

    // ---- opening ----------------------------------------------------------------------

    /** A guest SYN: remembers its options; the host connect is started by {@link TcpNat}. */
    void guestSyn(TcpSegment s) {
        rcvNxt = s.seq + 1;
        sndWnd = s.window; // never scaled in a SYN
        mss = Math.min(s.mss > 0 ? s.mss : DEFAULT_MSS, OUR_MSS);
        if (s.wscale >= 0) {
            sndWscale = s.wscale;
            rcvWscale = OUR_WSCALE;
        }
    }

    /** The host connect started: the channel is ours to close even before it connects. */
    void connecting(ChannelFuture f) {
        host = f.channel();
        f.addListener((ChannelFutureListener) this::connected);
    }

    /** The host connect finished. */
    private void connected(ChannelFuture f) {
        if (state != State.CONNECTING) {
            f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            counters.add(UserNetCounter.TCP_CONNECT_FAILED);
            sendControl(0, rcvNxt, TcpSegment.RST | TcpSegment.ACK);
            finish();
            return;
        }
        iss = nat.newIss();
        sndUna = iss;
        sndNxt = sndMax = iss + 1;
        state = State.SYN_RECEIVED;
        sendSyn(TcpSegment.SYN | TcpSegment.ACK);
        armRto();
    }

    /** A forwarded host connection was accepted: SYN to the guest. */
    void openToGuest(Channel accepted) {
        host = accepted;
        iss = nat.newIss();
        sndUna = iss;
        sndNxt = sndMax = iss + 1;
        rcvWscale = OUR_WSCALE; // offered; dropped if the guest does not scale
        sendSyn(TcpSegment.SYN);
        armRto();
    }

    private void sendSyn(int flags) {
        sendSegment(iss, 0, flags);
    }

    // ---- guest segments ---------------------------------------------------------------

    /** A segment from the guest for this connection (checksum already verified). */
    void receive(TcpSegment s) {
        switch (state) {
            case CONNECTING -> {
                // A retransmitted SYN while the host connect runs; anything else waits too.
                if (s.has(TcpSegment.RST)) {
                    abort(false);
                }
            }
            case SYN_SENT -> synSent(s);
            case SYN_RECEIVED, ESTABLISHED -> established(s);
            case TIME_WAIT -> {
                if (s.has(TcpSegment.RST)) {
                    finish();
                } else if (s.has(TcpSegment.FIN)) {
                    sendAck();
                }
            }
            case CLOSED -> { }
        }
    }

    private void synSent(TcpSegment s) {
        boolean ackOk = s.has(TcpSegment.ACK) && s.ack == iss + 1;
        if (s.has(TcpSegment.RST)) {
            if (ackOk) {
                counters.add(UserNetCounter.TCP_RESETS_FROM_GUEST);
                abort(false);
            }
            return;
        }
        if (s.has(TcpSegment.ACK) && !ackOk) {
            sendControl(s.ack, 0, TcpSegment.RST);
            return;
        }
        if (!s.has(TcpSegment.SYN) || !ackOk) {
            return;
        }
        rcvNxt = s.seq + 1;
        mss = Math.min(s.mss > 0 ? s.mss : DEFAULT_MSS, OUR_MSS);
        if (s.wscale >= 0) {
            sndWscale = s.wscale;
        } else {
            rcvWscale = 0;
        }
        sndWnd = s.window;
        sndUna = iss + 1;
        state = State.ESTABLISHED;
        retries = 0;
        rtoDeadline = 0;
        counters.add(UserNetCounter.TCP_CONNECTIONS_OPENED);
        sendAck();
        host.config().setAutoRead(true);
        output();
    }

    private void established(TcpSegment s) {
        if (s.has(TcpSegment.RST)) {
            // RFC 5961 section 3: only a reset at exactly rcvNxt is believed; one elsewhere in the window gets an ACK.
            if (s.seq == rcvNxt) {
                counters.add(UserNetCounter.TCP_RESETS_FROM_GUEST);
                abort(false);
            } else if (inWindow(s.seq)) {
                sendAck();
            }
            return;
        }
        if (s.has(TcpSegment.SYN)) {
            if (state == State.SYN_RECEIVED && s.seq == rcvNxt - 1) {
                sendSyn(TcpSegment.SYN | TcpSegment.ACK); // our SYN-ACK was lost
            } else {
                sendAck(); // RFC 5961 section 4: a challenge ACK
            }
            return;
        }
        if (!s.has(TcpSegment.ACK)) {
            return;
        }
        if (state == State.SYN_RECEIVED) {
            if (s.ack != iss + 1) {
                sendControl(s.ack, 0, TcpSegment.RST);
                return;
            }
            sndUna = iss + 1;
            state = State.ESTABLISHED;
            retries = 0;
            rtoDeadline = 0;
            timing = false;
            sndWnd = (long) s.window << sndWscale;
            counters.add(UserNetCounter.TCP_CONNECTIONS_OPENED);
            host.config().setAutoRead(true);
        } else if (!ack(s)) {
            return;
        }
        if (hostReset) {
            if (!resetIfDrained()) {
                output();
            }
            return;
        }
        if (s.payloadLength > 0 || s.has(TcpSegment.FIN)) {
            data(s);
        }
        if (state == State.ESTABLISHED) {
            output();
            maybeDone();
        }
    }

    private boolean inWindow(int seq) {
        return seq - rcvNxt >= 0 && seq - rcvNxt < Math.max(1, receiveWindow());
    }

    /** ACK processing; false when the segment is to be dropped. */
    private boolean ack(TcpSegment s) {
        int acked = s.ack - sndUna;
        if (s.ack - sndMax > 0) {
            sendAck(); // acknowledges something never sent
            return false;
        }
        long window = (long) s.window << sndWscale;
        if (acked > 0) {
            int buffered = sendBuffer.readableBytes();
            int dataAcked = Math.min(acked, buffered);
            sendBuffer.skipBytes(dataAcked);
            sendBuffer.discardReadComponents();
            if (acked > dataAcked) {
                finAcked = true;
            }
            if (timing && s.ack - timedSeq > 0) {
                timing = false;
                rttSample(now() - timedAt);
            }
            sndUna = s.ack;
            if (sndNxt - sndUna < 0) {
                sndNxt = sndUna;
            }
            retries = 0;
            dupAcks = 0;
            if (recovering && sndUna - recover >= 0) {
                recovering = false;
            }
            rtoDeadline = 0;
            if (sndMax != sndUna) {
                armRto();
            }
            if (!hostEof && !hostReset && host != null && !host.config().isAutoRead()
                    && sendBuffer.readableBytes() <= SEND_BUFFER / 2) {
                host.config().setAutoRead(true);
            }
        } else if (acked == 0 && s.payloadLength == 0 && !s.has(TcpSegment.FIN) && sndMax != sndUna
                && window == sndWnd && window != 0) {
            if (++dupAcks == DUP_ACK_THRESHOLD && !recovering) {
                fastRetransmit();
            }
        }
        if (acked >= 0) {
            sndWnd = window;
            if (window == 0) {
                retries = 0; // the guest answers our probes: it is alive, just full
            }
        }
        return true;
    }

    private void rttSample(long r) {
        if (srtt < 0) {
            srtt = r;
            rttvar = r / 2;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - r)) / 4;
            srtt = (7 * srtt + r) / 8;
        }
        rto = Math.clamp(srtt + Math.max(CLOCK_GRANULARITY, 4 * rttvar), RTO_MIN, RTO_MAX);
    }

    private void fastRetransmit() {
        counters.add(UserNetCounter.TCP_FAST_RETRANSMITS);
        recovering = true;
        recover = sndMax;
        timing = false;
        sndNxt = sndUna;
        output();
        rtoDeadline = 0;
        armRto();
    }

    /** Guest payload and FIN at or after rcvNxt. */
    private void data(TcpSegment s) {
        int skip = rcvNxt - s.seq;
        if (skip < 0) {
            counters.add(UserNetCounter.TCP_OUT_OF_ORDER);
            sendAck();
            return;
        }
        int off = s.payload, len = s.payloadLength;
        boolean fin = s.has(TcpSegment.FIN);
        if (skip > 0) {
            if (skip >= len + (fin ? 1 : 0)) {
                sendAck(); // all old: our ACK was lost
                return;
            }
            off += skip;
            len -= skip;
        }
        if (guestFin) {
            sendAck();
            return;
        }
        int window = receiveWindow();
        if (len > window) {
            counters.add(UserNetCounter.TCP_OUT_OF_ORDER);
            len = window;
            fin = false;
        }
        if (len > 0) {
            receiving = true;
            toHost(s.frame, off, len);
            receiving = false;
            rcvNxt += len;
        }
        if (fin) {
            rcvNxt++;
            guestFin = true;
            if (hostPending == 0) {
                shutdownHostOutput();
            }
        }
        sendAck();
    }

    private void toHost(byte[] f, int off, int len) {
        if (host == null || hostOutputShut || !host.isActive()) {
            return;
        }
        ByteBuf b = host.alloc().buffer(len).writeBytes(f, off, len);
        hostPending += len;
        host.writeAndFlush(b).addListener((ChannelFutureListener) w -> written(len, w));
    }

    private void written(int len, ChannelFuture w) {
        hostPending -= len;
        if (state == State.CLOSED || hostReset) {
            return;
        }
        if (!w.isSuccess()) {
            hostReset();
            return;
        }
        if (hostPending == 0 && guestFin) {
            shutdownHostOutput();
        }
        // Window update once there is real room again (RFC 9293 section 3.8.6.2.2: no silly windows);
        // not while a guest segment is being taken in, whose own ACK follows.
        if (state == State.ESTABLISHED && !guestFin && !receiving
                && receiveWindow() - lastWindowAdvertised >= Math.min(RECEIVE_BUFFER / 2, 2 * mss)) {
            sendAck();
        }
        maybeDone();
    }

    private void shutdownHostOutput() {
        if (hostOutputShut || host == null) {
            return;
        }
        hostOutputShut = true;
        if (host instanceof DuplexChannel d && host.isActive()) {
            d.shutdownOutput();
        }
    }

    private int receiveWindow() {
        return Math.max(0, RECEIVE_BUFFER - hostPending);
    }

    // ---- host channel events ----------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf b = (ByteBuf) msg;
        if (state != State.ESTABLISHED || hostEof || hostReset) {
            b.release();
            return;
        }
        counters.add(UserNetCounter.TCP_BYTES_FROM_HOST, b.readableBytes());
        sendBuffer.addComponent(true, b);
        if (sendBuffer.readableBytes() >= SEND_BUFFER) {
            host.config().setAutoRead(false);
        }
        output();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            hostEnded();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (hostReset) {
            return; // we closed it
        }
        if (state == State.ESTABLISHED || state == State.SYN_RECEIVED || state == State.SYN_SENT) {
            if (state == State.ESTABLISHED && (hostOutputShut || hostEof)) {
                hostEnded(); // the host closed after our half-close: its data is all read
            } else {
                hostReset();
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        hostReset();
    }

    /**
     * The host socket was reset or failed. Netty has handed us every byte read before the
     * error; those the guest has not acknowledged are delivered first and the RST follows
     * them ({@link #resetIfDrained}), as on the wire. With nothing outstanding, or before
     * the connection is established, the guest gets its RST now.
     */
    private void hostReset() {
        if (hostReset || state == State.CLOSED || state == State.TIME_WAIT) {
            return;
        }
        counters.add(UserNetCounter.TCP_RESETS_FROM_HOST);
        if (state != State.ESTABLISHED || (sendBuffer.readableBytes() == 0 && sndUna == sndMax)) {
            abort(true);
            return;
        }
        hostReset = true;
        counters.add(UserNetCounter.TCP_RESETS_DEFERRED);
        if (host.isOpen()) {
            host.config().setOption(ChannelOption.SO_LINGER, 0);
            host.close();
        }
        drainTimer = nat.schedule(this::drainExpired, nat.limits().tcpResetDrain().toNanos());
        output();
    }

    /** After a host reset: once the guest has acknowledged everything, its RST (at exactly its rcvNxt). */
    private boolean resetIfDrained() {
        if (!hostReset || sendBuffer.readableBytes() > 0 || sndUna != sndMax) {
            return false;
        }
        sendControl(sndNxt, rcvNxt, TcpSegment.RST | TcpSegment.ACK);
        finish();
        return true;
    }

    /** The guest did not take the bytes in time (window kept closed, or silent): its RST now, the rest dropped. */
    private void drainExpired() {
        drainTimer = null;
        if (state == State.CLOSED) {
            return;
        }
        counters.add(UserNetCounter.TCP_RESETS_DEFERRED_EXPIRED);
        // sndUna is the guest's rcvNxt unless an ACK is on its way: a reset there is believed
        // (RFC 5961 section 3); sndNxt may be a zero-window probe past it.
        sendControl(sndUna, rcvNxt, TcpSegment.RST | TcpSegment.ACK);
        finish();
    }

    private void hostEnded() {
        if (hostEof || hostReset || state == State.CLOSED) {
            return;
        }
        hostEof = true;
        if (!guestFin) {
            closedFirst = true;
        }
        output();
    }

    /** The guest link has room again. */
    void linkDrained() {
        waitingForLink = false;
        if (state == State.ESTABLISHED) {
            output();
        }
    }

    // ---- sending ----------------------------------------------------------------------

    /** Sends what the window allows: new data, and our FIN once the host ended and all data is out. */
    private void output() {
        output(false);
    }

    private void output(boolean probe) {
        if (state != State.ESTABLISHED) {
            return;
        }
        while (true) {
            int inFlight = sndNxt - sndUna;
            int buffered = sendBuffer.readableBytes();
            int unsent = buffered - inFlight;
            boolean finToSend = hostEof && !hostReset && unsent >= 0 && !(finAcked || sndNxt - (sndUna + buffered) > 0);
            long room = sndWnd - inFlight;
            if (probe && room <= 0) {
                room = 1; // one byte past a zero window (RFC 9293 section 3.8.6.1)
            }
            probe = false;
            int len = (int) Math.max(0, Math.min(Math.min(Math.max(unsent, 0), mss), room));
            boolean fin = finToSend && len == unsent;
            if (len == 0 && !fin) {
                break;
            }
            if (link.congested()) {
                if (!waitingForLink) {
                    waitingForLink = true;
                    nat.waitForLink(this);
                }
                break;
            }
            sendSegment(sndNxt, len, TcpSegment.ACK | (fin ? TcpSegment.FIN : 0) | (len > 0 && len == unsent ? TcpSegment.PSH : 0));
            if (!timing && len > 0 && sndNxt == sndMax) {
                timing = true;
                timedSeq = sndNxt;
                timedAt = now();
            }
            sndNxt += len + (fin ? 1 : 0);
            if (sndNxt - sndMax > 0) {
                sndMax = sndNxt;
            }
            if (rtoDeadline == 0) {
                armRto();
            }
            if (fin) {
                break;
            }
        }
        int buffered = sendBuffer.readableBytes();
        if (sndWnd == 0 && rtoDeadline == 0 && (buffered > 0 || (hostEof && !finAcked))) {
            armRto(); // persist: probe the zero window when the timer fires
        }
    }

    private void sendAck() {
        sendSegment(sndNxt, 0, TcpSegment.ACK);
    }

    /** A segment from the connection's remote end to the guest; payload comes from the send buffer. */
    private void sendSegment(int seq, int len, int flags) {
        boolean syn = (flags & TcpSegment.SYN) != 0;
        int options = syn ? SYN_OPTIONS : 0;
        int tcpLength = TcpSegment.HLEN + options + len;
        byte[] fr = link.frame();
        int t = link.ipv4(Packets.PROTO_TCP, key.remoteIp(), key.guestIp(), tcpLength);
        Packets.put16(fr, t + TcpSegment.SRC_PORT, key.remotePort());
        Packets.put16(fr, t + TcpSegment.DST_PORT, key.guestPort());
        Packets.put32(fr, t + TcpSegment.SEQ, seq);
        boolean ack = (flags & TcpSegment.ACK) != 0;
        Packets.put32(fr, t + TcpSegment.ACK_NUMBER, ack ? rcvNxt : 0);
        fr[t + TcpSegment.DATA_OFFSET] = (byte) ((TcpSegment.HLEN + options) / 4 << 4);
        fr[t + TcpSegment.FLAGS] = (byte) flags;
        int window = receiveWindow();
        lastWindowAdvertised = window;
        Packets.put16(fr, t + TcpSegment.WINDOW, Math.min(syn ? window : window >> rcvWscale, 0xffff));
        Packets.put16(fr, t + TcpSegment.CHECKSUM, 0);
        Packets.put16(fr, t + TcpSegment.URGENT, 0);
        int p = t + TcpSegment.HLEN;
        if (syn) {
            fr[p] = TcpSegment.OPT_MSS;
            fr[p + 1] = 4;
            Packets.put16(fr, p + 2, OUR_MSS);
            fr[p + 4] = TcpSegment.OPT_NOP;
            fr[p + 5] = TcpSegment.OPT_WSCALE;
            fr[p + 6] = 3;
            fr[p + 7] = (byte) rcvWscale;
            if (rcvWscale == 0 && (flags & TcpSegment.ACK) != 0) {
                fr[p + 4] = fr[p + 5] = fr[p + 6] = fr[p + 7] = TcpSegment.OPT_NOP; // the guest did not offer scaling
            }
            p += options;
        }
        if (len > 0) {
            sendBuffer.getBytes(sendBuffer.readerIndex() + (seq - sndUna), fr, p, len);
        }
        Packets.put16(fr, t + TcpSegment.CHECKSUM,
                Packets.transportChecksum(fr, t, tcpLength, key.remoteIp(), key.guestIp(), Packets.PROTO_TCP));
        link.send(p + len);
    }

    /** A bare RST or RST/ACK (not from the send buffer). */
    private void sendControl(int seq, int ackNumber, int flags) {
        nat.sendReset(key.remoteIp(), key.remotePort(), key.guestIp(), key.guestPort(), seq, ackNumber, flags);
    }

    // ---- timers -----------------------------------------------------------------------

    private void armRto() {
        rtoDeadline = now() + rto;
        if (timer == null) {
            timer = nat.schedule(this::onTimer, rto);
        }
    }

    private void onTimer() {
        timer = null;
        if (state == State.CLOSED || rtoDeadline == 0) {
            return;
        }
        long left = rtoDeadline - now();
        if (left > 0) {
            timer = nat.schedule(this::onTimer, left);
            return;
        }
        rtoDeadline = 0;
        if (state == State.TIME_WAIT) {
            finish();
            return;
        }
        if (++retries > maxRetries) {
            counters.add(UserNetCounter.TCP_ABORTED);
            if (hostReset) {
                drainExpired();
            } else {
                abort(true);
            }
            return;
        }
        rto = Math.min(rto * 2, RTO_MAX);
        timing = false;
        switch (state) {
            case SYN_SENT -> sendSyn(TcpSegment.SYN);
            case SYN_RECEIVED -> sendSyn(TcpSegment.SYN | TcpSegment.ACK);
            case ESTABLISHED -> {
                counters.add(UserNetCounter.TCP_RETRANSMIT_TIMEOUTS);
                sndNxt = sndUna;
                recovering = false;
                dupAcks = 0;
                output(true);
            }
            default -> { }
        }
        if (rtoDeadline == 0 && (sndMax != sndUna || state != State.ESTABLISHED)) {
            armRto();
        }
    }

    // ---- closing ----------------------------------------------------------------------

    /** Ends the connection once both FINs are acknowledged. */
    private void maybeDone() {
        if (state != State.ESTABLISHED || hostReset || !guestFin || !finAcked || hostPending > 0) {
            return;
        }
        if (host != null) {
            host.close();
        }
        long linger = nat.limits().tcpTimeWait().toNanos();
        if (closedFirst && linger > 0) {
            state = State.TIME_WAIT;
            releaseBuffers();
            rtoDeadline = now() + linger;
            if (timer == null) {
                timer = nat.schedule(this::onTimer, linger);
            }
        } else {
            finish();
        }
    }

    /** Resets the connection: RST to the guest when {@code toGuest}, and a reset (SO_LINGER 0) to the host. */
    void abort(boolean toGuest) {
        if (state == State.CLOSED) {
            return;
        }
        if (toGuest) {
            switch (state) {
                case CONNECTING -> sendControl(0, rcvNxt, TcpSegment.RST | TcpSegment.ACK);
                case SYN_SENT -> sendControl(sndNxt, 0, TcpSegment.RST);
                default -> sendControl(sndNxt, rcvNxt, TcpSegment.RST | TcpSegment.ACK);
            }
        }
        if (host != null && host.isOpen()) {
            host.config().setOption(ChannelOption.SO_LINGER, 0);
            host.close();
        }
        finish();
    }

    /** Forgets the connection: timer, buffers, table entry, host socket. */
    void finish() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        rtoDeadline = 0;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        if (drainTimer != null) {
            drainTimer.cancel(false);
            drainTimer = null;
        }
        releaseBuffers();
        if (host != null) {
            host.close();
        }
        nat.remove(this);
    }

    private void releaseBuffers() {
        if (sendBuffer.refCnt() > 0) {
            sendBuffer.release();
        }
    }
}
