package io.sparkprop.spark.data;

/**
 * A row of a DataFrame that cannot be trained on or evaluated (a wrong-width or non-finite features
 * vector, a label out of range, a negative weight), thrown by the task that reads it. The message
 * names the row, its partition, the column, what was expected and what was found. Spark wraps it in
 * a {@code SparkException} on the driver; {@link #in} finds it again so that the estimators can
 * report it as the {@code IllegalArgumentException} it is.
 */
public final class BadRowException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public BadRowException(String message) {
        super(message);
    }

    /** The first {@code BadRowException} in {@code e}'s cause chain, or {@code null}. */
    public static BadRowException in(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BadRowException bad) {
                return bad;
            }
        }
        return null;
    }
}
