package io.sparkprop.spark.train;

import java.nio.file.Path;

/** FaultPolicyTest's CSV writer for tests in other packages. */
public final class FaultPolicyTestAccess {

    private FaultPolicyTestAccess() {
    }

    public static Path writeCsv(Path file, int rows, long seed) throws Exception {
        return FaultPolicyTest.writeCsv(file, rows, seed);
    }
}
