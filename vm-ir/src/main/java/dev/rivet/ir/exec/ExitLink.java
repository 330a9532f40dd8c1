package dev.rivet.ir.exec;

/**
 * One exit of compiled code that can go straight on into the compiled code at its target
 * instead of returning to the dispatcher (chaining). Compiled code owns one link per exit
 * site that leaves it for another unit; the dispatcher fills it in: when compiled code
 * leaves through a site whose link is empty (or was made for another target, as an
 * indirect jump's may be), it hands the link to the dispatcher through
 * {@code Hart.exitLink}, and the dispatcher, having found the next unit, links the site to
 * that unit's compiled code if there is some.
 *
 * <p>A link holds code found by virtual address under the translations of one moment, so
 * the dispatcher empties every link when translations change ({@code satp},
 * {@code sfence.vma}) and whenever translated code is dropped; it is only ever touched on
 * the hart's thread.
 */
public final class ExitLink {
    /** The guest address this link was made for. */
    public long pc;
    /** The compiled code entered at {@link #pc}, or null when the site is not linked. */
    public CompiledBlock target;
}
