package io.sparkprop.spark;

import org.apache.spark.sql.SparkSession;

/**
 * One Spark session in local mode shared by the test classes of a JVM (Surefire runs them one
 * after another), configured as production should be: Kryo with every class registered, and
 * registration required so a missing registration fails the tests.
 *
 * <p>With the system property {@code sparkprop.test.serializer=java} (the {@code default-serializer}
 * Surefire execution of the estimator tests) the session is built the ordinary way instead, with
 * Spark's default {@code JavaSerializer}, as a user's session that never heard of Kryo is.
 */
public final class SparkTestSupport {

    /** The system property that selects the serializer of the test sessions: {@code kryo} (default) or {@code java}. */
    public static final String SERIALIZER_PROPERTY = "sparkprop.test.serializer";

    private static SparkSession session;

    private SparkTestSupport() {
    }

    /** The shared session on {@code local[2]}. */
    public static synchronized SparkSession spark() {
        if (session == null) {
            session = builder("local[2]").getOrCreate();
            boolean isKryo = session.sparkContext().conf().get("spark.serializer", "")
                    .equals("org.apache.spark.serializer.KryoSerializer");
            if (isKryo != kryo()) {
                throw new IllegalStateException("The shared test session has spark.serializer="
                        + session.sparkContext().conf().get("spark.serializer", "(unset)") + " but "
                        + SERIALIZER_PROPERTY + "=" + System.getProperty(SERIALIZER_PROPERTY, "kryo"));
            }
        }
        return session;
    }

    /** A builder with the test configuration; callers may add settings and must stop what they create. */
    public static SparkSession.Builder builder(String master) {
        String serializer = System.getProperty(SERIALIZER_PROPERTY, "kryo");
        SparkSession.Builder builder = SparkSession.builder()
                .master(master)
                .appName("sparkprop-test")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1");
        return switch (serializer) {
            case "kryo" -> builder
                    .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                    .config("spark.kryo.registrator", SparkpropKryoRegistrator.class.getName())
                    .config("spark.kryo.registrationRequired", "true");
            case "java" -> builder;
            default -> throw new IllegalArgumentException(SERIALIZER_PROPERTY + " is '" + serializer
                    + "'; expected kryo or java");
        };
    }

    /** Whether the test sessions use Kryo (the default) rather than Spark's default serializer. */
    public static boolean kryo() {
        return System.getProperty(SERIALIZER_PROPERTY, "kryo").equals("kryo");
    }

    /** Stops the shared session, for tests that need a session of their own (only one may run at a time). */
    public static synchronized void stopShared() {
        if (session != null) {
            session.stop();
            session = null;
        }
    }

    /** The messages of {@code e} and of its causes, joined by {@code " | "}: what a user reads of a failed job. */
    public static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}
