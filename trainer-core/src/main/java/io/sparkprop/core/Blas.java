package io.sparkprop.core;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.NativeBLAS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide BLAS used by every kernel: {@code dev.ludovic.netlib}'s best available
 * implementation (Spark's own BLAS library): native OpenBLAS through JNI, from the machine or, on
 * Linux x86-64 without one, the OpenBLAS the job jar carries ({@link NativeBlasLibrary} decides
 * which, once per JVM); else the JDK Vector API when {@code --add-modules=jdk.incubator.vector} is
 * given; else pure Java. One log line says what is in use and how to change it.
 *
 * <p>The system property {@code sparkprop.blas} (or {@link #pin}, in a running JVM) pins the choice: {@code java} (scalar pure Java, the
 * same bits on every machine) or {@code native}; unset or {@code auto}
 * takes the best available. Tests that pin weights bit for bit use {@code java}.
 *
 * <p>All BLAS calls take column-major matrices. Our matrices are row-major (samples are rows), so a
 * row-major {@code (r, c)} matrix is passed as the column-major {@code (c, r)} matrix it also is;
 * each call site states the shapes.
 */
public final class Blas {

    private static final Logger LOG = LoggerFactory.getLogger(Blas.class);
    /** The process's BLAS; replaced only by {@link #use}, between runs. */
    private static volatile BLAS instance = load(System.getProperty("sparkprop.blas", "auto"));

    private Blas() {
    }

    /** The BLAS instance. */
    public static BLAS get() {
        return instance;
    }

    /** The implementation class in use, for logs and benchmark reports. */
    public static String implementationName() {
        return instance.getClass().getName();
    }

    /**
     * Makes {@code name} ({@code auto}, {@code java} or {@code native}, as the system property) the
     * process's BLAS until the returned handle is closed, which brings back the one it replaced.
     * For tests that pin weights bit for bit in a JVM that has already chosen (Spark local mode's
     * executors share it): pin between runs, never while one is computing.
     */
    public static Pinned pin(String name) {
        BLAS previous = instance;
        instance = load(name);
        return new Pinned(previous);
    }

    /** A {@link #pin}: closing it restores the BLAS it replaced. */
    public static final class Pinned implements AutoCloseable {
        private final BLAS previous;

        private Pinned(BLAS previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            instance = previous;
            LOG.info("BLAS implementation: {} (restored)", previous.getClass().getName());
        }
    }

    /**
     * netlib's scalar pure-Java BLAS ({@code Java11BLAS}, package-private there, hence reflection):
     * {@code JavaBLAS.getInstance()} would take the Vector API when it is present.
     */
    private static BLAS scalarJava() {
        try {
            java.lang.reflect.Method get = Class.forName("dev.ludovic.netlib.blas.Java11BLAS").getMethod("getInstance");
            get.setAccessible(true);
            return (BLAS) get.invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Cannot load netlib's pure-Java BLAS for sparkprop.blas=java", e);
        }
    }

    private static BLAS load(String pinned) {
        String nativeSource = pinned.equals("java") ? null : NativeBlasLibrary.prepare();
        BLAS blas = switch (pinned) {
            case "auto" -> BLAS.getInstance();
            case "java" -> scalarJava();
            case "native" -> NativeBLAS.getInstance();
            default -> throw new IllegalArgumentException("System property sparkprop.blas must be auto, java or"
                    + " native but got '" + pinned + "'");
        };
        String line = describe(blas, nativeSource);
        if (blas instanceof NativeBLAS && nativeSource != null && NativeBlasLibrary.machineThreadsUnset()) {
            // The machine's OpenBLAS with as many threads as cores: its dgemm rounds differently from
            // one thread's, so this process's weights differ in the last bits from a run with
            // OPENBLAS_NUM_THREADS=1 (the launcher's, conf/sparkprop.properties' executors').
            LOG.warn("BLAS implementation: {}. Set OPENBLAS_NUM_THREADS=1 in this process's environment for one"
                    + " BLAS thread per task and the same bits as the launcher's and the executors' runs", line);
        } else {
            LOG.info("BLAS implementation: {}", line);
        }
        return blas;
    }

    /** The log line's text: the implementation, where a native one comes from, and how to change it. */
    static String describe(BLAS blas, String nativeSource) {
        String name = blas.getClass().getName();
        boolean isNative = blas instanceof NativeBLAS;
        StringBuilder line = new StringBuilder(name);
        if (isNative && nativeSource != null) {
            line.append(" on ").append(nativeSource);
        } else if (!isNative) {
            line.append(name.endsWith("VectorBLAS") ? " (the JDK's Vector API; no native BLAS loaded)"
                    : " (pure Java; no native BLAS loaded)");
        }
        line.append(". Change it with -Dsparkprop.blas=java (pure Java, the same bits everywhere) or -D")
                .append(NativeBlasLibrary.NATIVE_LIB_PATH).append("=<a libblas.so> (another native BLAS)");
        return line.toString();
    }
}
