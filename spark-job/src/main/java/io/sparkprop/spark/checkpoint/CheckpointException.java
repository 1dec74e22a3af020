package io.sparkprop.spark.checkpoint;

import java.io.IOException;

/** A checkpoint that is missing, incomplete or corrupt; the message names the file and what is wrong. */
public class CheckpointException extends IOException {

    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
