package dev.rivet.ir.exec;

import dev.rivet.ir.IrBlock;

import java.util.List;

/**
 * What the dispatcher hands a compiler: an entry block plus further blocks, all in the
 * entry's virtual page and mode, that it reached from there through direct jumps. Within
 * one page the virtual-to-physical mapping is the same for every block, so jumps between
 * them need no check; and a write to that page drops the entry block, and with it the
 * region's code.
 *
 * @param blocks the entry block first; no two with the same PC
 */
public record Region(List<IrBlock> blocks) {
    public Region {
        if (blocks.isEmpty()) {
            throw new IllegalArgumentException("empty region");
        }
        blocks = List.copyOf(blocks);
    }

    /** A region of one block. */
    public static Region of(IrBlock block) {
        return new Region(List.of(block));
    }

    public IrBlock entry() {
        return blocks.getFirst();
    }

    public int size() {
        return blocks.size();
    }
}
