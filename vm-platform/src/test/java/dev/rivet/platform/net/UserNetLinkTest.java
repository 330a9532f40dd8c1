package dev.rivet.platform.net;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static dev.rivet.platform.net.GuestFrames.DNS_IP;
import static dev.rivet.platform.net.GuestFrames.GATEWAY_IP;
import static dev.rivet.platform.net.GuestFrames.GATEWAY_MAC;
import static dev.rivet.platform.net.GuestFrames.GUEST_IP;
import static dev.rivet.platform.net.GuestFrames.GUEST_MAC;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layer 1: Ethernet, ARP, IPv4 header checks, ICMP echo, and the queue towards a guest without buffers. */
class UserNetLinkTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private TestGuest guest;

    @BeforeEach
    void start() {
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null));
    }

    @AfterEach
    void stop() {
        guest.close();
    }

    private long count(UserNetCounter c) {
        return guest.net.counter(c);
    }

    /** Waits until {@code c} reaches {@code n} (frames are processed on the backend's loop). */
    private void awaitCount(UserNetCounter c, long n) {
        long end = System.nanoTime() + WAIT.toNanos();
        while (count(c) < n && System.nanoTime() < end) {
            Thread.onSpinWait();
        }
        assertEquals(n, count(c), c.name());
    }

    @Test
    void arpAnswersForGatewayAndDnsOnly() {
        for (int target : new int[] {GATEWAY_IP, DNS_IP}) {
            guest.send(GuestFrames.arpRequest(GUEST_IP, target));
            GuestFrames.Parsed r = guest.await(f -> f.etherType == 0x0806, WAIT, "ARP reply");
            ByteBuffer b = ByteBuffer.wrap(r.frame);
            assertArrayEquals(GUEST_MAC, r.dstMac);
            assertArrayEquals(GATEWAY_MAC, r.srcMac);
            assertEquals(2, b.getShort(14 + 6), "opcode reply");
            assertArrayEquals(GATEWAY_MAC, Arrays.copyOfRange(r.frame, 14 + 8, 14 + 14), "sender MAC");
            assertEquals(target, b.getInt(14 + 14), "sender IP is the address asked for");
            assertArrayEquals(GUEST_MAC, Arrays.copyOfRange(r.frame, 14 + 18, 14 + 24), "target MAC");
            assertEquals(GUEST_IP, b.getInt(14 + 24));
        }
        guest.send(GuestFrames.arpRequest(GUEST_IP, GUEST_IP)); // the guest probing its own address
        guest.send(GuestFrames.arpRequest(GUEST_IP, GuestFrames.ip("10.0.2.99")));
        assertTrue(guest.quiet(300), "nobody else is on the network");
    }

    @Test
    void pingTheGatewayAndTheDnsAddress() {
        byte[] data = "abcdefghijklmnopqrstuvwabcdefghi".getBytes(StandardCharsets.US_ASCII);
        int seq = 1;
        for (int dst : new int[] {GATEWAY_IP, DNS_IP}) {
            guest.send(GuestFrames.icmpEcho(GUEST_IP, dst, 0x77, seq, data));
            GuestFrames.Parsed r = guest.await(f -> f.etherType == 0x0800 && f.proto == 1, WAIT, "echo reply");
            ByteBuffer b = ByteBuffer.wrap(r.frame);
            assertEquals(dst, r.src);
            assertEquals(GUEST_IP, r.dst);
            assertEquals(0, r.frame[r.l4], "type echo reply");
            assertEquals(0x77, b.getShort(r.l4 + 4), "identifier");
            assertEquals(seq, b.getShort(r.l4 + 6), "sequence");
            assertArrayEquals(data, Arrays.copyOfRange(r.frame, r.l4 + 8, r.l4 + 8 + data.length));
            seq++;
        }
        assertEquals(2, count(UserNetCounter.ICMP_ECHO_REPLIES));
    }

    @Test
    void largePingIsAnsweredWhole() {
        byte[] data = new byte[1472];
        Arrays.fill(data, (byte) 0x5a);
        guest.send(GuestFrames.icmpEcho(GUEST_IP, GATEWAY_IP, 1, 1, data));
        GuestFrames.Parsed r = guest.await(f -> f.etherType == 0x0800 && f.proto == 1, WAIT, "echo reply");
        assertEquals(1514, r.frame.length);
    }

    @Test
    void badHeadersAreDroppedAndCounted() {
        byte[] ping = GuestFrames.icmpEcho(GUEST_IP, GATEWAY_IP, 1, 1, new byte[8]);
        byte[] badIpSum = ping.clone();
        badIpSum[14 + 10] ^= 1;
        guest.send(badIpSum);
        byte[] badIcmpSum = ping.clone();
        badIcmpSum[14 + 20 + 2] ^= 1;
        guest.send(badIcmpSum);
        guest.send(GuestFrames.ipv4(1, GUEST_IP, GATEWAY_IP, new byte[16], 0x2000, new byte[0])); // first fragment
        guest.send(GuestFrames.ipv4(1, GUEST_IP, GATEWAY_IP, new byte[16], 0x0002, new byte[0])); // a later one
        guest.send(GuestFrames.ipv4(1, GUEST_IP, GATEWAY_IP, new byte[16], 0, new byte[] {(byte) 0x94, 4, 0, 0})); // router alert
        byte[] truncated = Arrays.copyOf(ping, 30);
        guest.send(truncated);
        guest.send(Arrays.copyOf(ping, 10)); // runt
        byte[] ipv6 = ping.clone();
        ipv6[12] = (byte) 0x86;
        ipv6[13] = (byte) 0xdd;
        guest.send(ipv6);
        byte[] otherMac = ping.clone();
        otherMac[0] = 0x02;
        guest.send(otherMac);
        awaitCount(UserNetCounter.FRAMES_FROM_GUEST, 9);
        assertEquals(2, count(UserNetCounter.DROP_BAD_CHECKSUM));
        assertEquals(2, count(UserNetCounter.DROP_IP_FRAGMENT));
        assertEquals(1, count(UserNetCounter.DROP_IP_OPTIONS));
        assertEquals(2, count(UserNetCounter.DROP_MALFORMED));
        assertEquals(1, count(UserNetCounter.DROP_UNSUPPORTED));
        assertEquals(1, count(UserNetCounter.DROP_NOT_FOR_US));
        assertTrue(guest.quiet(200), "no answer to any of them");
        guest.send(ping);
        guest.await(f -> f.etherType == 0x0800 && f.proto == 1, WAIT, "the good ping still works");
    }

    @Test
    void framesWaitForReceiveBuffersInOrderAndTheQueueIsBounded() {
        guest.receiveBuffers(false);
        int limit = UserNetOptions.Limits.DEFAULT.maxQueuedFrames();
        int sent = limit + 20;
        for (int i = 0; i < sent; i++) {
            guest.send(GuestFrames.icmpEcho(GUEST_IP, GATEWAY_IP, 1, i, new byte[4]));
        }
        awaitCount(UserNetCounter.ICMP_ECHO_REPLIES, sent);
        assertNull(guest.next(100), "nothing delivered while the guest has no buffers");
        assertEquals(limit, guest.net.queuedFrames());
        assertEquals(20, count(UserNetCounter.DROP_GUEST_QUEUE_FULL));
        guest.receiveBuffers(true);
        for (int i = 0; i < limit; i++) {
            GuestFrames.Parsed r = guest.await(f -> f.proto == 1, WAIT, "queued reply " + i);
            assertEquals(i, ByteBuffer.wrap(r.frame).getShort(r.l4 + 6), "in order");
        }
        assertEquals(0, guest.net.queuedFrames());

        // A frame made while older ones still wait must not overtake them, even if the card would take it.
        guest.receiveBuffers(false);
        for (int i = 0; i < 5; i++) {
            guest.send(GuestFrames.icmpEcho(GUEST_IP, GATEWAY_IP, 2, i, new byte[4]));
        }
        awaitCount(UserNetCounter.ICMP_ECHO_REPLIES, sent + 5);
        guest.receiveBuffersWithoutNotice();
        guest.send(GuestFrames.icmpEcho(GUEST_IP, GATEWAY_IP, 2, 5, new byte[4]));
        awaitCount(UserNetCounter.ICMP_ECHO_REPLIES, sent + 6);
        guest.receiveBuffers(true);
        for (int i = 0; i <= 5; i++) {
            GuestFrames.Parsed r = guest.await(f -> f.proto == 1, WAIT, "reply " + i);
            assertEquals(i, ByteBuffer.wrap(r.frame).getShort(r.l4 + 6), "in order");
        }
    }

    @Test
    void theGuestMacIsLearnedFromItsFrames() {
        byte[] ping = GuestFrames.icmpEcho(GUEST_IP, GATEWAY_IP, 1, 1, new byte[4]);
        byte[] newMac = {0x02, 0, 0, 0, 0, 0x42};
        System.arraycopy(newMac, 0, ping, 6, 6);
        guest.send(ping);
        GuestFrames.Parsed r = guest.await(f -> f.proto == 1, WAIT, "reply");
        assertArrayEquals(newMac, r.dstMac);
    }
}
