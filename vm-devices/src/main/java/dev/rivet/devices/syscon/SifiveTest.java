package dev.rivet.devices.syscon;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.FdtNode;

import java.util.Objects;

/**
 * The SiFive test finisher at 0x0010_0000 on QEMU's {@code virt} board (QEMU
 * hw/misc/sifive_test.c; SiFive's "sifive,test0" device): one write-only register at
 * offset 0 whose low 16 bits are a command and high 16 bits an argument.
 *
 * <ul>
 * <li>{@code 0x5555} (FINISHER_PASS): power off, exit code 0.
 * <li>{@code 0x3333 | code << 16} (FINISHER_FAIL): power off with {@code code} (as in QEMU,
 *     a fail with code 0 exits with 0).
 * <li>{@code 0x7777} (FINISHER_RESET): system reset.
 * </ul>
 *
 * Reads return 0. Other values or offsets are guest errors. The device is also a
 * {@code syscon}: Linux powers off and reboots through the {@code syscon-poweroff} and
 * {@code syscon-reboot} nodes that {@link #addTo} adds, which write those same values
 * (32-bit); OpenSBI writes the command with a 16-bit store. Access sizes 2 and 4, as QEMU
 * declares them. Stateless, so thread-safe.
 */
public final class SifiveTest implements MmioDevice {
    /** Size of the register window in QEMU virt's device tree ({@code reg} size). */
    public static final long MMIO_SIZE = 0x1000;

    /** The finisher register. */
    public static final int FINISHER = 0x0;

    public static final int FINISHER_FAIL = 0x3333;
    public static final int FINISHER_PASS = 0x5555;
    public static final int FINISHER_RESET = 0x7777;

    /** What the test device asks of the board. Called on the hart thread that wrote the register. */
    public interface PowerControl {
        /** Power the machine off; {@code code} is the exit status (0 = pass). */
        void poweroff(int code);

        /** Reset the whole machine. */
        void reset();
    }

    private final PowerControl power;
    private final GuestErrorLog log;

    public SifiveTest(PowerControl power, GuestErrorLog log) {
        this.power = Objects.requireNonNull(power, "power");
        this.log = Objects.requireNonNull(log, "log");
    }

    @Override
    public String name() {
        return "sifive-test";
    }

    @Override
    public int accessSizes() {
        return SIZE_2 | SIZE_4;
    }

    @Override
    public long read(long offset, int size) {
        return switch (register(offset)) {
            case FINISHER -> 0;
            default -> {
                log.guestError(String.format("%s: read of unknown register at offset 0x%x", name(), offset));
                yield 0;
            }
        };
    }

    @Override
    public void write(long offset, int size, long value) {
        switch (register(offset)) {
            case FINISHER -> {
                int status = (int) value & 0xFFFF;
                int code = (int) (value >>> 16) & 0xFFFF;
                switch (status) {
                    case FINISHER_PASS -> power.poweroff(0);
                    case FINISHER_FAIL -> power.poweroff(code);
                    case FINISHER_RESET -> power.reset();
                    default -> log.guestError(String.format("%s: unknown command 0x%x", name(), value));
                }
            }
            default -> log.guestError(String.format("%s: write of 0x%x to unknown register at offset 0x%x",
                    name(), value, offset));
        }
    }

    private static int register(long offset) {
        return offset == FINISHER ? FINISHER : -1;
    }

    /**
     * Adds QEMU virt's nodes for the device: {@code test@<base>} under {@code soc}
     * ({@code phandle}, {@code reg}, {@code compatible = "sifive,test1", "sifive,test0",
     * "syscon"}), and under {@code root} the {@code poweroff} ({@code syscon-poweroff},
     * value 0x5555) and {@code reboot} ({@code syscon-reboot}, value 0x7777) nodes whose
     * {@code regmap} is that phandle. Returns the test node.
     */
    public FdtNode addTo(FdtNode soc, FdtNode root, long base, long size) {
        FdtNode test = soc.child("test@" + Long.toHexString(base));
        int phandle = test.phandle(); // first, so the property comes first as in QEMU's tree
        test.reg(base, size).prop("compatible", "sifive,test1", "sifive,test0", "syscon");
        root.child("poweroff")
                .cells("value", FINISHER_PASS)
                .cells("offset", FINISHER)
                .cells("regmap", phandle)
                .prop("compatible", "syscon-poweroff");
        root.child("reboot")
                .cells("value", FINISHER_RESET)
                .cells("offset", FINISHER)
                .cells("regmap", phandle)
                .prop("compatible", "syscon-reboot");
        return test;
    }
}
