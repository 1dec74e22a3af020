package io.sparkprop.spark.ml;

/**
 * Hands a Spark ML stage its uid before its superclass constructor runs. Spark's shared params
 * ({@code featuresCol}, {@code labelCol}, …) are Scala trait fields built while the superclass is
 * constructed, and each records {@code parent.uid()} at that moment; a Java subclass cannot set a
 * field before {@code super()}. So the public constructor offers the uid here (in an argument of
 * {@code this(...)}, which runs first), {@code uid()} peeks at it while the superclass is built,
 * and the constructor body takes it back. Per thread, so concurrent constructions do not mix.
 */
final class UidHandoff {

    private static final ThreadLocal<String> PENDING = new ThreadLocal<>();
    private static final UidHandoff TOKEN = new UidHandoff();

    private UidHandoff() {
    }

    /** Called in the {@code this(...)} argument list of the public constructor. */
    static UidHandoff offer(String uid) {
        if (uid == null || uid.isEmpty()) {
            throw new IllegalArgumentException("A Spark ML uid must be non-empty but got '" + uid + "'");
        }
        PENDING.set(uid);
        return TOKEN;
    }

    /** The uid being handed over (during the superclass constructor). */
    static String peek() {
        String uid = PENDING.get();
        if (uid == null) {
            throw new IllegalStateException("uid() called outside a construction with a uid handed over");
        }
        return uid;
    }

    /** Ends the handoff; returns the uid, which must equal {@code seen} if uid() already read it. */
    static String take(String seen) {
        String uid = PENDING.get();
        PENDING.remove();
        if (seen != null && !seen.equals(uid)) {
            throw new IllegalStateException("uid handoff mismatch: " + seen + " vs " + uid);
        }
        return uid;
    }
}
