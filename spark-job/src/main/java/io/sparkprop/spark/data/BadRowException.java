package io.sparkprop.spark.data;

/**
 * Why one row cannot be used, in the words "expected X but found Y", without its location: the
 * reader that knows the file and row adds them, then either fails the load with the located
 * message ({@link BadRowPolicy#FAIL}) or drops the row and counts it ({@link BadRowPolicy#SKIP}).
 *
 * <p>It carries no stack trace: it is a result of parsing, thrown once per bad row, and under
 * SKIP a file with many bad rows would otherwise spend its time filling in traces.
 */
final class BadRowException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    BadRowException(String message) {
        super(message, null, false, false);
    }
}
