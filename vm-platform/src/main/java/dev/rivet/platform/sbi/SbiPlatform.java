package dev.rivet.platform.sbi;

import dev.rivet.core.riscv.Hart;

/** What the built-in SBI needs from the machine it runs on. */
public interface SbiPlatform {
    int hartCount();

    Hart hart(int hartId);

    /** HSM hart state of {@code hartId} (SBI spec 9: 0 started, 1 stopped, 2 start pending, …). */
    int hartState(int hartId);

    /** Starts a stopped hart in S-mode at {@code startAddr} with a0 = hartid, a1 = opaque. */
    boolean startHart(int hartId, long startAddr, long opaque);

    /** Stops the calling hart (it parks until started again). */
    void stopHart(Hart hart);

    /** System power off ({@code failure} = the guest reported a system failure). */
    void powerOff(boolean failure);

    /** System reset (cold or warm reboot). */
    void reboot();

    /** Console output for the debug console and legacy putchar. */
    void consoleWrite(byte[] data, int off, int len);

    /** One byte of console input, or -1 when none is waiting. */
    int consoleRead();

    /** Guest physical memory for DBCN buffers: true if the whole range is RAM. */
    boolean isRam(long addr, long len);

    byte[] readRam(long addr, int len);

    void writeRam(long addr, byte[] data);

    /** Arms (or with {@link Long#MAX_VALUE} cancels) the supervisor timer of {@code hart}. */
    void setTimer(Hart hart, long mtimeDeadline);

    /** Drops translated code on {@code hart} (remote fence.i). */
    void fenceI(Hart hart);

    /** Flushes address translations on {@code hart} (remote sfence.vma). */
    void sfenceVma(Hart hart);
}
