package dev.rivet.platform.cli;

import dev.rivet.platform.virt.VirtioSpec;
import picocli.CommandLine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A device flag's value in QEMU's style, {@code [value,]key=value,key=value}: for example
 * {@code --drive file=disk.qcow2,readonly=on} or {@code --share /srv/data,tag=data}. Keys are
 * checked against the ones the flag knows, so a typo is an error, not a silent default.
 */
final class DeviceOption {
    private final String flag;
    private final String positional;
    private final Map<String, String> keys = new LinkedHashMap<>();

    private DeviceOption(String flag, String positional) {
        this.flag = flag;
        this.positional = positional;
    }

    /**
     * Parses {@code text} for {@code flag}; a first part without '=' is the positional value
     * (allowed only when {@code positionalAllowed}).
     */
    static DeviceOption parse(String flag, String text, boolean positionalAllowed, Set<String> known) {
        String[] parts = text.split(",", -1);
        String positional = null;
        int from = 0;
        if (parts.length > 0 && !parts[0].contains("=")) {
            if (!positionalAllowed || parts[0].isEmpty()) {
                throw new CommandLine.TypeConversionException(flag + " " + text + ": expected key=value pairs, e.g. "
                        + String.join("=..,", known) + "=..");
            }
            positional = parts[0];
            from = 1;
        }
        DeviceOption o = new DeviceOption(flag, positional);
        for (int i = from; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.TypeConversionException(flag + ": '" + parts[i] + "' is not key=value");
            }
            String k = parts[i].substring(0, eq), v = parts[i].substring(eq + 1);
            if (!known.contains(k)) {
                throw new CommandLine.TypeConversionException(flag + ": unknown key '" + k + "' (known: "
                        + String.join(", ", known) + ")");
            }
            if (o.keys.put(k, v) != null) {
                throw new CommandLine.TypeConversionException(flag + ": '" + k + "' given twice");
            }
        }
        return o;
    }

    String positional() {
        return positional;
    }

    /** The value of {@code key}, or {@code dflt} when absent. */
    String get(String key, String dflt) {
        return keys.getOrDefault(key, dflt);
    }

    /** A required value: the positional one or {@code key}. */
    String required(String key) {
        String v = positional != null ? positional : keys.get(key);
        if (v == null || v.isEmpty()) {
            throw new CommandLine.TypeConversionException(flag + ": '" + key + "=' is required");
        }
        if (positional != null && keys.containsKey(key)) {
            throw new CommandLine.TypeConversionException(flag + ": '" + key + "' given twice");
        }
        return v;
    }

    /** {@code on/off} (also {@code true/false}, {@code yes/no}). */
    boolean flag(String key, boolean dflt) {
        String v = keys.get(key);
        if (v == null) {
            return dflt;
        }
        return switch (v) {
            case "on", "true", "yes" -> true;
            case "off", "false", "no" -> false;
            default -> throw new CommandLine.TypeConversionException(flag + ": " + key + "=" + v + " must be on or off");
        };
    }

    /** The {@code transport=mmio|pci} key (default mmio). */
    VirtioSpec.Transport transport() {
        return transport(flag, get("transport", "mmio"));
    }

    static VirtioSpec.Transport transport(String flag, String v) {
        return switch (v) {
            case "mmio" -> VirtioSpec.Transport.MMIO;
            case "pci" -> VirtioSpec.Transport.PCI;
            default -> throw new CommandLine.TypeConversionException(flag + ": transport=" + v + " must be mmio or pci");
        };
    }
}
