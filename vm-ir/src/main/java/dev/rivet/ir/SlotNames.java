package dev.rivet.ir;

/**
 * What the slots of a frontend mean: their printable names and which may hold integer
 * or floating-point values. The verifier and the printer take one of these.
 */
public interface SlotNames {
    String name(int slot);

    /** May be read or written as an integer. */
    boolean isInt(int slot);

    /** May be read or written as a floating-point value. */
    boolean isFp(int slot);

    /** May never be written (e.g. a hard-wired zero register). */
    boolean isReadOnly(int slot);

    SlotNames NUMBERED = new SlotNames() {
        @Override
        public String name(int slot) {
            return "s" + slot;
        }

        @Override
        public boolean isInt(int slot) {
            return true;
        }

        @Override
        public boolean isFp(int slot) {
            return true;
        }

        @Override
        public boolean isReadOnly(int slot) {
            return false;
        }
    };
}
