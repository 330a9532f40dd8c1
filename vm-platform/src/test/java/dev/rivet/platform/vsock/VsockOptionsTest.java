package dev.rivet.platform.vsock;

import dev.rivet.platform.virt.VirtioSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code cid=N,uds=PATH[,transport=..]} parser: what it accepts, and one clear line for what it does not. */
class VsockOptionsTest {
    @Test
    void parsesCidUdsAndTransportInAnyOrder() {
        assertEquals(new VsockOptions(3, Path.of("/tmp/v.sock"), VirtioSpec.Transport.MMIO),
                VsockOptions.parse("cid=3,uds=/tmp/v.sock"));
        assertEquals(new VsockOptions(4294967294L, Path.of("v.sock"), VirtioSpec.Transport.PCI),
                VsockOptions.parse("uds=v.sock,transport=pci,cid=4294967294"));
    }

    @Test
    void badValuesAreOneLineErrorsNamingTheProblem() {
        String[][] cases = {
            {"", "expected cid=N,uds=PATH"},
            {"uds=/tmp/v.sock", "'cid=' is required"},
            {"cid=3", "'uds=' is required"},
            {"cid=3,uds=", "'uds=' is required"},
            {"cid=2,uds=/tmp/v.sock", "cid=2 must be 3 to 4294967294"},
            {"cid=4294967295,uds=/tmp/v.sock", "must be 3 to"},
            {"cid=-5,uds=/tmp/v.sock", "must be 3 to"},
            {"cid=three,uds=/tmp/v.sock", "cid=three is not a number"},
            {"cid=3,uds=/tmp/v.sock,port=5", "unknown key 'port'"},
            {"cid=3,cid=4,uds=/tmp/v.sock", "'cid' given twice"},
            {"cid=3,/tmp/v.sock", "is not key=value"},
            {"cid=3,uds=/tmp/v.sock,transport=usb", "transport=usb must be mmio or pci"},
            {"cid=3,uds=/" + "x".repeat(107), "too long for a Unix socket"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VsockOptions.parse(c[0]),
                    c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
            assertTrue(e.getMessage().startsWith("vsock '" + c[0] + "': "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
        }
    }
}
