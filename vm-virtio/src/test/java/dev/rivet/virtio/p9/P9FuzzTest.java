package dev.rivet.virtio.p9;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Hostile input: random bytes and mutated valid messages. The server must never throw,
 * every answer must be well-formed (checked by {@link P9Client#send}), nothing outside the
 * share may change, and the server must still serve a fresh session afterwards. The seed is
 * printed; rerun one with {@code -Drivet.seed=N}.
 */
class P9FuzzTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));
    static final int[] TYPES = {P9.TSTATFS, P9.TLOPEN, P9.TLCREATE, P9.TSYMLINK, P9.TMKNOD, P9.TRENAME,
        P9.TREADLINK, P9.TGETATTR, P9.TSETATTR, P9.TXATTRWALK, P9.TXATTRCREATE, P9.TREADDIR, P9.TFSYNC,
        P9.TLOCK, P9.TGETLOCK, P9.TLINK, P9.TMKDIR, P9.TRENAMEAT, P9.TUNLINKAT, P9.TVERSION, P9.TAUTH,
        P9.TATTACH, P9.TFLUSH, P9.TWALK, P9.TREAD, P9.TWRITE, P9.TCLUNK, P9.TREMOVE};
    static final int[] ROOMS = {5, 11, 20, 24, 64, 200, 4096, 1 << 17};

    @TempDir
    Path tmp;
    Path share, outside;
    P9Server server;
    P9Client c;
    SplittableRandom rnd;

    @BeforeEach
    void setUp() throws IOException {
        System.out.println("P9FuzzTest seed " + SEED + " (-Drivet.seed=" + SEED + ")");
        rnd = new SplittableRandom(SEED);
        share = Files.createDirectory(tmp.resolve("share"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "host secret");
        Files.createDirectories(share.resolve("d/e"));
        Files.writeString(share.resolve("f"), "file contents");
        Files.writeString(share.resolve("d/g"), "more");
        Files.createSymbolicLink(share.resolve("out"), outside);
        Files.createSymbolicLink(share.resolve("sec"), Path.of("../outside/secret"));
        server = new P9Server(share, false);
        c = new P9Client(server);
    }

    @AfterEach
    void outsideUntouchedAndServerAlive() throws IOException {
        try (Stream<Path> s = Files.walk(outside)) {
            assertEquals(2, s.count(), "seed " + SEED + ": nothing new outside");
        }
        assertEquals("host secret", Files.readString(outside.resolve("secret")), "seed " + SEED);
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(2, s.count(), "seed " + SEED + ": nothing new next to the share");
        }
        c.responseRoom = 1 << 17;
        c.version(8192, "9P2000.L");
        c.attach(1);
        c.getattr(1);
        server.close();
    }

    @Test
    void randomBytes() {
        c.version(65536, "9P2000.L");
        c.attach(1);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = new byte[rnd.nextInt(0, 120)];
            rnd.nextBytes(b);
            ByteBuffer m = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            if (b.length >= P9.HEADER) {
                if (rnd.nextBoolean()) m.putInt(0, b.length);
                if (rnd.nextBoolean()) m.put(4, (byte) TYPES[rnd.nextInt(TYPES.length)]);
                if (rnd.nextInt(4) == 0 && b.length >= 11) m.putInt(P9.HEADER, rnd.nextInt(0, 4)); // a likely fid
            }
            c.responseRoom = ROOMS[rnd.nextInt(ROOMS.length)];
            c.send(m);
            if (rnd.nextInt(500) == 0) {
                c.responseRoom = 1 << 17;
                c.version(65536, "9P2000.L");
                c.attach(1);
            }
        }
    }

    /** Valid messages a guest session sends, over fids 1..6. */
    static List<ByteBuffer> corpus() {
        List<ByteBuffer> l = new ArrayList<>();
        int tag = 1;
        l.add(new P9Client.Msg().u32(1).u32(P9.NOFID).str("u").str("").u32(0).build(P9.TATTACH, tag++));
        l.add(new P9Client.Msg().u32(1).u32(2).u16(1).str("f").build(P9.TWALK, tag++));
        l.add(new P9Client.Msg().u32(1).u32(3).u16(2).str("d").str("g").build(P9.TWALK, tag++));
        l.add(new P9Client.Msg().u32(1).u32(4).u16(1).str("d").build(P9.TWALK, tag++));
        l.add(new P9Client.Msg().u32(1).u32(5).u16(0).build(P9.TWALK, tag++));
        l.add(new P9Client.Msg().u32(1).u32(6).u16(1).str("out").build(P9.TWALK, tag++));
        l.add(new P9Client.Msg().u32(2).u32(P9.O_RDWR).build(P9.TLOPEN, tag++));
        l.add(new P9Client.Msg().u32(4).u32(P9.O_RDONLY).build(P9.TLOPEN, tag++));
        l.add(new P9Client.Msg().u32(2).u64(0).u32(100).build(P9.TREAD, tag++));
        l.add(new P9Client.Msg().u32(2).u64(3).u32(4).bytes(new byte[] {1, 2, 3, 4}).build(P9.TWRITE, tag++));
        l.add(new P9Client.Msg().u32(4).u64(0).u32(4000).build(P9.TREADDIR, tag++));
        l.add(new P9Client.Msg().u32(5).str("new").u32(P9.O_RDWR | P9.O_CREAT).u32(0644).u32(0).build(P9.TLCREATE, tag++));
        l.add(new P9Client.Msg().u32(4).str("sub").u32(0755).u32(0).build(P9.TMKDIR, tag++));
        l.add(new P9Client.Msg().u32(4).str("sub").u32(P9.AT_REMOVEDIR).build(P9.TUNLINKAT, tag++));
        l.add(new P9Client.Msg().u32(1).str("f").u32(4).str("f2").build(P9.TRENAMEAT, tag++));
        l.add(new P9Client.Msg().u32(4).str("f2").u32(1).str("f").build(P9.TRENAMEAT, tag++));
        l.add(new P9Client.Msg().u32(3).u32(1).str("g2").build(P9.TRENAME, tag++));
        l.add(new P9Client.Msg().u32(1).str("ln").str("../outside/secret").u32(0).build(P9.TSYMLINK, tag++));
        l.add(new P9Client.Msg().u32(6).build(P9.TREADLINK, tag++));
        l.add(new P9Client.Msg().u32(1).u32(2).str("hard").build(P9.TLINK, tag++));
        l.add(new P9Client.Msg().u32(1).str("node").u32(P9.S_IFREG | 0600).u32(0).u32(0).u32(0).build(P9.TMKNOD, tag++));
        l.add(new P9Client.Msg().u32(2).u64(0x3FFF).build(P9.TGETATTR, tag++));
        l.add(new P9Client.Msg().u32(2).u32(P9.SETATTR_SIZE | P9.SETATTR_MODE).u32(0644).u32(0).u32(0).u64(5)
                .u64(0).u64(0).u64(0).u64(0).build(P9.TSETATTR, tag++));
        l.add(new P9Client.Msg().u32(2).u32(0).build(P9.TFSYNC, tag++));
        l.add(new P9Client.Msg().u32(1).build(P9.TSTATFS, tag++));
        l.add(new P9Client.Msg().u32(2).u32(7).str("").build(P9.TXATTRWALK, tag++));
        l.add(new P9Client.Msg().u32(7).u64(0).u32(10).build(P9.TREAD, tag++));
        l.add(new P9Client.Msg().u32(2).u8(1).u32(0).u64(0).u64(0).u32(1).str("c").build(P9.TLOCK, tag++));
        l.add(new P9Client.Msg().u32(2).u8(1).u64(0).u64(0).u32(1).str("c").build(P9.TGETLOCK, tag++));
        l.add(new P9Client.Msg().u16(3).build(P9.TFLUSH, tag++));
        l.add(new P9Client.Msg().u32(7).build(P9.TCLUNK, tag++));
        l.add(new P9Client.Msg().u32(3).build(P9.TREMOVE, tag++));
        return l;
    }

    @Test
    void mutatedValidMessages() {
        c.version(65536, "9P2000.L");
        List<ByteBuffer> corpus = corpus();
        for (int i = 0; i < 20_000; i++) {
            ByteBuffer orig = corpus.get(rnd.nextInt(corpus.size()));
            ByteBuffer m = mutate(orig);
            c.responseRoom = ROOMS[rnd.nextInt(ROOMS.length)];
            c.send(m);
            if (rnd.nextInt(300) == 0) {
                c.responseRoom = 1 << 17;
                c.version(65536, "9P2000.L");
            }
        }
    }

    private ByteBuffer mutate(ByteBuffer orig) {
        byte[] b = new byte[orig.limit()];
        orig.get(0, b);
        switch (rnd.nextInt(6)) {
            case 0 -> { } // unchanged, to move the session along
            case 1 -> {
                for (int k = rnd.nextInt(1, 5); k > 0; k--) b[rnd.nextInt(P9.HEADER, Math.max(P9.HEADER + 1, b.length))
                        % b.length] ^= (byte) (1 << rnd.nextInt(8));
            }
            case 2 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(0, b.length + 1)); // truncated, size field now lies
            case 3 -> { // an extreme value in some 4-byte field
                if (b.length >= P9.HEADER + 4) {
                    int at = rnd.nextInt(P9.HEADER, b.length - 3);
                    int[] v = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 65537, 0xFFFF};
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v[rnd.nextInt(v.length)]);
                }
            }
            case 4 -> { // garbage appended, size field covering it or not
                byte[] more = java.util.Arrays.copyOf(b, b.length + rnd.nextInt(1, 64));
                for (int k = b.length; k < more.length; k++) more[k] = (byte) rnd.nextInt(256);
                if (rnd.nextBoolean()) ByteBuffer.wrap(more).order(ByteOrder.LITTLE_ENDIAN).putInt(0, more.length);
                b = more;
            }
            default -> ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(0, rnd.nextInt()); // lying size
        }
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
