package io.sparkprop.core.io;

/**
 * The data ends before the length the model file declares in its header (or, for very short data,
 * before the end of the 20-byte header itself): an interrupted copy or write.
 */
public class TruncatedModelException extends ModelFormatException {

    private final long expectedLength;
    private final long actualLength;

    public TruncatedModelException(String message, long expectedLength, long actualLength) {
        super(message);
        this.expectedLength = expectedLength;
        this.actualLength = actualLength;
    }

    /** The number of bytes the file should have had (the header length while the header is incomplete). */
    public long expectedLength() {
        return expectedLength;
    }

    /** The number of bytes there were. */
    public long actualLength() {
        return actualLength;
    }
}
