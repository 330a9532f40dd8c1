package dev.rivet.core.fdt;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A device tree and its flattened blob encoding (Devicetree Specification v0.4, chapter 5
 * "Flattened Devicetree (DTB) Format"): header, empty memory reservation map, structure
 * block, strings block, version 17.
 */
public final class Fdt {
    private static final int MAGIC = 0xD00DFEED;
    private static final int BEGIN_NODE = 1, END_NODE = 2, PROP = 3, END = 9;
    private static final int HEADER_SIZE = 40;

    private final FdtNode root = new FdtNode(this, "");
    private int lastPhandle;
    private int bootCpu;

    public FdtNode root() {
        return root;
    }

    int nextPhandle() {
        return ++lastPhandle;
    }

    public void setBootCpu(int hartId) {
        this.bootCpu = hartId;
    }

    /** The node at a path like {@code /soc/serial@10000000}, creating missing nodes. */
    public FdtNode node(String path) {
        FdtNode n = root;
        for (String part : path.split("/")) {
            if (!part.isEmpty()) {
                n = n.child(part);
            }
        }
        return n;
    }

    public byte[] toBlob() {
        ByteArrayOutputStream struct = new ByteArrayOutputStream();
        ByteArrayOutputStream strings = new ByteArrayOutputStream();
        Map<String, Integer> stringOffsets = new HashMap<>();
        writeNode(root, struct, strings, stringOffsets);
        u32(struct, END);
        byte[] s = struct.toByteArray();
        byte[] str = strings.toByteArray();
        int rsvOff = HEADER_SIZE;
        int rsvSize = 16; // one terminating {0, 0} entry
        int structOff = rsvOff + rsvSize;
        int stringsOff = structOff + s.length;
        int total = stringsOff + str.length;
        byte[] blob = new byte[(total + 7) & ~7];
        int[] header = {MAGIC, blob.length, structOff, stringsOff, rsvOff, 17, 16, bootCpu, str.length, s.length};
        for (int i = 0; i < header.length; i++) {
            FdtNode.putU32(blob, 4 * i, header[i]);
        }
        System.arraycopy(s, 0, blob, structOff, s.length);
        System.arraycopy(str, 0, blob, stringsOff, str.length);
        return blob;
    }

    private static void writeNode(FdtNode n, ByteArrayOutputStream out, ByteArrayOutputStream strings,
            Map<String, Integer> offsets) {
        u32(out, BEGIN_NODE);
        byte[] name = n.name().getBytes(StandardCharsets.UTF_8);
        out.write(name, 0, name.length);
        out.write(0);
        pad(out);
        for (Map.Entry<String, byte[]> p : n.properties().entrySet()) {
            Integer off = offsets.get(p.getKey());
            if (off == null) {
                off = strings.size();
                byte[] k = p.getKey().getBytes(StandardCharsets.UTF_8);
                strings.write(k, 0, k.length);
                strings.write(0);
                offsets.put(p.getKey(), off);
            }
            u32(out, PROP);
            u32(out, p.getValue().length);
            u32(out, off);
            out.write(p.getValue(), 0, p.getValue().length);
            pad(out);
        }
        for (FdtNode c : n.children()) {
            writeNode(c, out, strings, offsets);
        }
        u32(out, END_NODE);
    }

    private static void u32(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    private static void pad(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }
}
