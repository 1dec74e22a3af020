package io.sparkprop.spark.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The end-of-training line counts epochs in English: "Trained 1 epoch", not "Trained 1 epochs". */
class EpochCountTest {

    @Test
    void oneEpochIsSingular() {
        assertEquals("1 epoch", TrainingSession.epochs(1));
        assertEquals("2 epochs", TrainingSession.epochs(2));
        assertEquals("0 epochs", TrainingSession.epochs(0));
    }
}
