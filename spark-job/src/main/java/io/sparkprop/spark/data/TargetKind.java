package io.sparkprop.spark.data;

import java.util.Locale;

/**
 * How a row's label becomes the network's target vector of {@code numOutputs} values.
 */
public enum TargetKind {
    /** An integer class index in {@code [0, numOutputs)}, one-hot encoded (softmax classification). */
    CLASS_INDEX,
    /** A 0/1 vector of {@code numOutputs} independent labels (multi-label sigmoid outputs). */
    MULTI_LABEL,
    /** {@code numOutputs} real values (regression with MSE). */
    REGRESSION;

    public String key() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
