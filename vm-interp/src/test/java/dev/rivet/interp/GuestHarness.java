package dev.rivet.interp;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.riscv.CodePageMap;
import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.riscv.RiscvAssembler;

import static dev.rivet.ir.riscv.RiscvAssembler.jal;

/**
 * Runs a few hand-assembled instructions on a fresh hart, the way a test driver would:
 * code at {@link #CODE}, scratch data at {@link #DATA}, and a trap handler at
 * {@link #TRAP} that spins in place, so "the program stopped" means either the final
 * {@code ebreak} or an unexpected trap, told apart by mcause/mepc.
 */
final class GuestHarness implements AutoCloseable {
    static final long RAM = 0x8000_0000L;
    static final long CODE = RAM;
    static final long TRAP = RAM + 0x8000;
    static final long DATA = RAM + 0x10000;

    final GuestRam ram = new GuestRam(RAM, 1 << 20);
    final Bus bus = new Bus(ram);
    final Hart hart = new Hart(0, bus, new CodePageMap(RAM, 1 << 20));
    final Interpreter interp = new Interpreter(hart);

    GuestHarness() {
        hart.reset(CODE);
        hart.mtvec = TRAP;
        hart.mstatus |= 1L << 13; // FS = Initial: FP instructions are legal
        put(TRAP, jal(0, 0));
    }

    void put(long addr, int... words) {
        for (int k = 0; k < words.length; k++) {
            ram.write(addr - RAM + 4L * k, 4, words[k]);
        }
    }

    void put(long addr, byte[] bytes) {
        ram.load(addr, bytes, 0, bytes.length);
    }

    /** Loads {@code asm} at CODE followed by ebreak, runs until the trap handler spins. */
    Hart run(RiscvAssembler asm) {
        asm.emit(RiscvAssembler.ebreak());
        put(CODE, asm.assemble());
        return runFromCode(10_000);
    }

    Hart runFromCode(long budget) {
        hart.pc = CODE;
        interp.run(budget);
        return hart;
    }

    /** Address of the final ebreak of a program of {@code words} instructions. */
    static long endOf(RiscvAssembler asm) {
        return CODE + asm.sizeBytes() - 4;
    }

    @Override
    public void close() {
        ram.close();
    }
}
