package dev.rivet.devices.pci;

import dev.rivet.core.bus.MmioDevice;

/**
 * A PCI function for tests: no behaviour of its own, laid out by the test before it is
 * added to a host (the describing methods are protected, so visible to this package).
 * Its BAR handlers are {@link Recorder}s that answer every read with a value naming the
 * BAR and the offset, so a test can see where an access landed.
 */
class TestPciDevice extends PciDevice {
    static final int VENDOR = 0x1234;
    static final int DEVICE = 0x11E8;
    /** Base class 0xFF: "device does not fit in any defined class". */
    static final int CLASS = 0xFF0000;
    static final int REVISION = 0x42;

    /** How many times {@link #deviceReset()} ran. */
    int resets;
    /** Last configWritten() call: offset, size, value. */
    int lastWriteOffset = -1, lastWriteSize, lastWriteValue;
    /** When >= 0, a config read of this dword returns {@link #liveValue} (a register with a live value). */
    int liveOffset = -1;
    int liveValue;

    TestPciDevice(String name) {
        super(name, VENDOR, DEVICE, CLASS, REVISION);
    }

    TestPciDevice(String name, int pin) {
        this(name);
        setInterruptPin(pin);
    }

    /** Declares BAR {@code index} with a fresh recorder whose reads carry {@code tag}; returns the recorder. */
    Recorder bar(int index, PciBar.Kind kind, long size, boolean prefetchable, int tag, int accessSizes) {
        Recorder r = new Recorder(name() + " BAR" + index, tag, accessSizes);
        declareBar(index, new PciBar(kind, size, prefetchable, r));
        return r;
    }

    Recorder bar(int index, PciBar.Kind kind, long size, int tag) {
        return bar(index, kind, size, false, tag, MmioDevice.SIZES_ALL);
    }

    void irq(boolean level) {
        setIrq(level);
    }

    @Override
    protected int configRead(int offset, int size, int value) {
        return offset == liveOffset && size == 4 ? liveValue : value;
    }

    @Override
    protected void configWritten(int offset, int size, int value) {
        lastWriteOffset = offset;
        lastWriteSize = size;
        lastWriteValue = value;
    }

    @Override
    protected void deviceReset() {
        resets++;
    }

    /**
     * A BAR handler that records the last access and answers reads with
     * {@code tag << 32 | offset} (truncated to the access size). Allocation-free.
     */
    static final class Recorder implements MmioDevice {
        final String name;
        final long tag;
        final int sizes;
        int reads, writes;
        long lastOffset = -1;
        int lastSize;
        long lastValue;

        Recorder(String name, long tag, int sizes) {
            this.name = name;
            this.tag = tag;
            this.sizes = sizes;
        }

        static long answer(long tag, long offset) {
            return tag << 32 | offset;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int accessSizes() {
            return sizes;
        }

        @Override
        public long read(long offset, int size) {
            reads++;
            lastOffset = offset;
            lastSize = size;
            return answer(tag, offset);
        }

        @Override
        public void write(long offset, int size, long value) {
            writes++;
            lastOffset = offset;
            lastSize = size;
            lastValue = value;
        }

        void clear() {
            reads = 0;
            writes = 0;
            lastOffset = -1;
            lastSize = 0;
            lastValue = 0;
        }
    }
}
