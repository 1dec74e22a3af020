package io.sparkprop.core;

import dev.ludovic.netlib.blas.BLAS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide BLAS used by every kernel: {@code dev.ludovic.netlib}'s best available
 * implementation, the same choice Spark makes (native OpenBLAS through JNI when
 * {@code libopenblas} is installed, else the JDK Vector API when
 * {@code --add-modules=jdk.incubator.vector} is given, else pure Java). The choice is logged once.
 *
 * <p>All BLAS calls take column-major matrices. Our matrices are row-major (samples are rows), so a
 * row-major {@code (r, c)} matrix is passed as the column-major {@code (c, r)} matrix it also is;
 * each call site states the shapes.
 */
public final class Blas {

    private static final Logger LOG = LoggerFactory.getLogger(Blas.class);
    private static final BLAS INSTANCE = load();

    private Blas() {
    }

    /** The BLAS instance. */
    public static BLAS get() {
        return INSTANCE;
    }

    /** The implementation class in use, for logs and benchmark reports. */
    public static String implementationName() {
        return INSTANCE.getClass().getName();
    }

    private static BLAS load() {
        BLAS blas = BLAS.getInstance();
        LOG.info("BLAS implementation: {}", blas.getClass().getName());
        return blas;
    }
}
