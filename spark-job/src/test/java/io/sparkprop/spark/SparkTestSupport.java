package io.sparkprop.spark;

import org.apache.spark.sql.SparkSession;

/**
 * One Spark session in local mode shared by the test classes of a JVM (Surefire runs them one
 * after another), configured as production should be: Kryo with every class registered, and
 * registration required so a missing registration fails the tests.
 */
public final class SparkTestSupport {

    private static SparkSession session;

    private SparkTestSupport() {
    }

    /** The shared session on {@code local[2]}. */
    public static synchronized SparkSession spark() {
        if (session == null) {
            session = builder("local[2]").getOrCreate();
        }
        return session;
    }

    /** A builder with the test configuration; callers may add settings and must stop what they create. */
    public static SparkSession.Builder builder(String master) {
        return SparkSession.builder()
                .master(master)
                .appName("sparkprop-test")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkpropKryoRegistrator.class.getName())
                .config("spark.kryo.registrationRequired", "true");
    }

    /** Stops the shared session, for tests that need a session of their own (only one may run at a time). */
    public static synchronized void stopShared() {
        if (session != null) {
            session.stop();
            session = null;
        }
    }
}
