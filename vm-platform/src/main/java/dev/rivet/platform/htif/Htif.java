package dev.rivet.platform.htif;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.riscv.Hart;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The Host-Target Interface of Spike and QEMU's {@code spike} machine: two 64-bit words
 * in guest RAM named by the ELF symbols {@code tohost} and {@code fromhost}. A guest
 * store to {@code tohost} is a command {@code device << 56 | command << 48 | payload}:
 * <ul>
 *   <li>device 0, command 0, payload odd: exit with status {@code payload >> 1};</li>
 *   <li>device 0, command 0, payload even: a pointer to a syscall block
 *       {@code uint64_t[8]} — only {@code SYS_write} (64) to fd 1 or 2 is served (the
 *       "proxy kernel" convention); the return value replaces word 0;</li>
 *   <li>device 1, command 1: print the character in the low byte.</li>
 * </ul>
 * Each handled command clears {@code tohost} and answers in {@code fromhost}.
 */
public final class Htif implements Hart.RamWatch {
    private static final int DEV_SYSCALL = 0, DEV_CONSOLE = 1;
    private static final int CMD_PUTCHAR = 1;
    private static final long SYS_WRITE = 64;
    /** Cap one SYS_write so a hostile length cannot make us copy gigabytes. */
    private static final long MAX_WRITE = 1 << 20;

    private final GuestRam ram;
    private final long tohost;
    private final long fromhost;
    private final OutputStream console;
    private final GuestErrorLog log;
    private final Hart hart;
    private volatile Integer exitCode;

    public Htif(Hart hart, GuestRam ram, long tohost, long fromhost, OutputStream console, GuestErrorLog log) {
        this.hart = hart;
        this.ram = ram;
        this.tohost = tohost;
        this.fromhost = fromhost;
        this.console = console;
        this.log = log;
    }

    /** Installs the watch on the hart. */
    public void attach() {
        hart.watchRam(tohost, tohost + 8, this);
    }

    /** The exit status the guest reported, or null while it runs. */
    public Integer exitCode() {
        return exitCode;
    }

    @Override
    public void afterWrite(long physAddr, int size) {
        long cmd = ram.read(tohost - ram.base(), 8);
        if (cmd == 0) {
            return;
        }
        int device = (int) (cmd >>> 56);
        int command = (int) (cmd >>> 48) & 0xFF;
        long payload = cmd & 0xFFFF_FFFF_FFFFL;
        ram.write(tohost - ram.base(), 8, 0);
        long response = 0;
        if (device == DEV_SYSCALL && command == 0) {
            if ((payload & 1) != 0) {
                exitCode = (int) (payload >>> 1);
                hart.requestStop();
                return;
            }
            response = syscall(payload);
        } else if (device == DEV_CONSOLE && command == CMD_PUTCHAR) {
            write(new byte[] {(byte) payload}, 0, 1);
        } else {
            log.guestError(String.format("htif: unsupported command 0x%x", cmd));
        }
        if (ram.contains(fromhost, 8)) {
            ram.write(fromhost - ram.base(), 8, ((long) device << 56) | ((long) command << 48) | (response & 0xFFFF_FFFF_FFFFL));
        }
    }

    private long syscall(long magic) {
        if (!ram.contains(magic, 64)) {
            log.guestError(String.format("htif: syscall block at 0x%x is outside RAM", magic));
            return 1;
        }
        long off = magic - ram.base();
        long no = ram.read(off, 8);
        long fd = ram.read(off + 8, 8);
        long buf = ram.read(off + 16, 8);
        long len = ram.read(off + 24, 8);
        long ret;
        if (no != SYS_WRITE || (fd != 1 && fd != 2)) {
            log.guestError("htif: unsupported syscall " + no + " on fd " + fd);
            ret = -38; // -ENOSYS
        } else if (Long.compareUnsigned(len, MAX_WRITE) > 0 || !ram.contains(buf, len)) {
            log.guestError(String.format("htif: write buffer 0x%x+%d is outside RAM", buf, len));
            ret = -14; // -EFAULT
        } else {
            byte[] bytes = new byte[(int) len];
            java.lang.foreign.MemorySegment.copy(ram.segment(), GuestRam.I8, buf - ram.base(), bytes, 0, (int) len);
            write(bytes, 0, bytes.length);
            ret = len;
        }
        ram.write(off, 8, ret);
        return 1;
    }

    private void write(byte[] b, int off, int len) {
        try {
            console.write(b, off, len);
            console.flush();
        } catch (IOException e) {
            log.guestError("htif: console output failed: " + e.getMessage());
        }
    }
}
