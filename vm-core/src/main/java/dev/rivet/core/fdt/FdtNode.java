package dev.rivet.core.fdt;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One node of a device tree under construction. Properties keep insertion order; values
 * are stored encoded (big-endian cells, NUL-terminated strings) as the Devicetree
 * Specification v0.4, chapter 2.2.4 "Properties", describes.
 */
public final class FdtNode {
    private final String name;
    private final Map<String, byte[]> props = new LinkedHashMap<>();
    private final List<FdtNode> children = new ArrayList<>();
    private final Fdt tree;

    FdtNode(Fdt tree, String name) {
        this.tree = tree;
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** The child called {@code name} (e.g. {@code "uart@10000000"}), created if absent. */
    public FdtNode child(String name) {
        for (FdtNode c : children) {
            if (c.name.equals(name)) {
                return c;
            }
        }
        FdtNode c = new FdtNode(tree, name);
        children.add(c);
        return c;
    }

    public List<FdtNode> children() {
        return List.copyOf(children);
    }

    /** A string or string-list property. */
    public FdtNode prop(String prop, String... values) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (String v : values) {
            byte[] s = v.getBytes(StandardCharsets.UTF_8);
            b.write(s, 0, s.length);
            b.write(0);
        }
        props.put(prop, b.toByteArray());
        return this;
    }

    /** A property of 32-bit cells. */
    public FdtNode cells(String prop, int... cells) {
        byte[] v = new byte[cells.length * 4];
        for (int i = 0; i < cells.length; i++) {
            putU32(v, 4 * i, cells[i]);
        }
        props.put(prop, v);
        return this;
    }

    /** A property of 64-bit values, each as two cells (high, low). */
    public FdtNode cells64(String prop, long... values) {
        byte[] v = new byte[values.length * 8];
        for (int i = 0; i < values.length; i++) {
            putU32(v, 8 * i, (int) (values[i] >>> 32));
            putU32(v, 8 * i + 4, (int) values[i]);
        }
        props.put(prop, v);
        return this;
    }

    /** {@code reg} with two address and two size cells per entry: base, size, base, size, … */
    public FdtNode reg(long... baseSizePairs) {
        return cells64("reg", baseSizePairs);
    }

    /** A property with no value (a boolean flag such as {@code interrupt-controller}). */
    public FdtNode flag(String prop) {
        props.put(prop, new byte[0]);
        return this;
    }

    public FdtNode bytes(String prop, byte[] value) {
        props.put(prop, value.clone());
        return this;
    }

    /** This node's phandle, allocating one (and the {@code phandle} property) on first use. */
    public int phandle() {
        byte[] v = props.get("phandle");
        if (v != null) {
            return ((v[0] & 0xFF) << 24) | ((v[1] & 0xFF) << 16) | ((v[2] & 0xFF) << 8) | (v[3] & 0xFF);
        }
        int p = tree.nextPhandle();
        cells("phandle", p);
        return p;
    }

    public byte[] property(String prop) {
        byte[] v = props.get(prop);
        return v == null ? null : v.clone();
    }

    Map<String, byte[]> properties() {
        return props;
    }

    static void putU32(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }
}
