package dev.rivet.platform.boot;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed RV64 ELF executable: entry point, loadable segments in program-header order,
 * and named symbols from {@code .symtab} (empty when the file has no section headers).
 */
public record ElfImage(long entry, List<ElfSegment> segments, Map<String, Long> symbols) {
    public ElfImage {
        segments = List.copyOf(segments);
        symbols = Map.copyOf(symbols);
    }

    /** The value (address) of a named symbol, e.g. {@code tohost}. */
    public Optional<Long> symbol(String name) {
        return Optional.ofNullable(symbols.get(name));
    }
}
