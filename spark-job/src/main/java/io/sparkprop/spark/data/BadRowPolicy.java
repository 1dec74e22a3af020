package io.sparkprop.spark.data;

/** What to do with a row that cannot be used (malformed, wrong width, non-finite, label out of range). */
public enum BadRowPolicy {
    /** Stop with an error naming the file and row. */
    FAIL,
    /** Drop the row, count it, and report the count (and the first few reasons) in the log. */
    SKIP
}
