package dev.rivet.core.irq;

/**
 * A level-sensitive interrupt wire from a device to an interrupt controller (or from a
 * controller to a hart). Safe to drive from any thread.
 */
@FunctionalInterface
public interface IrqLine {
    IrqLine NONE = level -> { };

    void set(boolean level);

    default void raise() {
        set(true);
    }

    default void lower() {
        set(false);
    }
}
