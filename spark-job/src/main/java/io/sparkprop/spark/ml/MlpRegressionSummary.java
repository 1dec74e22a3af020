package io.sparkprop.spark.ml;

import org.apache.spark.mllib.evaluation.RegressionMetrics;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import scala.Tuple3;

/**
 * The regression metrics of an {@link MlpRegressionModel} on a dataset, with the names and
 * meaning of MLlib's {@code LinearRegressionSummary}: {@code rootMeanSquaredError},
 * {@code meanSquaredError}, {@code meanAbsoluteError}, {@code r2}, {@code explainedVariance},
 * {@code numInstances}, {@code residuals} and the {@code predictions} they come from. MLlib's
 * {@code RegressionMetrics} computes them from {@code (prediction, label, weight)} when one is first
 * asked for (one pass; rows of weight 1 when {@code weightCol} is empty), as MLlib's summaries do.
 * {@code r2} is {@code 1 - SS_res / SS_tot} about the label's mean.
 */
public class MlpRegressionSummary implements org.apache.spark.ml.util.Summary, java.io.Serializable {

    private static final long serialVersionUID = 1L;
    private final transient Dataset<Row> predictions;
    private final String predictionCol;
    private final String labelCol;
    private final String weightCol;
    private transient RegressionMetrics metrics;

    MlpRegressionSummary(Dataset<Row> predictions, String predictionCol, String labelCol, String weightCol) {
        this.predictions = predictions;
        this.predictionCol = predictionCol;
        this.labelCol = labelCol;
        this.weightCol = weightCol;
    }

    /** The dataset with the model's {@code prediction} column. */
    public Dataset<Row> predictions() {
        return predictions;
    }

    public String predictionCol() {
        return predictionCol;
    }

    public String labelCol() {
        return labelCol;
    }

    /** The sample weight column, or empty when every row weighs 1. */
    public String weightCol() {
        return weightCol;
    }

    /** {@code sqrt(Σ w (label - prediction)² / Σ w)}, in the label's unit. */
    public double rootMeanSquaredError() {
        return metrics().rootMeanSquaredError();
    }

    /** {@code Σ w (label - prediction)² / Σ w}. */
    public double meanSquaredError() {
        return metrics().meanSquaredError();
    }

    /** {@code Σ w |label - prediction| / Σ w}. */
    public double meanAbsoluteError() {
        return metrics().meanAbsoluteError();
    }

    /** The coefficient of determination {@code 1 - SS_res / SS_tot}. */
    public double r2() {
        return metrics().r2();
    }

    /** {@code Σ w (prediction - mean(label))² / Σ w}, as MLlib defines it. */
    public double explainedVariance() {
        return metrics().explainedVariance();
    }

    /** The number of rows. */
    public long numInstances() {
        return metrics().count();
    }

    /** {@code label - prediction} per row, in a column {@code residuals}. */
    public Dataset<Row> residuals() {
        return predictions.select(functions.col(labelCol).cast(DataTypes.DoubleType)
                .minus(functions.col(predictionCol)).as("residuals"));
    }

    private synchronized RegressionMetrics metrics() {
        if (metrics == null) {
            Column weight = weightCol.isEmpty() ? functions.lit(1.0)
                    : functions.col(weightCol).cast(DataTypes.DoubleType);
            metrics = new RegressionMetrics(predictions.select(functions.col(predictionCol),
                    functions.col(labelCol).cast(DataTypes.DoubleType), weight).toJavaRDD()
                    .map(row -> new Tuple3<>(row.getDouble(0), row.getDouble(1), row.getDouble(2))).rdd(), false);
        }
        return metrics;
    }
}
