package io.sparkprop.spark.ml;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * {@link MlpRegressionSummary} on the dataset a model was fitted on, with the training's
 * {@code objectiveHistory} and {@code totalIterations}, as MLlib's training summaries have them.
 */
public final class MlpRegressionTrainingSummary extends MlpRegressionSummary {

    private static final long serialVersionUID = 1L;
    private final double[] objectiveHistory;

    MlpRegressionTrainingSummary(Dataset<Row> predictions, String predictionCol, String labelCol, String weightCol,
                                 double[] objectiveHistory) {
        super(predictions, predictionCol, labelCol, weightCol);
        this.objectiveHistory = objectiveHistory.clone();
    }

    /**
     * {@code (totalIterations + 1)}, a copy: the objective at the starting weights, then each
     * epoch's mean training loss (the L2 term included), as MLlib's training summaries count.
     */
    public double[] objectiveHistory() {
        return objectiveHistory.clone();
    }

    /** The number of epochs trained (those of a resumed run included). */
    public int totalIterations() {
        return objectiveHistory.length - 1;
    }
}
