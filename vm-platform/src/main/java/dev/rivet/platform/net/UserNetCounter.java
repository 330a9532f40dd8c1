package dev.rivet.platform.net;

/**
 * What {@link UserNet#counter} counts: traffic, and every reason a frame was dropped or a
 * connection refused, so a misbehaving guest (or a bug) shows up as a number, not silence.
 */
public enum UserNetCounter {
    /** Frames the guest transmitted that reached the event loop. */
    FRAMES_FROM_GUEST,
    /** Frames handed to the guest's card. */
    FRAMES_TO_GUEST,
    /** Guest frames dropped because the event loop was too far behind (or closed). */
    DROP_TRANSMIT_BACKLOG,
    /** Frames for the guest dropped because it had no receive buffers and the queue was full. */
    DROP_GUEST_QUEUE_FULL,
    /** Truncated or inconsistent frames and headers. */
    DROP_MALFORMED,
    /** Frames addressed to another MAC or IPv4 address than the backend's. */
    DROP_NOT_FOR_US,
    /** EtherTypes and IP protocols the backend does not speak (IPv6, VLAN, IGMP...). */
    DROP_UNSUPPORTED,
    /** Bad IPv4 header, ICMP, UDP or TCP checksums. */
    DROP_BAD_CHECKSUM,
    /** IPv4 fragments from the guest (not reassembled). */
    DROP_IP_FRAGMENT,
    /** IPv4 headers with options. */
    DROP_IP_OPTIONS,
    /** Traffic {@code restrict=on} or {@code restrict=loopback} forbids. */
    DROP_RESTRICTED,
    /** ICMP echo requests answered for the gateway and DNS addresses. */
    ICMP_ECHO_REPLIES,
    /** DHCP replies sent (OFFER, ACK, NAK). */
    DHCP_REPLIES,
    /** DHCP requests ignored or refused (malformed, pool exhausted, another server's). */
    DROP_DHCP,
    /** UDP flows opened (one host socket each). */
    UDP_FLOWS_OPENED,
    /** UDP flows closed after being idle. */
    UDP_FLOWS_EXPIRED,
    /** Guest datagrams dropped because the flow table was full. */
    DROP_UDP_FLOW_LIMIT,
    /** Datagrams that could not be sent or delivered (no resolver, too large, send failure). */
    DROP_UDP,
    /**
     * Guest datagrams dropped because the host socket could not take more (its send queue
     * was above Netty's high water mark): UDP may lose a datagram, it never queues without bound.
     */
    DROP_UDP_HOST_BACKLOG,
    /**
     * Times the host UDP sockets (NAT flows, DNS, forwards) stopped being read because
     * frames for the guest backed up; they are read again once the guest has taken most of
     * them. Meanwhile the host kernel drops what overflows a socket, at no cost to us.
     */
    UDP_READS_PAUSED,
    /** TCP connections opened (guest to host, and forwarded host to guest). */
    TCP_CONNECTIONS_OPENED,
    /** Guest connects the host refused or that timed out: answered with RST. */
    TCP_CONNECT_FAILED,
    /** Guest SYNs refused with RST because the connection table was full. */
    DROP_TCP_CONNECTION_LIMIT,
    /** Segments retransmitted to the guest after a timeout. */
    TCP_RETRANSMIT_TIMEOUTS,
    /** Segments retransmitted to the guest on three duplicate ACKs. */
    TCP_FAST_RETRANSMITS,
    /** Connections reset because the guest stopped acknowledging. */
    TCP_ABORTED,
    /** Connections the guest reset. */
    TCP_RESETS_FROM_GUEST,
    /** Connections the host side reset or failed: the guest got RST. */
    TCP_RESETS_FROM_HOST,
    /**
     * Host resets that came while bytes read before them were not yet acknowledged by the
     * guest: those bytes went to the guest first, the RST after them (RFC 9293 section 3.5.2:
     * a reset is sequenced after the data the peer sent before it).
     */
    TCP_RESETS_DEFERRED,
    /**
     * Deferred resets sent before the guest had taken every byte, because it kept its window
     * closed or stopped acknowledging past {@link UserNetOptions.Limits#tcpResetDrain} or the
     * retransmission limit; the rest of the bytes were dropped.
     */
    TCP_RESETS_DEFERRED_EXPIRED,
    /** Bytes read from host TCP sockets for the guest (NAT and forwarded connections; a byte count). */
    TCP_BYTES_FROM_HOST,
    /** Guest segments for no known connection, answered with RST. */
    TCP_NO_CONNECTION,
    /** Guest segments out of order or outside the window, dropped and re-acknowledged. */
    TCP_OUT_OF_ORDER,
}
