package io.sparkprop.core.io;

import java.io.IOException;

/**
 * The bytes given to {@link ModelCodec} are not a valid model file: wrong magic, unsupported
 * version, wrong length, checksum mismatch or an inconsistent body. The subclasses name the first
 * three kinds of failure so a caller can tell "this is not a model" and "this model is from a newer
 * release" from "this model is damaged"; a plain {@code ModelFormatException} is a structural
 * problem, usually with the {@link #getCause() cause} that the parser hit.
 *
 * <p>It is an {@link IOException} because it comes out of reading a stream, next to the stream's own
 * I/O errors; it is never thrown for a bad argument (those are {@link IllegalArgumentException}).
 */
public class ModelFormatException extends IOException {

    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
