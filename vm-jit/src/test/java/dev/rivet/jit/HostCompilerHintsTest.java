package dev.rivet.jit;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import javax.management.ObjectName;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostCompilerHintsTest {
    private static String printDirectives() throws Exception {
        return String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesPrint",
                new Object[] {new String[0]}, new String[] {String[].class.getName()}));
    }

    /** The printed directive (up to the next one) whose patterns include {@code pattern}, or null. */
    private static String directiveMatching(String printed, String pattern) {
        for (String d : printed.split("\nDirective")) {
            String matching = d.lines().map(String::strip).filter(l -> l.startsWith("matching:")).findFirst()
                    .orElse("matching:");
            if (java.util.Arrays.asList(matching.substring("matching:".length()).strip().split(",\\s*"))
                    .contains(pattern)) {
                return d;
            }
        }
        return null;
    }

    @Test
    void theLoweringAndAsmAreExcludedFromC2OnlyInThisJvm() throws Exception {
        HostCompilerHints.applyOnce(); // whoever applied it first, it must now be in force
        String printed = printDirectives();
        for (String pattern : new String[] {"dev/rivet/jit/RegionLowering*.*", "dev/rivet/jit/JitCompiler*.*",
                "org/objectweb/asm*.*"}) {
            String d = directiveMatching(printed, pattern);
            assertNotNull(d, () -> pattern + " missing from\n" + printed);
            String c1 = d.substring(d.indexOf("c1 directives:"), d.indexOf("c2 directives:"));
            String c2 = d.substring(d.indexOf("c2 directives:"));
            assertTrue(c1.contains("Exclude:false"), d);
            assertTrue(c2.contains("Exclude:true"), d);
        }
        // The generated classes are dev/rivet/jit/JitRegion: no pattern may reach them.
        assertNull(directiveMatching(printed, "dev/rivet/jit/*.*"), printed);
    }

    @Test
    void aSecondApplicationAddsNothing() throws Exception {
        HostCompilerHints.applyOnce();
        String before = printDirectives();
        assertFalse(HostCompilerHints.applyOnce());
        String after = printDirectives();
        assertTrue(before.equals(after), "directives changed:\n" + before + "\n---\n" + after);
    }
}
