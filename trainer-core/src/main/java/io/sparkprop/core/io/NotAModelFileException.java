package io.sparkprop.core.io;

/**
 * The data does not start with the model file magic {@code "SPRPMODL"}: it is some other file, an
 * empty file, or fewer than 8 bytes. The message shows the bytes that were found.
 */
public class NotAModelFileException extends ModelFormatException {

    public NotAModelFileException(String message) {
        super(message);
    }
}
