package io.sparkprop.core.io;

/**
 * The model file has the declared length but its trailing CRC32C does not match its contents:
 * the bytes were damaged in storage or transfer.
 */
public class ChecksumMismatchException extends ModelFormatException {

    private final int expectedChecksum;
    private final int computedChecksum;

    public ChecksumMismatchException(String message, int expectedChecksum, int computedChecksum) {
        super(message);
        this.expectedChecksum = expectedChecksum;
        this.computedChecksum = computedChecksum;
    }

    /** The CRC32C stored at the end of the file. */
    public int expectedChecksum() {
        return expectedChecksum;
    }

    /** The CRC32C of the bytes that precede it. */
    public int computedChecksum() {
        return computedChecksum;
    }
}
