package dev.rivet.platform.net;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import static dev.rivet.platform.net.GuestFrames.BROADCAST;
import static dev.rivet.platform.net.GuestFrames.DNS_IP;
import static dev.rivet.platform.net.GuestFrames.GATEWAY_IP;
import static dev.rivet.platform.net.GuestFrames.GUEST_IP;
import static dev.rivet.platform.net.GuestFrames.GUEST_MAC;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layer 2: the DHCP exchange busybox udhcpc performs (RFC 2131), replies checked field by field. */
class DhcpServerTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final byte[] OTHER_MAC = {0x52, 0x54, 0, 0, 0, 0x77};
    private TestGuest guest;

    @BeforeEach
    void start() {
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null));
    }

    @AfterEach
    void stop() {
        guest.close();
    }

    /** A DHCP reply: the BOOTP fields and the options by code. */
    record Reply(GuestFrames.Parsed frame, int op, int xid, int flags, int ciaddr, int yiaddr, int siaddr, byte[] chaddr,
                 Map<Integer, byte[]> options) {
        int type() {
            return options.get(53)[0];
        }

        int int32(int code) {
            return ByteBuffer.wrap(options.get(code)).getInt();
        }
    }

    private Reply reply() {
        GuestFrames.Parsed p = guest.await(f -> f.isUdp() && f.sport == 67, WAIT, "DHCP reply");
        assertEquals(68, p.dport);
        assertEquals(GATEWAY_IP, p.src);
        assertTrue(p.dataLength >= 300, "at least a BOOTP-sized message");
        ByteBuffer b = ByteBuffer.wrap(p.frame, p.data, p.dataLength).slice();
        assertEquals(0x63825363, b.getInt(236), "magic cookie");
        Map<Integer, byte[]> opts = new HashMap<>();
        for (int i = 240; i < p.dataLength; ) {
            int code = b.get(i) & 255;
            if (code == 255) {
                break;
            }
            if (code == 0) {
                i++;
                continue;
            }
            int len = b.get(i + 1) & 255;
            byte[] v = new byte[len];
            b.get(i + 2, v);
            opts.put(code, v);
            i += 2 + len;
        }
        byte[] chaddr = new byte[6];
        b.get(28, chaddr);
        return new Reply(p, b.get(0), b.getInt(4), b.getShort(10) & 0xffff, b.getInt(12), b.getInt(16), b.getInt(20),
                chaddr, opts);
    }

    private static byte[] requestedIp(int ip) {
        return ByteBuffer.allocate(12).put((byte) 50).put((byte) 4).putInt(ip)
                .put((byte) 54).put((byte) 4).putInt(GATEWAY_IP).array();
    }

    @Test
    void discoverOfferRequestAckWithBroadcastFlag() {
        guest.send(GuestFrames.dhcp(1, 0x1234, true, 0, GUEST_MAC, new byte[] {55, 3, 1, 3, 6}));
        Reply offer = reply();
        assertEquals(2, offer.op(), "BOOTREPLY");
        assertEquals(2, offer.type(), "OFFER");
        assertEquals(0x1234, offer.xid());
        assertEquals(GUEST_IP, offer.yiaddr(), "the first pool address, 10.0.2.15");
        assertEquals(GATEWAY_IP, offer.siaddr());
        assertArrayEquals(GUEST_MAC, offer.chaddr());
        assertEquals(0x8000, offer.flags());
        assertArrayEquals(BROADCAST, offer.frame().dstMac, "broadcast flag: broadcast reply");
        assertEquals(0xffffffff, offer.frame().dst);
        assertEquals(GATEWAY_IP, offer.int32(54), "server identifier");
        assertEquals(0xffffff00, offer.int32(1), "subnet mask");
        assertEquals(GATEWAY_IP, offer.int32(3), "router");
        assertEquals(DNS_IP, offer.int32(6), "DNS server");
        assertEquals(86400, offer.int32(51), "lease time");

        guest.send(GuestFrames.dhcp(3, 0x1235, true, 0, GUEST_MAC, requestedIp(GUEST_IP)));
        Reply ack = reply();
        assertEquals(5, ack.type(), "ACK");
        assertEquals(0x1235, ack.xid());
        assertEquals(GUEST_IP, ack.yiaddr());
        assertEquals(DNS_IP, ack.int32(6));
        assertEquals(GuestFrames.dotted(GUEST_IP), guest.net.guestAddress().getHostAddress());
    }

    @Test
    void withoutBroadcastFlagRepliesAreUnicastToTheClient() {
        guest.send(GuestFrames.dhcp(1, 7, false, 0, GUEST_MAC, new byte[0]));
        Reply offer = reply();
        assertArrayEquals(GUEST_MAC, offer.frame().dstMac);
        assertEquals(GUEST_IP, offer.frame().dst);
        // Renewal: the client has its address (ciaddr) and asks the server directly.
        guest.send(GuestFrames.dhcp(3, 8, false, 0, GUEST_MAC, requestedIp(GUEST_IP)));
        assertEquals(5, reply().type());
        guest.send(GuestFrames.dhcp(3, 9, false, GUEST_IP, GUEST_MAC, new byte[0]));
        Reply renew = reply();
        assertEquals(5, renew.type());
        assertEquals(GUEST_IP, renew.frame().dst);
        assertEquals(GUEST_IP, renew.ciaddr());
    }

    @Test
    void aSecondClientGetsTheNextAddressAndAWrongRequestIsNaked() {
        guest.send(GuestFrames.dhcp(1, 1, true, 0, GUEST_MAC, new byte[0]));
        assertEquals(GUEST_IP, reply().yiaddr());
        guest.send(GuestFrames.dhcp(1, 2, true, 0, OTHER_MAC, new byte[0]));
        Reply second = reply();
        assertEquals(GUEST_IP + 1, second.yiaddr(), "10.0.2.16");
        // The second client asks for the first one's address: NAK, broadcast.
        guest.send(GuestFrames.dhcp(3, 3, false, 0, OTHER_MAC, requestedIp(GUEST_IP)));
        Reply nak = reply();
        assertEquals(6, nak.type(), "NAK");
        assertEquals(0, nak.yiaddr());
        assertArrayEquals(BROADCAST, nak.frame().dstMac);
        // A REQUEST naming another server is not for us: no answer.
        byte[] otherServer = ByteBuffer.allocate(12).put((byte) 50).put((byte) 4).putInt(GUEST_IP + 1)
                .put((byte) 54).put((byte) 4).putInt(GuestFrames.ip("10.0.2.200")).array();
        guest.send(GuestFrames.dhcp(3, 4, true, 0, OTHER_MAC, otherServer));
        assertTrue(guest.quiet(300));
        // After a RELEASE the address is free for someone else.
        guest.send(GuestFrames.dhcp(7, 5, false, GUEST_IP, GUEST_MAC, new byte[0]));
        guest.send(GuestFrames.dhcp(3, 6, true, 0, OTHER_MAC, requestedIp(GUEST_IP + 1)));
        assertEquals(5, reply().type());
    }

    @Test
    void thePoolHasSixteenAddresses() {
        for (int i = 0; i < 16; i++) {
            byte[] mac = Arrays.copyOf(OTHER_MAC, 6);
            mac[5] = (byte) i;
            guest.send(GuestFrames.dhcp(1, i, true, 0, mac, new byte[0]));
            assertEquals(GUEST_IP + i, reply().yiaddr());
        }
        guest.send(GuestFrames.dhcp(1, 99, true, 0, GUEST_MAC, new byte[0]));
        assertTrue(guest.quiet(300), "no OFFER when the pool is exhausted");
        assertTrue(guest.net.counter(UserNetCounter.DROP_DHCP) >= 1);
    }

    @Test
    void malformedMessagesAreIgnored() {
        byte[] good = GuestFrames.dhcp(1, 1, true, 0, GUEST_MAC, new byte[0]);
        // An option whose length runs past the end of the message.
        guest.send(GuestFrames.dhcp(1, 1, true, 0, GUEST_MAC, new byte[] {12, (byte) 200, 'x'}));
        // A message too short to hold the fixed fields.
        guest.send(GuestFrames.udp(0, 68, 0xffffffff, 67, new byte[100]));
        assertTrue(guest.quiet(300));
        assertEquals(2, guest.net.counter(UserNetCounter.DROP_DHCP));
        guest.send(good);
        assertEquals(2, reply().type());
    }
}
