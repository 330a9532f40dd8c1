package dev.rivet.virtio.p9;

import java.util.Arrays;

/**
 * A file's place in the share: the names walked from the share root, each one a single
 * validated component (no '/', never "." or ".."). The root is the empty path. Immutable,
 * so fids can share instances.
 */
final class RelPath {
    static final RelPath ROOT = new RelPath(new String[0]);
    /** Linux's NAME_MAX: longer names are refused before they reach the host. */
    static final int NAME_MAX = 255;

    private final String[] names;

    private RelPath(String[] names) {
        this.names = names;
    }

    /**
     * Checks a name the guest wants to create, remove or look up as one directory entry.
     * "." and ".." are refused here; walks handle them before calling this.
     */
    static String checkName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..")) throw new P9Error(Errno.EINVAL, "bad name");
        if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) throw new P9Error(Errno.EINVAL, "bad name");
        if (name.length() > NAME_MAX) throw new P9Error(Errno.ENAMETOOLONG, "name too long");
        return name;
    }

    RelPath child(String name) {
        String[] n = Arrays.copyOf(names, names.length + 1);
        n[names.length] = checkName(name);
        return new RelPath(n);
    }

    /** The parent; the root is its own parent (walk(5): ".." at the root stays there). */
    RelPath parent() {
        return names.length == 0 ? this : new RelPath(Arrays.copyOf(names, names.length - 1));
    }

    int depth() {
        return names.length;
    }

    String name(int i) {
        return names[i];
    }

    boolean isRoot() {
        return names.length == 0;
    }

    /** True if this is {@code prefix} or lies below it. */
    boolean startsWith(RelPath prefix) {
        if (prefix.names.length > names.length) return false;
        for (int i = 0; i < prefix.names.length; i++) if (!names[i].equals(prefix.names[i])) return false;
        return true;
    }

    /** This path with {@code from} (a prefix of it) replaced by {@code to}: after a rename. */
    RelPath rebase(RelPath from, RelPath to) {
        String[] n = Arrays.copyOf(to.names, to.names.length + names.length - from.names.length);
        System.arraycopy(names, from.names.length, n, to.names.length, names.length - from.names.length);
        return new RelPath(n);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RelPath r && Arrays.equals(names, r.names);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(names);
    }

    @Override
    public String toString() {
        return "/" + String.join("/", names);
    }
}
