package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.NativeBLAS;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * On Linux x86-64 a fresh machine computes with native OpenBLAS (issue 14, item 7): the machine's
 * own when it has one, else the one trainer-core carries, one BLAS thread per call; and its
 * products are the pure-Java BLAS's to rounding.
 */
class NativeBlasTest {

    private static boolean linuxX8664() {
        String arch = System.getProperty("os.arch", "");
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")
                && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    @Test
    void linuxX8664ComputesWithNativeOpenBlasWithoutInstallingAnything() {
        Assumptions.assumeTrue(linuxX8664(), "the bundled OpenBLAS is for Linux x86-64");
        Assumptions.assumeTrue(System.getProperty(NativeBlasLibrary.NATIVE_LIB_PATH) == null
                || System.getProperty(NativeBlasLibrary.NATIVE_LIB_PATH).contains("javacpp"), "no BLAS set by hand");
        try (Blas.Pinned auto = Blas.pin("auto")) {
            BLAS blas = Blas.get();
            assertTrue(blas instanceof NativeBLAS, "native, not " + blas.getClass().getName());
            String source = NativeBlasLibrary.prepare();
            assertTrue(source != null && source.contains("OpenBLAS"), String.valueOf(source));
            String line = Blas.describe(blas, source);
            assertTrue(line.contains("-Dsparkprop.blas=java") && line.contains("nativeLibPath"),
                    "the log line says how to change it: " + line);
        }
    }

    /**
     * The library netlib computes with is the one whose thread count was set to 1: a single
     * OpenBLAS in the process. With two (netlib's {@code libopenblas.so.0} beside the
     * {@code libopenblas_nolapack.so.0} JavaCPP loads and {@code blas_set_num_threads} went to),
     * netlib's ran with as many threads as cores whenever {@code OPENBLAS_NUM_THREADS} was unset,
     * and multithreaded dgemm rounds differently: a YARN run with the variable set and a local run
     * without it ended 2 ulps apart (YarnClusterModeIT).
     */
    @Test
    void oneOpenBlasIsLoadedTheOneWhoseThreadsWereSet() throws Exception {
        Assumptions.assumeTrue(linuxX8664());
        try (Blas.Pinned nativeBlas = Blas.pin("native")) {
            String source = NativeBlasLibrary.prepare();
            Assumptions.assumeTrue(source != null && source.contains("bundled"), "this machine uses the bundled OpenBLAS");
            // Force netlib's native library to be loaded and used.
            double[] c = new double[1];
            Blas.get().dgemm("N", "N", 1, 1, 1, 1.0, new double[] {2}, 1, new double[] {3}, 1, 0.0, c, 1);
            assertEquals(6.0, c[0]);
            java.util.Set<String> openblas = new java.util.TreeSet<>();
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
                String[] fields = line.trim().split("\\s+");
                String file = fields[fields.length - 1];
                if (file.contains("libopenblas")) {
                    openblas.add(file);
                }
            }
            assertEquals(1, openblas.size(), "OpenBLAS libraries mapped: " + openblas);
            assertTrue(source.contains("1 thread per call") || System.getenv("OPENBLAS_NUM_THREADS") != null, source);
        }
    }

    @Test
    void theNativeProductIsThePureJavaProductToRounding() {
        Assumptions.assumeTrue(linuxX8664());
        // C (m, n) = A (m, k) · B (k, n), column-major, shapes with no block-size multiple.
        int m = 67;
        int k = 45;
        int n = 31;
        SplitMix64 random = new SplitMix64(5);
        double[] a = new double[m * k];
        double[] b = new double[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextDouble() - 0.5;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = random.nextDouble() - 0.5;
        }
        double[] expected = new double[m * n];
        double[] actual = new double[m * n];
        try (Blas.Pinned java = Blas.pin("java")) {
            Blas.get().dgemm("N", "N", m, n, k, 1.0, a, m, b, k, 0.0, expected, m);
        }
        try (Blas.Pinned nativeBlas = Blas.pin("native")) {
            Blas.get().dgemm("N", "N", m, n, k, 1.0, a, m, b, k, 0.0, actual, m);
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-13, "C[" + i + "]");
        }
    }

    /** Prints the native library's source and the BLAS in use: run by {@link #aSystemOpenBlasIsPreferredToTheBundledOne}. */
    public static final class Probe {
        public static void main(String[] args) {
            System.out.println("source=" + NativeBlasLibrary.prepare());
            System.out.println("blas=" + Blas.implementationName());
        }
    }

    @Test
    void aSystemOpenBlasIsPreferredToTheBundledOne() throws Exception {
        Assumptions.assumeTrue(linuxX8664());
        NativeBlasLibrary.prepare();
        String bundled = System.getProperty(NativeBlasLibrary.NATIVE_LIB_PATH);
        Assumptions.assumeTrue(bundled != null && bundled.contains("javacpp"), "this machine uses the bundled OpenBLAS");
        // A "system" OpenBLAS: the bundled files, linked into a directory on LD_LIBRARY_PATH.
        java.nio.file.Path system = java.nio.file.Files.createTempDirectory("system-openblas");
        java.nio.file.Path from = java.nio.file.Path.of(bundled).getParent();
        // The bundled BLAS-only build stands in for a system libopenblas.so.0.
        java.nio.file.Files.createSymbolicLink(system.resolve("libopenblas.so.0"), from.resolve("libopenblas_nolapack.so.0"));
        for (String name : new String[] {"libgfortran.so.5", "libquadmath.so.0", "libgcc_s.so.1"}) {
            java.nio.file.Files.createSymbolicLink(system.resolve(name), from.resolve(name));
        }
        ProcessBuilder probe = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), Probe.class.getName())
                .redirectErrorStream(true);
        probe.environment().put("LD_LIBRARY_PATH", system.toString());
        probe.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process process = probe.start();
        String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), out);
        assertTrue(out.contains("source=the system's OpenBLAS, " + system.resolve("libopenblas.so.0")), out);
        assertTrue(out.contains("blas=dev.ludovic.netlib.blas.JNIBLAS"), out);
    }
}
